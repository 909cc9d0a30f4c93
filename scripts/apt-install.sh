#!/usr/bin/env bash
# apt_install PACKAGE...: installs Debian packages the scripts need, as root on Debian/Ubuntu (a CI machine);
# elsewhere says what to install and fails. Sourced by test-services.sh and validators.sh.
apt_install() {
  (($# == 0)) && return 0
  if [[ $(id -u) -ne 0 ]] || ! command -v apt-get >/dev/null; then
    echo "Missing: $*. Install them (Debian: apt-get install $*) and run again." >&2
    return 1
  fi
  echo "Installing $* with apt-get..." >&2
  apt-get update -qq >/dev/null
  DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends "$@" >/dev/null
}

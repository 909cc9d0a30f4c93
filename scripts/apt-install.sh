#!/usr/bin/env bash
# apt_install PACKAGE...: installs Debian packages the scripts need on Debian/Ubuntu (a CI machine), as root, or
# through sudo when it needs no password (GitHub's Ubuntu runners run jobs as a user with passwordless sudo);
# elsewhere says what to install and fails. Sourced by test-services.sh and validators.sh.
apt_install() {
  (($# == 0)) && return 0
  local as_root=()
  [[ $(id -u) -ne 0 ]] && sudo -n true 2>/dev/null && as_root=(sudo -n)
  if { [[ $(id -u) -ne 0 ]] && ((${#as_root[@]} == 0)); } || ! command -v apt-get >/dev/null; then
    echo "Missing: $*. Install them (Debian: apt-get install $*) and run again." >&2
    return 1
  fi
  echo "Installing $* with ${as_root[*]:+sudo }apt-get..." >&2
  "${as_root[@]}" apt-get update -qq >/dev/null
  "${as_root[@]}" env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends "$@" >/dev/null
}

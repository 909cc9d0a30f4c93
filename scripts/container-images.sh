#!/usr/bin/env bash
# Builds the worker image both ways, under podman with runc, so the tests can run it with the production
# constraints (Worker.Image.Tests). Sourced by test.sh; also usable by hand:
#   source scripts/container-images.sh && build_test_images
#   $PODMAN run --rm --read-only --user 1654 ... "$WORKER_IMAGE_SDK"
#
# Exports:
#   PODMAN                   a wrapper: podman with runc, this machine's containers.conf and storage in the cache
#   WORKER_IMAGE_SDK         the image `dotnet publish -t:PublishContainer` made from Worker.csproj
#   WORKER_IMAGE_DOCKERFILE  the image `podman build -f Worker/Dockerfile .` made
#   WORKER_RUNTIME_IMAGE     the base both were built on (not the chiseled production base: see below)
#
# No registry with Microsoft's images is reachable here, so the base is made on this machine: Debian bookworm
# (debootstrap --variant=minbase, from the mirror apt uses) with libssl3, libgssapi-krb5-2 and ca-certificates,
# plus this machine's .NET runtime (host, Microsoft.NETCore.App and Microsoft.AspNetCore.App), imported as
# localhost/temporal-orders-runtime:<runtime version>. The Dockerfile's build stage runs on the same base with
# the machine's whole .NET SDK (localhost/temporal-orders-sdk:<sdk version>), its CA bundle and NuGet.Config.
# The SDK pulls its base from a registry only, so the runtime image is served for the publish by Debian's
# docker-registry on loopback (plain HTTP), then stopped.
#
# Everything is cached in ${CONTAINER_IMAGES_DIR:-$HOME/.cache/temporal-orders/images}: the bases are made once
# per .NET version, the worker images once per content of the files they are built from (their tag is its hash).
# podman, runc, debootstrap, docker-registry and skopeo are installed with apt-get when missing (root on Debian/Ubuntu).

CONTAINER_IMAGES_DIR="${CONTAINER_IMAGES_DIR:-$HOME/.cache/temporal-orders/images}"

_images_root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
# shellcheck source=scripts/apt-install.sh
source "$_images_root/scripts/apt-install.sh"

_images_install_packages() {
  local packages=()
  command -v podman >/dev/null || packages+=(podman)
  command -v runc >/dev/null || packages+=(runc)
  command -v debootstrap >/dev/null || packages+=(debootstrap)
  [[ -f "$_images_keyring" ]] || packages+=(debian-archive-keyring)
  command -v docker-registry >/dev/null || packages+=(docker-registry)
  # The release's registry steps (scripts/release.sh push-image, pin-digests), tested against that registry.
  command -v skopeo >/dev/null || packages+=(skopeo)
  apt_install "${packages[@]}" || return 1
  # Debian's package starts a registry of its own on :5000; ours runs on a free loopback port when needed.
  if [[ ${#packages[@]} -gt 0 ]] && command -v systemctl >/dev/null; then
    systemctl disable --now docker-registry >/dev/null 2>&1 || true
  fi
}

# crun fails on this kind of machine (setrlimit, then "cgroups in hybrid mode"); runc works once podman's
# default ulimits are off. Storage stays in the cache; run state where podman expects it (a tmpfs).
_images_podman_wrapper() {
  local dir=$CONTAINER_IMAGES_DIR
  mkdir -p "$dir/storage" || return 1
  cat >"$dir/containers.conf" <<'EOF'
[containers]
default_ulimits = []
EOF
  cat >"$dir/podman" <<EOF
#!/bin/sh
CONTAINERS_CONF='$dir/containers.conf' exec podman --runtime runc --root '$dir/storage' \\
  --runroot '${XDG_RUNTIME_DIR:-/run}/temporal-orders-podman' "\$@"
EOF
  chmod +x "$dir/podman"
  PODMAN="$dir/podman"
}

# Debian's archive keys: debootstrap checks the mirror's signed Release file against them and refuses to go on
# without a valid signature (--force-check-gpg), so a mirror reached over plain HTTP cannot hand the base other packages.
_images_keyring=/usr/share/keyrings/debian-archive-keyring.gpg

# The first http(s) mirror in apt's sources, the one debootstrap then uses.
_images_debian_mirror() {
  local mirror
  mirror="$(cat /etc/apt/sources.list /etc/apt/sources.list.d/*.list /etc/apt/sources.list.d/*.sources 2>/dev/null \
    | grep -oE 'https?://[^ ]+/debian/?( |$)' | grep -v security | head -n1 | tr -d ' ')"
  echo "${mirror:-http://deb.debian.org/debian}"
}

# Debian bookworm, minimal, with what the .NET runtime loads: a folder, made once.
_images_rootfs() {
  local rootfs="$CONTAINER_IMAGES_DIR/bookworm-minbase" tmp
  [[ -f "$rootfs/.complete" ]] && return 0
  tmp="$(mktemp -d "$CONTAINER_IMAGES_DIR/.rootfs.XXXXXX")" || return 1
  echo "Making a Debian bookworm base with debootstrap (once, ~30 s)..." >&2
  if ! debootstrap --keyring="$_images_keyring" --force-check-gpg --variant=minbase --include=libssl3,libgssapi-krb5-2,ca-certificates,tzdata \
    bookworm "$tmp/rootfs" "$(_images_debian_mirror)" >"$tmp/debootstrap.log" 2>&1; then
    tail -n 20 "$tmp/debootstrap.log" >&2
    rm -rf "$tmp"
    return 1
  fi
  # What a container never reads: package caches and lists, documentation, locales.
  rm -rf "$tmp/rootfs"/var/cache/apt/* "$tmp/rootfs"/var/lib/apt/lists/* "$tmp/rootfs"/usr/share/{doc,man,info,locale}/*
  # The user the chiseled images run as (uid and gid 1654, "app", home /home/app).
  echo 'app:x:1654:1654::/home/app:/usr/sbin/nologin' >>"$tmp/rootfs/etc/passwd"
  echo 'app:x:1654:' >>"$tmp/rootfs/etc/group"
  mkdir -p "$tmp/rootfs/home/app" && chown 1654:1654 "$tmp/rootfs/home/app"
  touch "$tmp/rootfs/.complete"
  rm -rf "$rootfs" && mv "$tmp/rootfs" "$rootfs"
  local status=$?
  rm -rf "$tmp"
  return "$status"
}

# _images_import IMAGE DOTNET_PARTS... : the rootfs plus the listed parts of this machine's .NET (paths
# relative to its folder) in /usr/share/dotnet, imported as IMAGE unless it exists. Extra files for the image
# are in $_images_extra (a folder laid over the root), extra settings in $_images_changes (podman import --change).
_images_import() {
  local image=$1 dotnet_dir tmp status
  shift
  "$PODMAN" image exists "$image" && return 0
  dotnet_dir="$(dirname "$(readlink -f "$(command -v dotnet)")")"
  tmp="$(mktemp -d "$CONTAINER_IMAGES_DIR/.import.XXXXXX")" || return 1
  echo "Importing $image..." >&2
  # Hard links to the cached root: files laid over it are replaced (--remove-destination), never written through.
  cp -al "$CONTAINER_IMAGES_DIR/bookworm-minbase" "$tmp/root" && rm "$tmp/root/.complete" \
    && mkdir -p "$tmp/root/usr/share/dotnet" \
    && (cd "$dotnet_dir" && cp -a --parents "$@" "$tmp/root/usr/share/dotnet/") \
    && ln -s ../share/dotnet/dotnet "$tmp/root/usr/bin/dotnet" \
    && _images_mount_points "$tmp/root" \
    && if [[ -n "${_images_extra:-}" ]]; then cp -a --remove-destination "$_images_extra/." "$tmp/root/"; fi \
    && tar -C "$tmp/root" -cf "$tmp/image.tar" . \
    && "$PODMAN" import "${_images_changes[@]}" --change 'ENV DOTNET_ROOT=/usr/share/dotnet' \
      --change 'ENV PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin' \
      "$tmp/image.tar" "$image" >/dev/null
  status=$?
  rm -rf "$tmp"
  return "$status"
}

# What the engine adds to a container's root when the image lacks it (a mount point for /etc/hosts, the
# /etc/mtab link): present in the image, a container's `podman diff` shows the worker's own writes only.
_images_mount_points() {
  [[ -e "$1/etc/hosts" ]] || : >"$1/etc/hosts"
  [[ -L "$1/etc/mtab" ]] || ln -sfn /proc/mounts "$1/etc/mtab"
}

_images_bases() {
  local runtime_version sdk_version
  sdk_version="$(dotnet --version)" || return 1
  runtime_version="$(dotnet --list-runtimes | awk '$1 == "Microsoft.NETCore.App" {v = $2} END {print v}')"
  [[ -n "$runtime_version" ]] || { echo "No Microsoft.NETCore.App runtime found (dotnet --list-runtimes)." >&2; return 1; }
  _images_rootfs || return 1

  # Tagged with the .NET version and this script's hash: a change to either makes the bases anew.
  local recipe
  recipe="$(sha256sum <"$_images_root/scripts/container-images.sh" | cut -c1-8)"
  WORKER_RUNTIME_IMAGE="localhost/temporal-orders-runtime:$runtime_version-$recipe"
  _images_extra='' _images_changes=()
  _images_import "$WORKER_RUNTIME_IMAGE" dotnet host \
    "shared/Microsoft.NETCore.App/$runtime_version" "shared/Microsoft.AspNetCore.App/$runtime_version" || return 1

  # The build stage restores from this machine's feeds: its NuGet.Config, its CA bundle (a mirror may sit
  # behind a CA of its own) and its revocation mode, none of which belongs in the Dockerfile.
  _images_build_image="localhost/temporal-orders-sdk:$sdk_version-$recipe"
  local extra
  extra="$(mktemp -d "$CONTAINER_IMAGES_DIR/.extra.XXXXXX")" || return 1
  mkdir -p "$extra/etc/ssl/certs" "$extra/root/.nuget/NuGet" && chmod 755 "$extra" && chmod 700 "$extra/root"
  cp /etc/ssl/certs/ca-certificates.crt "$extra/etc/ssl/certs/" 2>/dev/null || true
  cp "$HOME/.nuget/NuGet/NuGet.Config" "$extra/root/.nuget/NuGet/" 2>/dev/null || true
  # No ICU in the base: the SDK itself runs invariant (the worker is InvariantGlobalization anyway).
  _images_extra=$extra _images_changes=(--change 'ENV DOTNET_CLI_TELEMETRY_OPTOUT=1' --change 'ENV DOTNET_NOLOGO=1'
    --change 'ENV DOTNET_SYSTEM_GLOBALIZATION_INVARIANT=1')
  [[ -n "${NUGET_CERT_REVOCATION_MODE:-}" ]] \
    && _images_changes+=(--change "ENV NUGET_CERT_REVOCATION_MODE=$NUGET_CERT_REVOCATION_MODE")
  _images_import "$_images_build_image" dotnet host shared packs sdk-manifests "sdk/$sdk_version"
  local status=$?
  rm -rf "$extra"
  return "$status"
}

# A hash of everything the worker image is built from: a change to any of it builds the images anew.
_images_inputs_hash() {
  (cd "$_images_root" && find global.json Directory.Build.props Directory.Packages.props nuget.config .dockerignore Worker ServiceDefaults \
      -type f -not -path '*/bin/*' -not -path '*/obj/*' -print0 | sort -z | xargs -0 sha256sum | sha256sum | cut -c1-16)
}

_images_free_port() {
  python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])' 2>/dev/null \
    || echo $((20000 + RANDOM % 20000))
}

# The SDK way: PublishContainer on the runtime base, served by a registry on loopback for the time of the publish.
_images_build_sdk() {
  local image=$1 port dir registry_pid status archive
  dir="$(mktemp -d "$CONTAINER_IMAGES_DIR/.registry.XXXXXX")" || return 1
  port="$(_images_free_port)"
  cat >"$dir/config.yml" <<EOF
version: 0.1
log: {level: error}
storage: {filesystem: {rootdirectory: $dir/data}}
http: {addr: "127.0.0.1:$port"}
EOF
  docker-registry serve "$dir/config.yml" >"$dir/registry.log" 2>&1 &
  registry_pid=$!
  for _ in $(seq 50); do curl -sf "http://127.0.0.1:$port/v2/" >/dev/null && break; sleep 0.1; done
  archive="$dir/worker.tar.gz"
  echo "Building $image with dotnet publish -t:PublishContainer..." >&2
  "$PODMAN" push -q --tls-verify=false "$WORKER_RUNTIME_IMAGE" "127.0.0.1:$port/temporal-orders-runtime:test" \
    && DOTNET_CONTAINER_INSECURE_REGISTRIES="127.0.0.1:$port" dotnet publish "$_images_root/Worker/Worker.csproj" -c Release -t:PublishContainer --nologo -v q \
      -p:ContainerBaseImage="127.0.0.1:$port/temporal-orders-runtime:test" \
      -p:ContainerArchiveOutputPath="$archive" >"$dir/publish.log" 2>&1 \
    && "$PODMAN" load -q -i "$archive" >"$dir/load.log" \
    && "$PODMAN" tag "$(sed -n 's/^Loaded image[^:]*: *//p' "$dir/load.log" | head -n1)" "$image"
  status=$?
  ((status == 0)) || cat "$dir/publish.log" "$dir/load.log" "$dir/registry.log" >&2 2>/dev/null
  kill "$registry_pid" 2>/dev/null
  wait "$registry_pid" 2>/dev/null
  rm -rf "$dir"
  return "$status"
}

# The Dockerfile names its bases on literal FROM lines (Dependabot reads those): the build stage's, then the final
# one's. Each is replaced by this machine's image of the same role under that name (--build-context), never pulled.
_images_build_dockerfile() {
  local image=$1 bases=()
  mapfile -t bases < <(awk 'toupper($1) == "FROM" { print $2 }' "$_images_root/Worker/Dockerfile")
  if ((${#bases[@]} != 2)); then
    echo "Worker/Dockerfile: expected two FROM lines (build, then runtime), found ${#bases[@]}" >&2
    return 1
  fi
  echo "Building $image with podman build -f Worker/Dockerfile..." >&2
  # Docker format: OCI image configs have no HEALTHCHECK (podman drops it with a warning).
  "$PODMAN" build -q --pull=never --format docker --network host -f "$_images_root/Worker/Dockerfile" \
    --build-context "${bases[0]}=container-image://$_images_build_image" \
    --build-context "${bases[1]}=container-image://$WORKER_RUNTIME_IMAGE" \
    -t "$image" "$_images_root" >/dev/null
}

# Removes the images of older builds (other hashes): the cache holds the current four only.
_images_prune() {
  local name
  while read -r name; do
    [[ " $* " == *" $name "* ]] || "$PODMAN" rmi -f "$name" >/dev/null 2>&1
  done < <("$PODMAN" images --format '{{.Repository}}:{{.Tag}}' | grep '^localhost/temporal-orders-')
  "$PODMAN" image prune -f >/dev/null 2>&1
}

build_test_images() {
  _images_install_packages || return 1
  mkdir -p "$CONTAINER_IMAGES_DIR" && _images_podman_wrapper || return 1
  _images_bases || return 1
  local hash
  hash="$( (_images_inputs_hash && echo "$WORKER_RUNTIME_IMAGE $_images_build_image") | sha256sum | cut -c1-16)" || return 1
  WORKER_IMAGE_SDK="localhost/temporal-orders-worker:sdk-$hash"
  WORKER_IMAGE_DOCKERFILE="localhost/temporal-orders-worker:dockerfile-$hash"
  if ! "$PODMAN" image exists "$WORKER_IMAGE_SDK"; then
    _images_build_sdk "$WORKER_IMAGE_SDK" || { echo "dotnet publish -t:PublishContainer failed (above)." >&2; return 1; }
  fi
  if ! "$PODMAN" image exists "$WORKER_IMAGE_DOCKERFILE"; then
    _images_build_dockerfile "$WORKER_IMAGE_DOCKERFILE" || { echo "podman build -f Worker/Dockerfile failed (above)." >&2; return 1; }
  fi
  _images_prune "$WORKER_IMAGE_SDK" "$WORKER_IMAGE_DOCKERFILE" "$WORKER_RUNTIME_IMAGE" "$_images_build_image"
  export PODMAN WORKER_IMAGE_SDK WORKER_IMAGE_DOCKERFILE WORKER_RUNTIME_IMAGE
  echo "Worker images: $WORKER_IMAGE_SDK, $WORKER_IMAGE_DOCKERFILE (on $WORKER_RUNTIME_IMAGE; podman: $PODMAN)" >&2
}

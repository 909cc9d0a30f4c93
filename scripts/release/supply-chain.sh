# shellcheck shell=bash
# Supply-chain steps of scripts/release.sh (sourced by it; it defines fail, version, out_dir, output, login and the
# registry helpers): where a release may come from, the NuGet audit, the scans, the SBOMs, the signatures and the
# attestations (docs/supply-chain.md). Trivy and cosign are not installed here: the workflows install them with
# their maintained actions (aquasecurity/setup-trivy, sigstore/cosign-installer); by hand, install them first.

_need() {
  command -v "$1" >/dev/null || fail "$1 is required for this step: $2"
}

# check-tag: only a version tag on a commit of main releases (MAIN_REF, default origin/main; the workflow fetches
# the whole history). A tag pushed on a branch's commit stops here, before anything is built.
check_tag() {
  local commit main=${MAIN_REF:-origin/main} tag
  tag="v$(version)"
  commit=${GITHUB_SHA:-$(git rev-parse HEAD)}
  git rev-parse --verify --quiet "$main^{commit}" >/dev/null \
    || fail "no $main to check $tag against: fetch it (git fetch origin main) or name it in MAIN_REF"
  if git rev-parse --verify --quiet "refs/tags/$tag^{commit}" >/dev/null; then
    [[ "$(git rev-parse "refs/tags/$tag^{commit}")" == "$(git rev-parse "$commit^{commit}")" ]] \
      || fail "$tag does not point at the commit being released ($commit)"
  fi
  git merge-base --is-ancestor "$commit" "$main" \
    || fail "$tag is on $commit, which is not on $main: release only commits of main"
  echo "$tag: $commit is on $main" >&2
}

# audit: every project's packages, transitive ones included, against the audit source's vulnerability data
# (nuget.config; Directory.Build.props sets the level and makes moderate and above errors). The restore is forced,
# so the audit runs even when nothing changed, and locked. Unreadable vulnerability data (NU1900, NU1905) is said
# loudly and passes, unless AUDIT_REQUIRE_DATA=true (the scheduled audit, which exists only to read it).
audit() {
  local log status=0
  log="$(mktemp)"
  dotnet restore Aspire.sln --locked-mode --force -v n -p:ContinuousIntegrationBuild=true >"$log" 2>&1 || status=$?
  local vulnerable unreadable
  vulnerable="$(grep -oE '(error|warning) NU190[1-4]: [^[]*' "$log" | sort -u || true)"
  unreadable="$(grep -oE 'warning NU190[05]: [^[]*' "$log" | sort -u || true)"
  if ((status != 0)); then
    grep -E ': (error|warning) ' "$log" | sort -u >&2 || tail -n 30 "$log" >&2
    rm -f "$log"
    [[ -n "$vulnerable" ]] && fail "NuGet audit: packages with known vulnerabilities of moderate severity or above (above): update them (Directory.Packages.props)"
    fail "the restore failed (above)"
  fi
  rm -f "$log"
  if [[ -n "$unreadable" ]]; then
    echo "$unreadable" >&2
    local message="NuGet audit: the vulnerability data could not be read (above), so no package was audited"
    [[ "${GITHUB_ACTIONS:-}" == true ]] && echo "::warning title=NuGet audit::$message"
    [[ "${AUDIT_REQUIRE_DATA:-}" == true ]] && fail "$message (AUDIT_REQUIRE_DATA=true)"
    echo "WARNING: $message." >&2
    return 0
  fi
  [[ -n "$vulnerable" ]] && echo "$vulnerable" >&2 # low severity: reported, allowed
  echo "NuGet audit: no package with a known vulnerability of moderate severity or above (transitive packages included)" >&2
}

# scan TARGET [SARIF]: TARGET is an image archive (docker-archive tar) or a reference. The gate: fixable HIGH and
# CRITICAL vulnerabilities, and secrets, fail; an unfixable one cannot be acted on and is reported only. SARIF gets
# every finding, for code scanning, under a category of its own (trivy:<image reference or archive name>), so that
# the scans of several images upload side by side. Exceptions go in .trivyignore, each with its reason.
scan() {
  local target=${1:-} sarif=${2:-} source=() category
  [[ -n "$target" ]] || fail "scan needs an image archive or reference"
  _need trivy "https://trivy.dev (the workflows install it with aquasecurity/setup-trivy)"
  if [[ -f "$target" ]]; then source=(--input "$target") category="trivy:$(basename "$target" .tar)"; else source=("$target") category="trivy:$target"; fi
  if [[ -n "$sarif" ]]; then
    mkdir -p "$(dirname "$sarif")"
    trivy image --quiet --scanners vuln,secret --format sarif --output "$sarif" "${source[@]}"
    # Code scanning reads a run's category from automationDetails.id, up to its last "/".
    CATEGORY="$category/" perl -MJSON::PP -0777 -i -pe \
      'my $json = JSON::PP->new->canonical; my $sarif = $json->decode($_);
       $_->{automationDetails} = { id => $ENV{CATEGORY} } for @{ $sarif->{runs} || [] };
       $_ = $json->encode($sarif)' "$sarif" || fail "$sarif is not the SARIF Trivy should have written"
  fi
  trivy image --quiet --scanners vuln,secret --severity HIGH,CRITICAL --ignore-unfixed --exit-code 1 \
    --format table "${source[@]}" \
    || fail "$target has fixable HIGH or CRITICAL vulnerabilities or secrets (above): update the base image or the package, or justify an exception in .trivyignore"
  echo "$target: no fixable HIGH or CRITICAL vulnerability, no secret" >&2
}

# sbom OUT: CycloneDX JSON into OUT/assets: the worker's NuGet packages as restored (locked) for it, with their
# hashes and licences, and its image (operating-system packages and the .NET assemblies, from the archive).
sbom() {
  local out version archive
  out="$(out_dir "${1:-}")"
  version="$(version)"
  archive="$out/image/$MODEL_IMAGE.tar"
  mkdir -p "$out/assets"
  # The packages as the last restore resolved them (the image step's, locked): the SBOM restores nothing itself.
  [[ -f Worker/obj/project.assets.json ]] || fail "Worker is not restored: run 'image $out' (or dotnet restore --locked-mode) first"
  dotnet tool restore >&2 # .config/dotnet-tools.json: the CycloneDX tool at its pinned version
  dotnet CycloneDX Worker/Worker.csproj --disable-package-restore -F Json -o "$out/assets" -fn "$MODEL_IMAGE-$version.dotnet.cdx.json" \
    --set-name "$MODEL_IMAGE" --set-version "$version" --set-type Application >&2 \
    || fail "the CycloneDX dotnet tool failed (above)"
  [[ -f "$archive" ]] || fail "no $archive for the image's SBOM: run 'image $out' first"
  _need trivy "https://trivy.dev (the workflows install it with aquasecurity/setup-trivy)"
  trivy image --quiet --format cyclonedx --output "$out/assets/$MODEL_IMAGE-$version.image.cdx.json" --input "$archive" \
    || fail "trivy could not describe $archive"
  ls -l "$out"/assets/*.cdx.json >&2
}

# third-party-images: every image deploy/ runs but the worker, at its pinned tag, as a JSON array (one line), for
# the scheduled scan's matrix.
third_party_images() {
  local files=() json
  mapfile -t files < <(find deploy/compose deploy/kubernetes deploy/helm -name '*.yaml' | LC_ALL=C sort)
  json="$(scripts/release/image-references.pl list "${files[@]}" | grep -v "/$MODEL_IMAGE:" \
    | awk 'BEGIN { printf "[" } { printf "%s\"%s\"", (NR > 1 ? "," : ""), $0 } END { print "]" }')"
  [[ "$json" != "[]" ]] || fail "no image found in deploy/"
  output images "$json"
  echo "$json"
}

# cosign's options for a signature pushed next to REFERENCE: plain HTTP on loopback.
_cosign_options() {
  _cosign_options=(--yes)
  if _loopback "$(_registry_of "$1")"; then _cosign_options+=(--allow-insecure-registry --allow-http-registry); fi
  return 0
}

# sign OUT: keyless (Sigstore: a certificate for the workflow's GitHub OIDC identity, logged in Rekor), each by the
# digest push-image and push-chart recorded: what was pushed, never whatever a tag names by now.
sign() {
  local out reference
  out="$(out_dir "${1:-}")"
  _need cosign "https://docs.sigstore.dev (the release workflow installs it with sigstore/cosign-installer)"
  login
  for kind in image chart; do
    reference="$(_recorded "$out" "$kind")"
    _cosign_options "$reference"
    echo "Signing $reference..." >&2
    DOCKER_CONFIG="$RELEASE_AUTH_DIR" cosign sign "${_cosign_options[@]}" "$reference" >&2 || fail "signing $reference failed"
  done
}

# attest OUT: the image's CycloneDX SBOM as a signed in-toto attestation stored beside the image (cosign
# verify-attestation --type cyclonedx reads it back), by digest.
attest() {
  local out reference predicate
  out="$(out_dir "${1:-}")"
  predicate="$out/assets/$MODEL_IMAGE-$(version).image.cdx.json"
  [[ -f "$predicate" ]] || fail "no $predicate: run 'sbom $out' first"
  _need cosign "https://docs.sigstore.dev (the release workflow installs it with sigstore/cosign-installer)"
  login
  reference="$(_recorded "$out" image)"
  _cosign_options "$reference"
  echo "Attesting the SBOM of $reference..." >&2
  DOCKER_CONFIG="$RELEASE_AUTH_DIR" cosign attest "${_cosign_options[@]}" --type cyclonedx --predicate "$predicate" "$reference" >&2 \
    || fail "attesting $reference failed"
}

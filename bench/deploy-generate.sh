#!/usr/bin/env bash
# Time to generate all three deployment outputs (Compose, Kustomize, Helm) from the AppHost model, next to Aspire's
# own manifest publisher on the same AppHost, in one run: both are whole `dotnet AppHost.dll` processes (start-up
# included, as users run them), alternated run by run so machine noise hits both alike. Median of each; ratio last
# (target <= 2).
#   bench/deploy-generate.sh [runs]     (default 9)
set -euo pipefail
cd "$(dirname "$0")/.."
source bench/lib.sh
runs="${1:-9}"

dotnet build AppHost/AppHost.csproj -c Release --nologo -v q >/dev/null
apphost="$PWD/AppHost/bin/Release/net10.0/AppHost.dll"
out="$(mktemp -d)"
trap 'rm -rf "$out"' EXIT

# Prints the milliseconds one run of the AppHost with the given arguments takes (failing the script if it fails).
timed() {
  local start end
  start=$(date +%s%N)
  (cd AppHost && dotnet "$apphost" "$@" >"$out/log" 2>&1) || { cat "$out/log" >&2; exit 1; }
  end=$(date +%s%N)
  echo $(((end - start) / 1000000))
}


generate=() manifest=()
timed --operation publish --step deployment-artifacts --output-path "$out/deploy" >/dev/null # warm the file cache
for ((i = 0; i < runs; i++)); do
  generate+=("$(timed --operation publish --step deployment-artifacts --output-path "$out/deploy")")
  manifest+=("$(timed --publisher manifest --output-path "$out/manifest.json")")
done
files=$(find "$out/deploy" -type f | wc -l)
g=$(median "${generate[@]}")
m=$(median "${manifest[@]}")
echo "runs: $runs (median; whole AppHost process, start-up included); $files files: compose, kubernetes, helm"
report_header
report_row "deployment artifacts" "$g" "Aspire manifest" "$m" ms "<=" 2

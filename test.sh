#!/usr/bin/env bash
# The one test command: starts real PostgreSQL and Redis on loopback, installs the validators the deployment
# artifact tests run (docker-compose, helm 3 and 4, kubectl, validate-crds, validate-compose, lint-workflows,
# dockerfile-utils: scripts/validators.sh, cached after the first run), builds the worker image both ways under
# podman (scripts/container-images.sh: a Debian base made once, the images once per change of their sources), runs
# every test project, stops the servers, and prints the totals of all projects as one line: "N passed, N failed, N skipped".
set -uo pipefail
cd "$(dirname "$0")" || exit 1
source scripts/test-services.sh
source scripts/validators.sh
source scripts/container-images.sh

trap stop_test_services EXIT
start_test_services || exit 1
install_validators || exit 1
build_test_images || exit 1

log="$(mktemp)"
dotnet test Aspire.sln --nologo "$@" 2>&1 | tee "$log"
status=${PIPESTATUS[0]}

# VSTest prints one summary per project: "Passed!  - Failed: 0, Passed: 12, Skipped: 0, Total: 12, ...".
awk '/ - Failed: *[0-9]+, Passed: *[0-9]+, Skipped: *[0-9]+/ {
       gsub(/,/, ""); for (i = 1; i <= NF; i++) {
         if ($i == "Failed:") f += $(i+1); if ($i == "Passed:") p += $(i+1); if ($i == "Skipped:") s += $(i+1) } }
     END { printf "%d passed, %d failed, %d skipped\n", p, f, s }' "$log"
rm -f "$log"
exit "$status"

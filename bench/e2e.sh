#!/usr/bin/env bash
# Orders per second and p50/p95 latency end to end (API -> Temporal test server -> worker -> PostgreSQL and
# Redis) at 1, 8 and 64 concurrent orders, next to a null workflow on the same worker and server, in one run.
# The cost of an order in null workflows comes last (targets: <= 4.5 at 64 concurrent, <= 8 at 1); the worker logs to a file.
#   bench/e2e.sh [workflows per level]   (default 256)
# With --codec, the same orders with payload encryption on (figure) and off (anchor), side by side in one run; the last
# column is the on/off throughput (target: >= 0.90, encryption costing at most 10%).
#   bench/e2e.sh --codec [orders per level] [levels, e.g. 1,8,64]
set -euo pipefail
cd "$(dirname "$0")/.."
source scripts/test-services.sh
trap stop_test_services EXIT
start_test_services >/dev/null
echo "Building (Release)..."
build_log="$(mktemp)"
dotnet build -c Release bench/EndToEnd/EndToEnd.csproj --nologo -v q >"$build_log" 2>&1 || { cat "$build_log" >&2; exit 1; }
rm -f "$build_log"
dotnet run -c Release --no-build --project bench/EndToEnd -- "$@"

#!/usr/bin/env bash
# Time from AppHost start to "worker healthy" in process mode (PostgreSQL, Redis and the Temporal test server
# started by the AppHost as local processes) next to existing-infrastructure mode (the same servers already
# running, given as connection strings), alternated run by run in one run of this script. Process mode keeps its
# data between runs; one untimed run first creates it, as a developer's first start does once.
#   bench/process-mode-start.sh [runs]   (default 5; target ratio <= 1.5)
set -euo pipefail
cd "$(dirname "$0")/.."
runs="${1:-5}"
source scripts/test-services.sh
source bench/lib.sh
trap 'kill "${temporal_pid:-0}" 2>/dev/null; rm -rf "${state:-/nonexistent}"; stop_test_services' EXIT
start_test_services >/dev/null

dotnet build AppHost -c Release --nologo -v q >/dev/null
temporal_port=$((20000 + RANDOM % 20000))
dotnet TemporalTestServer/bin/Release/net10.0/TemporalTestServer.dll --port "$temporal_port" >/dev/null &
temporal_pid=$!
state="$(mktemp -d)"; chmod 755 "$state" # the postgres user enters it when this runs as root
db="$TEST_POSTGRES_CONNECTION;Database=appdb"
db="${db/Database=postgres;/}"

now_ms() { echo $(( $(date +%s%N) / 1000000 )); }
run() { # process|existing; prints ms from start to the worker's first healthy /health
  while curl -s -o /dev/null http://localhost:5080/alive; do sleep 0.1; done # the previous run's worker is gone
  local port=$((20000 + RANDOM % 20000)) start pid
  local -a settings=(Stack__Mode=processes "Stack__StateDirectory=$state")
  [[ $1 == existing ]] && settings=(ConnectionStrings__appdb="$db" ConnectionStrings__redis="$TEST_REDIS_CONNECTION"
    ConnectionStrings__temporal="127.0.0.1:$temporal_port")
  start=$(now_ms)
  env "${settings[@]}" 'Parameters__api-key=bench' 'Parameters__postgres-password=bench-password' Worker__Replicas=1 \
    ASPIRE_ALLOW_UNSECURED_TRANSPORT=true ASPNETCORE_URLS="http://127.0.0.1:$((port + 1))" \
    ASPIRE_DASHBOARD_OTLP_HTTP_ENDPOINT_URL="http://127.0.0.1:$((port + 2))" \
    ASPIRE_RESOURCE_SERVICE_ENDPOINT_URL="http://127.0.0.1:$((port + 3))" \
    bash -c 'cd AppHost && exec dotnet bin/Release/net10.0/AppHost.dll' >/dev/null 2>&1 &
  pid=$!
  until curl -sf http://localhost:5080/health >/dev/null 2>&1; do kill -0 "$pid" 2>/dev/null || { echo "AppHost exited" >&2; return 1; }; sleep 0.05; done
  echo $(( $(now_ms) - start ))
  kill -TERM "$pid"; wait "$pid" 2>/dev/null || true
}

run process >/dev/null # creates the data directory
process_ms=(); existing_ms=()
for _ in $(seq "$runs"); do
  process_ms+=("$(run process)")
  existing_ms+=("$(run existing)")
done
p=$(median "${process_ms[@]}"); e=$(median "${existing_ms[@]}")
echo "runs: $runs (medians)"
report_header
report_row "process mode: start to worker healthy" "$p" "existing infrastructure" "$e" ms "<=" 1.5

#!/usr/bin/env bash
# Time from start to "worker healthy" for the AppHost in existing-infrastructure mode (local PostgreSQL and
# Redis, the Temporal test server) next to the worker alone started the same way, in one run.
# Both are run from their Release builds; "healthy" is the first 200 on the worker's /health.
#   bench/apphost-start.sh [runs]   (default 3; target ratio <= 4)
set -euo pipefail
cd "$(dirname "$0")/.."
runs="${1:-3}"
source scripts/test-services.sh
trap 'kill "${temporal_pid:-0}" 2>/dev/null; stop_test_services' EXIT
start_test_services >/dev/null

dotnet build AppHost -c Release --nologo -v q >/dev/null
dotnet build TemporalTestServer -c Release --nologo -v q >/dev/null
temporal_port=$((20000 + RANDOM % 20000))
dotnet TemporalTestServer/bin/Release/net10.0/TemporalTestServer.dll --port "$temporal_port" >/dev/null &
temporal_pid=$!
sleep 2

db="$TEST_POSTGRES_CONNECTION;Database=appdb"
db="${db/Database=postgres;/}"
now_ms() { echo $(( $(date +%s%N) / 1000000 )); }
wait_healthy() { # url pid
  until curl -sf "$1" >/dev/null 2>&1; do kill -0 "$2" 2>/dev/null || return 1; sleep 0.05; done
}

apphost_ms=(); worker_ms=()
for _ in $(seq "$runs"); do
  port=$((20000 + RANDOM % 20000))
  start=$(now_ms)
  env ConnectionStrings__appdb="$db" ConnectionStrings__redis="$TEST_REDIS_CONNECTION" \
    ConnectionStrings__temporal="127.0.0.1:$temporal_port" 'Parameters__api-key=bench' Worker__Replicas=1 \
    ASPIRE_ALLOW_UNSECURED_TRANSPORT=true ASPNETCORE_URLS="http://127.0.0.1:$((port + 1))" \
    ASPIRE_DASHBOARD_OTLP_HTTP_ENDPOINT_URL="http://127.0.0.1:$((port + 2))" \
    ASPIRE_RESOURCE_SERVICE_ENDPOINT_URL="http://127.0.0.1:$((port + 3))" \
    dotnet AppHost/bin/Release/net10.0/AppHost.dll >/dev/null 2>&1 &
  pid=$!
  wait_healthy "http://localhost:5080/health" "$pid"
  apphost_ms+=($(( $(now_ms) - start )))
  kill -TERM "$pid"; wait "$pid" 2>/dev/null || true

  start=$(now_ms)
  env ConnectionStrings__appdb="$db" ConnectionStrings__redis="$TEST_REDIS_CONNECTION" \
    Temporal__Address="127.0.0.1:$temporal_port" Api__Keys=bench ASPNETCORE_URLS="http://127.0.0.1:$port" \
    dotnet Worker/bin/Release/net10.0/Worker.dll >/dev/null 2>&1 &
  pid=$!
  wait_healthy "http://127.0.0.1:$port/health" "$pid"
  worker_ms+=($(( $(now_ms) - start )))
  kill -TERM "$pid"; wait "$pid" 2>/dev/null || true
done

median() { printf '%s\n' "$@" | sort -n | awk '{a[NR]=$1} END {print (NR % 2) ? a[(NR+1)/2] : (a[NR/2] + a[NR/2+1]) / 2}'; }
a=$(median "${apphost_ms[@]}"); w=$(median "${worker_ms[@]}")
awk -v a="$a" -v w="$w" -v r="$runs" 'BEGIN { printf "runs: %d (medians)\nstart to worker healthy: AppHost %d ms, worker alone %d ms, ratio %.2f (target <= 4)\n", r, a, w, a / w }'

#!/usr/bin/env bash
# Time from start to "worker healthy" for the AppHost in existing-infrastructure mode (local PostgreSQL and
# Redis, the Temporal test server) next to the worker alone started the same way, in one run.
# Both are run from their Release builds; "healthy" is the first 200 on the worker's /health.
#
# Aspire's orchestrator (DCP) serves its API over TLS. With a trusted ASP.NET developer certificate
# (dotnet dev-certs https --trust) it uses that; without one it generates a new key on every start, which
# takes 1.5-7 s of CPU. The AppHost is timed both ways when a trusted certificate exists, else only the second.
#   bench/apphost-start.sh [runs]   (default 5; target ratio <= 3)
set -euo pipefail
cd "$(dirname "$0")/.."
runs="${1:-5}"
source scripts/test-services.sh
source bench/lib.sh
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
log=$(mktemp)
now_ms() { echo $(( $(date +%s%N) / 1000000 )); }
wait_healthy() { # url pid
  until curl -sf "$1" >/dev/null 2>&1; do kill -0 "$2" 2>/dev/null || return 1; sleep 0.05; done
}
# The AppHost's worker is stopped by DCP after the AppHost exits; the next run must not find it still serving.
wait_port_free() { while curl -s -o /dev/null "http://localhost:$1/alive"; do sleep 0.1; done; }

apphost_run() { # extra environment (KEY=VALUE or empty); prints ms
  wait_port_free 5080
  local port=$((20000 + RANDOM % 20000)) start pid
  start=$(now_ms)
  env ${1:+"$1"} ConnectionStrings__appdb="$db" ConnectionStrings__redis="$TEST_REDIS_CONNECTION" \
    ConnectionStrings__temporal="127.0.0.1:$temporal_port" 'Parameters__api-key=bench' Worker__Replicas=1 \
    ASPIRE_ALLOW_UNSECURED_TRANSPORT=true ASPNETCORE_URLS="http://127.0.0.1:$((port + 1))" \
    ASPIRE_DASHBOARD_OTLP_HTTP_ENDPOINT_URL="http://127.0.0.1:$((port + 2))" \
    ASPIRE_RESOURCE_SERVICE_ENDPOINT_URL="http://127.0.0.1:$((port + 3))" \
    Logging__LogLevel__Aspire.Hosting.Dcp.DcpHost=Information \
    bash -c 'cd AppHost && exec dotnet bin/Release/net10.0/AppHost.dll' >"$log" 2>&1 & # in AppHost/, as dotnet run starts it
  pid=$!
  wait_healthy "http://localhost:5080/health" "$pid"
  echo $(( $(now_ms) - start ))
  kill -TERM "$pid"; wait "$pid" 2>/dev/null || true
}

worker_run() { # prints ms
  local port=$((20000 + RANDOM % 20000)) start pid
  start=$(now_ms)
  env ConnectionStrings__appdb="$db" ConnectionStrings__redis="$TEST_REDIS_CONNECTION" \
    Temporal__Address="127.0.0.1:$temporal_port" Api__Keys=bench ASPNETCORE_URLS="http://127.0.0.1:$port" \
    bash -c 'cd Worker && exec dotnet bin/Release/net10.0/Worker.dll' >/dev/null 2>&1 & # where the AppHost starts it
  pid=$!
  wait_healthy "http://127.0.0.1:$port/health" "$pid"
  echo $(( $(now_ms) - start ))
  kill -TERM "$pid"; wait "$pid" 2>/dev/null || true
}

devcert_ms=(); ownkey_ms=(); worker_ms=()
for _ in $(seq "$runs"); do
  ms=$(apphost_run "")
  if grep -q -- '--tls-cert-file' "$log"; then
    devcert_ms+=("$ms")
    ownkey_ms+=("$(apphost_run ASPIRE_DCP_USE_DEVELOPER_CERTIFICATE=false)")
  else
    ownkey_ms+=("$ms")
  fi
  worker_ms+=("$(worker_run)")
done
rm -f "$log"

w=$(median "${worker_ms[@]}")
echo "runs: $runs (medians)"
if ((${#devcert_ms[@]} == 0)); then
  echo "AppHost with DCP on the trusted developer certificate: not measured (none trusted; dotnet dev-certs https --trust)"
fi
report_header
if ((${#devcert_ms[@]})); then
  report_row "AppHost to worker healthy (developer cert)" "$(median "${devcert_ms[@]}")" "the worker alone" "$w" ms "<=" 3
fi
report_row "AppHost to worker healthy (DCP's own key)" "$(median "${ownkey_ms[@]}")" "the worker alone" "$w" ms "<=" 3

#!/usr/bin/env bash
# A burst of orders against two worker replicas, as the AppHost runs them, on a PostgreSQL with its default
# max_connections (100): what overload does to the API. Each order is POSTed once, <concurrency> at a time (clients
# that do not retry), then every accepted order is followed until it ends. Prints a table: accepted/s, answers by
# status, Retry-After on refusals, p50/p99 of accepted POSTs, the time until every accepted order ended and how.
# Target at 200 concurrent: no 5xx other than 503, Retry-After on every 429/503, every accepted order ends.
#   bench/load.sh [orders] [concurrency]     (default 2000, 200)
# The workers' logs go to files under bench/results/, whose folder is printed.
set -euo pipefail
cd "$(dirname "$0")/.."
orders="${1:-2000}"
concurrency="${2:-200}"

export TEST_PG_MAX_CONNECTIONS=100 TEST_PG_PORT="${TEST_PG_PORT:-55632}" TEST_REDIS_PORT="${TEST_REDIS_PORT:-56679}"
source scripts/test-services.sh
source bench/lib.sh
results="bench/results/load-$(date -u +%Y%m%dT%H%M%SZ)"
mkdir -p "$results"
pids=()
cleanup() {
  local pid
  for pid in "${pids[@]}"; do kill -TERM "$pid" 2>/dev/null || true; done
  for pid in "${pids[@]}"; do wait "$pid" 2>/dev/null || true; done
  stop_test_services
}
trap cleanup EXIT

echo "Building (Release)..."
dotnet build -c Release Worker/Worker.csproj -v q --nologo >"$results/build.log" 2>&1
dotnet build -c Release TemporalTestServer/TemporalTestServer.csproj -v q --nologo >>"$results/build.log" 2>&1
dotnet build -c Release bench/EndToEnd/EndToEnd.csproj -v q --nologo >>"$results/build.log" 2>&1
echo "Starting PostgreSQL (max_connections 100), Redis, the Temporal test server and two workers..."
start_test_services >/dev/null
start_temporal_test_server "$results/temporal.log"

urls=()
for replica in 1 2; do
  port="$(free_port)"
  url="http://127.0.0.1:$port"
  # As the AppHost gives it: a connection string with no pool settings of its own.
  env ASPNETCORE_ENVIRONMENT=Production ASPNETCORE_URLS="$url" \
    ConnectionStrings__appdb="Host=127.0.0.1;Port=$TEST_PG_PORT;Username=postgres;Database=appdb" \
    ConnectionStrings__redis="$TEST_REDIS_CONNECTION" \
    ConnectionStrings__temporal="Endpoint=127.0.0.1:$temporal_port;Namespace=orders" \
    Api__Keys=bench Orders__ShippingStageDuration=00:00:00.100 \
    dotnet Worker/bin/Release/net10.0/Worker.dll >"$results/worker-$replica.log" 2>&1 &
  pids+=($!)
  for _ in $(seq 300); do curl -sf "$url/health" >/dev/null 2>&1 && break; sleep 0.2; done
  curl -sf "$url/health" >/dev/null || { echo "worker $replica did not become healthy: $results/worker-$replica.log" >&2; exit 1; }
  urls+=("$url")
done

echo "Bursting $orders orders, $concurrency at a time..."
urls_joined="$(IFS=,; echo "${urls[*]}")"
dotnet bench/EndToEnd/bin/Release/net10.0/EndToEnd.dll --burst "$urls_joined" bench "$orders" "$concurrency"
echo "Logs: $results"

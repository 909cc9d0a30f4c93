#!/usr/bin/env bash
# Worker start-up time (process start to first 200 on /alive) and idle RSS, next to a bare ASP.NET Core
# app started the same way, in the same run. Both are Release builds run with `dotnet X.dll`, alternated
# run by run so machine noise hits both alike. The worker gets real PostgreSQL (started here) and an
# unreachable Temporal, as on a developer machine before Temporal is up.
#   bench/startup.sh [runs]     (default 7)
#   WORKER_PUBLISH_ARGS="-r linux-x64 --self-contained false -p:PublishReadyToRun=true" bench/startup.sh
#                               (the worker published with extra arguments, here ReadyToRun; the bare app as ever)
set -euo pipefail
cd "$(dirname "$0")/.."
runs="${1:-7}"
source scripts/test-services.sh
source bench/lib.sh
trap stop_test_services EXIT
start_test_services >/dev/null

out="$(mktemp -d)"
# shellcheck disable=SC2086 # WORKER_PUBLISH_ARGS is a list of arguments
dotnet publish Worker/Worker.csproj -c Release -o "$out/worker" --nologo -v q ${WORKER_PUBLISH_ARGS:-} >/dev/null
dotnet publish bench/BareApi/BareApi.csproj -c Release -o "$out/bare" --nologo -v q >/dev/null


# Prints "<milliseconds to /alive> <idle RSS in KiB>" for one start of the given dll.
measure() {
  local dll="$1" port start pid ms rss
  port="$(free_port)"
  start=$(date +%s%N)
  # From the app's own folder, as the image runs it (WORKDIR /app): the content root, where appsettings.json is read
  # and watched, is that folder, not this repository.
  (cd "$(dirname "$dll")" && ASPNETCORE_URLS="http://127.0.0.1:$port" ASPNETCORE_ENVIRONMENT=Production \
    ConnectionStrings__appdb="$TEST_POSTGRES_CONNECTION" Temporal__Address=127.0.0.1:1 Api__Keys=bench \
    exec dotnet "$dll") >/dev/null 2>&1 &
  pid=$!
  until curl -sf "http://127.0.0.1:$port/alive" >/dev/null 2>&1; do
    kill -0 "$pid" 2>/dev/null || { echo "process exited" >&2; return 1; }
    sleep 0.005
  done
  ms=$(( ($(date +%s%N) - start) / 1000000 ))
  sleep 3   # idle: background start-up work (schema, connection retries) settles
  rss=$(awk '/^VmRSS:/ {print $2}' "/proc/$pid/status")
  kill -TERM "$pid"; wait "$pid" 2>/dev/null || true
  echo "$ms $rss"
}


worker_ms=(); worker_rss=(); bare_ms=(); bare_rss=()
measure "$out/bare/BareApi.dll" >/dev/null   # warm the disk cache for both
measure "$out/worker/Worker.dll" >/dev/null
for _ in $(seq "$runs"); do
  read -r ms rss < <(measure "$out/worker/Worker.dll"); worker_ms+=("$ms"); worker_rss+=("$rss")
  read -r ms rss < <(measure "$out/bare/BareApi.dll"); bare_ms+=("$ms"); bare_rss+=("$rss")
done
rm -rf "$out"

wm=$(median "${worker_ms[@]}"); bm=$(median "${bare_ms[@]}")
wr=$(median "${worker_rss[@]}"); br=$(median "${bare_rss[@]}")
echo "runs per app: $runs (medians)${WORKER_PUBLISH_ARGS:+; worker published with $WORKER_PUBLISH_ARGS}"
report_header
report_row "worker: start to /alive" "$wm" "bare ASP.NET Core" "$bm" ms "<=" 1.5
report_row "worker: idle RSS" "$((wr / 1024))" "bare ASP.NET Core" "$((br / 1024))" MiB "<=" 1.5

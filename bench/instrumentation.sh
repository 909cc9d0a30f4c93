#!/usr/bin/env bash
# What tracing and telemetry export cost in throughput: orders per second end to end (API -> Temporal test server
# -> worker -> PostgreSQL and Redis) at <concurrency> concurrent orders, with instrumentation on and off, alternated
# in rounds (on/off, then off/on, ...) in one run so drift hits both alike. Target: cost <= 10% of throughput.
#   bench/instrumentation.sh [rounds] [orders] [warm-up orders] [concurrency]    (default 5, 1000, 300, 64)
#   ON_ENV="NAME=value ..." adds worker settings to "on" only, to split the cost (ON_ENV=Telemetry__Tracing=false:
#   export and scraping without Temporal's and Npgsql's spans).
#   KEEP_LOGS=1 keeps the last worker's and sink's logs of each configuration (the path goes to stderr).
#
#   on:  OTEL_EXPORTER_OTLP_ENDPOINT set (http/protobuf) to a real OTLP receiver on loopback (the bench console's
#        --otlp-sink: Kestrel, reads and counts each request's bytes, answers 200 with an empty protobuf message), so
#        the tracer provider exists and traces, metrics and logs are serialized and sent; Temporal tracing on (the
#        default Telemetry:Tracing=true); /metrics scraped once a second, as Prometheus would.
#        Metrics are exported every METRIC_EXPORT_MS (default 1000, as Aspire's dashboard sets; the SDK's default
#        is 60 s, which a measured window would mostly miss). Traces and logs keep the SDK's batch defaults.
#   off: no OTLP endpoint (no tracer provider, no OTLP exporter), Telemetry__Tracing=false, no scraping.
# In both, the metric instruments (ASP.NET Core, HttpClient, runtime, Temporal, orders) still exist and record, and
# logs go to the console as JSON: what is measured is tracing + OTLP export of all three signals + scraping.
#
# The worker runs as production runs it: its own process from its Release build (Production, workstation GC,
# connection strings, the shipped log levels), started afresh for every configuration of every round and warmed
# up with <warm-up orders> before the measured ones; the Temporal test server is one process for the whole run.
# Load: bench/EndToEnd --load-only (each order placed by POST /api/orders, then polled every 100 ms through
# GET /api/orders/{id} until it ends). Everything shares this machine's cores (the sink too, unlike a collector on
# another node), so orders/s is this machine's; the worker's own CPU per order is read from /proc.
set -euo pipefail
shopt -s inherit_errexit
cd "$(dirname "$0")/.."
rounds="${1:-5}"
orders="${2:-1000}"
warmup="${3:-300}"
concurrency="${4:-64}"
metric_export_ms="${METRIC_EXPORT_MS:-1000}"
bin=net10.0

source scripts/test-services.sh
source bench/lib.sh
pids=()
cleanup() {
  local pid
  for pid in "${pids[@]}"; do kill -TERM "$pid" 2>/dev/null || true; done
  for pid in "${pids[@]}"; do wait "$pid" 2>/dev/null || true; done
  stop_test_services
  if [[ -n "${work:-}" ]]; then
    if [[ -n "${KEEP_LOGS:-}" ]]; then echo "logs kept in $work" >&2; else rm -rf "$work"; fi
  fi
}
trap cleanup EXIT
start_test_services >/dev/null
work="$(mktemp -d)"

# Builds the worker and the test server (project references) in Release too.
dotnet build bench/EndToEnd/EndToEnd.csproj -c Release --nologo -v q --disable-build-servers >/dev/null
bench_dll="bench/EndToEnd/bin/Release/$bin/EndToEnd.dll"

wait_for() {   # url pid log: until the url answers 2xx, the process died, or 60 s passed
  for _ in $(seq 600); do
    curl -sf "$1" >/dev/null 2>&1 && return 0
    kill -0 "$2" 2>/dev/null || { cat "$3" >&2; return 1; }
    sleep 0.1
  done
  echo "$1 not ready after 60 s" >&2; cat "$3" >&2; return 1
}
stop_pid() { kill -TERM "$1" 2>/dev/null || true; wait "$1" 2>/dev/null || true; }
stop_own() { local p; for p in "$@"; do ((p == 0)) || stop_pid "$p"; done; }

start_temporal_test_server "$work/temporal.log"

# One configuration, one fresh worker: start (and for "on" the sink first), warm up, measure, stop. Prints
# "per_second cpu_ms_per_order p50_ms p95_ms failed sink_cpu_ms_per_order traces_bytes metrics_bytes logs_bytes
# scrapes scrape_bytes", the sink's figures counted over the measured window only (zeros for "off").
# A subshell: its EXIT trap stops its own worker and sink whatever happens.
measure() (
  local config="$1" port url sink_url="" log="$work/worker-$1.log" env_config=()
  worker=0 sink=0   # not local: the EXIT trap reads them
  trap 'stop_own "$worker" "$sink"' EXIT
  port="$(free_port)"
  url="http://127.0.0.1:$port"
  if [[ $config == on ]]; then
    sink_url="http://127.0.0.1:$(free_port)"
    dotnet "$bench_dll" --otlp-sink "$sink_url" "$url/metrics" >"$work/sink.log" 2>&1 &
    sink=$!
    wait_for "$sink_url/stats" "$sink" "$work/sink.log" || return 1
    env_config=(OTEL_EXPORTER_OTLP_ENDPOINT="$sink_url" OTEL_EXPORTER_OTLP_PROTOCOL=http/protobuf
      OTEL_METRIC_EXPORT_INTERVAL="$metric_export_ms" OTEL_DOTNET_EXPERIMENTAL_OTLP_RETRY=in_memory)
    read -r -a extra <<<"${ON_ENV:-}"
    env_config+=("${extra[@]}")
  else
    env_config=(Telemetry__Tracing=false)
  fi
  # In its output directory, as the image runs it from /app: the content root, so appsettings.json (the shipped log
  # levels) applies; from elsewhere every category would log at Information (a few lines per request and query).
  worker_settings "$url"
  (cd "Worker/bin/Release/$bin" && exec env -u OTEL_EXPORTER_OTLP_ENDPOINT "${worker_settings[@]}" DOTNET_gcServer=0 \
    "${env_config[@]}" dotnet Worker.dll) >"$log" 2>&1 &
  worker=$!
  wait_for "$url/health" "$worker" "$log" || return 1

  load() { dotnet "$bench_dll" --load-only "$url" bench "$concurrency" "$1"; }
  load "$warmup" >/dev/null
  local before="" after="" cpu0 cpu1 sink0=0 sink1=0 result
  [[ $config == on ]] && { before="$(curl -sf "$sink_url/stats")"; sink0="$(cpu_ticks "$sink")"; }
  cpu0="$(cpu_ticks "$worker")"
  result="$(load "$orders")" || true   # non-zero when an order did not complete: counted below
  cpu1="$(cpu_ticks "$worker")"
  [[ $config == on ]] && { sink1="$(cpu_ticks "$sink")"; after="$(curl -sf "$sink_url/stats")"; }
  stop_pid "$worker"
  worker=0

  local -A r b a
  local pair
  for pair in $result; do r[${pair%%=*}]=${pair#*=}; done
  for pair in $before; do b[${pair%%=*}]=${pair#*=}; done
  for pair in $after; do a[${pair%%=*}]=${pair#*=}; done
  delta() { echo $(( ${a[$1]:-0} - ${b[$1]:-0} )); }
  awk -v ops="${r[per_second]}" -v n="${r[orders]}" -v c=$((cpu1 - cpu0)) -v s=$((sink1 - sink0)) -v hz="$(getconf CLK_TCK)" \
    -v p50="${r[p50_ms]}" -v p95="${r[p95_ms]}" -v failed="${r[failed]}" \
    -v rest="$(delta traces_bytes) $(delta metrics_bytes) $(delta logs_bytes) $(delta scrapes) $(delta scrape_bytes)" \
    'BEGIN {printf "%s %.2f %s %s %s %.2f %s\n", ops, 1000 * c / hz / n, p50, p95, failed, 1000 * s / hz / n, rest}'
)

kib() { awk -v b="$1" 'BEGIN {printf "%.0f KiB", b / 1024}'; }

echo "worker: Release build, Production, own process, restarted per configuration; $(nproc) cores shared with PostgreSQL,"
echo "  Redis, the test server, the load and the sink; $concurrency concurrent orders, $orders measured after $warmup warm-up each"
echo "on: tracing + OTLP/HTTP export (traces, metrics every $metric_export_ms ms, logs) to a loopback sink + /metrics scraped every 1 s"
[[ -n "${ON_ENV:-}" ]] && echo "on also: $ON_ENV"
echo "off: no OTLP endpoint, Telemetry__Tracing=false, no scraping (metric instruments still record)"

# Unmeasured first round: the test server, PostgreSQL, Redis and the disk cache warm up for both.
measure on >/dev/null
measure off >/dev/null

printf '%5s | %-7s | %8s | %9s | %6s | %13s | %14s | %16s\n' round order "on ord/s" "off ord/s" on/off \
  "CPU ms/ord on" "CPU ms/ord off" "p95 ms on / off"
on_rates=() off_rates=() ratios=() on_cpu=() off_cpu=() sink_cpu=()
traces=0 metrics=0 logs=0 scrapes=0 scraped=0 failed=0
for ((i = 1; i <= rounds; i++)); do
  if ((i % 2)); then first=on second=off; else first=off second=on; fi
  declare -A res
  res[$first]="$(measure "$first")"
  res[$second]="$(measure "$second")"
  read -r on_ops on_ms _ on_p95 on_failed sink_ms t m l s sb <<<"${res[on]}"
  read -r off_ops off_ms _ off_p95 off_failed _ <<<"${res[off]}"
  ratio="$(awk -v a="$on_ops" -v b="$off_ops" 'BEGIN {printf "%.3f", a / b}')"
  on_rates+=("$on_ops") off_rates+=("$off_ops") ratios+=("$ratio") on_cpu+=("$on_ms") off_cpu+=("$off_ms") sink_cpu+=("$sink_ms")
  traces=$((traces + t)) metrics=$((metrics + m)) logs=$((logs + l)) scrapes=$((scrapes + s)) scraped=$((scraped + sb))
  failed=$((failed + on_failed + off_failed))
  printf '%5d | %-7s | %8.1f | %9.1f | %6.3f | %13.2f | %14.2f | %16s\n' "$i" "$first/$second" "$on_ops" "$off_ops" "$ratio" \
    "$on_ms" "$off_ms" "$on_p95 / $off_p95"
  unset res
done

m_on="$(median "${on_rates[@]}")"
m_off="$(median "${off_rates[@]}")"
m_ratio="$(median "${ratios[@]}")"
echo "sink, over the $rounds measured 'on' windows: traces $(kib "$traces"), metrics $(kib "$metrics"), logs $(kib "$logs");" \
  "$scrapes scrapes, $(kib "$scraped"); sink CPU median $(median "${sink_cpu[@]}") ms per order"
echo "orders not completed: $failed"
echo "worker CPU per order, medians: on $(median "${on_cpu[@]}") ms, off $(median "${off_cpu[@]}") ms"
echo "median of the rounds' on/off: $m_ratio"
report_header
report_row "orders/s, instrumentation on (median)" "$m_on" "off (median)" "$m_off" "o/s" ">=" 0.90

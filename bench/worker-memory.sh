#!/usr/bin/env bash
# Memory and CPU of one worker replica under load, the figures its container requests and limits come from.
# The worker runs as its own process from its Release build, configured as its image runs it (Production,
# workstation GC, connection strings), against real PostgreSQL and Redis and the Temporal test server (each
# its own process). After /health and a settle, its idle RSS is the anchor; then orders are placed
# <concurrency> at a time (after an unmeasured warm-up), each polled through GET /api/orders/{id} until it
# ends, while VmRSS is sampled every 200 ms and CPU time (utime+stime) is read before and after.
#   bench/worker-memory.sh [orders] [concurrency] [poll ms]     (default 2000, 64, 100)
# DOTNET_GC* variables in this script's environment go to the worker only (not the build, the test server
# or the load generator), so a GC variant is one command:
#   DOTNET_GCHeapHardLimit=0xC000000 bench/worker-memory.sh
#   DOTNET_GCConserveMemory=5 bench/worker-memory.sh
# Everything runs on one machine: the load generator, PostgreSQL and the test server share its cores with
# the worker, so orders/s is this machine's, and the worker's CPU is measured on its own process only.
set -euo pipefail
cd "$(dirname "$0")/.."
orders="${1:-2000}"
concurrency="${2:-64}"
poll_ms="${3:-100}"
warmup=256

# GC settings meant for the worker, kept out of every other .NET process here.
mapfile -t gc_vars < <(compgen -e | grep -i '^DOTNET_GC' || true)
worker_gc=()
strip=()
[[ -v DOTNET_gcServer ]] || worker_gc+=(DOTNET_gcServer=0)   # the image's setting (Worker.csproj)
for name in "${gc_vars[@]}"; do
  worker_gc+=("$name=${!name}")
  strip+=(-u "$name")
done
plain() { env "${strip[@]}" "$@"; }

source scripts/test-services.sh
source bench/lib.sh
pids=()
cleanup() {
  local pid
  for pid in "${pids[@]}"; do kill -TERM "$pid" 2>/dev/null || true; done
  for pid in "${pids[@]}"; do wait "$pid" 2>/dev/null || true; done
  stop_test_services
  [[ -n "${work:-}" ]] && rm -rf "$work"
}
trap cleanup EXIT
start_test_services >/dev/null
work="$(mktemp -d)"

plain dotnet build bench/EndToEnd/EndToEnd.csproj -c Release --nologo -v q --disable-build-servers >/dev/null
bin=net10.0


start_temporal_test_server "$work/temporal.log" env "${strip[@]}"

port="$(free_port)"
url="http://127.0.0.1:$port"
worker_settings "$url"
env "${worker_settings[@]}" Logging__LogLevel__Default=Warning \
  "${worker_gc[@]}" dotnet "Worker/bin/Release/$bin/Worker.dll" >"$work/worker.log" 2>&1 &
worker=$!
pids+=("$worker")
for _ in $(seq 600); do
  curl -sf "$url/health" >/dev/null 2>&1 && break
  kill -0 "$worker" 2>/dev/null || { cat "$work/worker.log" >&2; exit 1; }
  sleep 0.1
done
curl -sf "$url/health" >/dev/null || { echo "worker not healthy after 60 s" >&2; cat "$work/worker.log" >&2; exit 1; }

# KiB of one /proc/PID/status field, with bash builtins only (the sampler runs every 200 ms).
status_kib() {
  local key value _
  while read -r key value _; do [[ $key == "$1:" ]] && { echo "$value"; return; }; done <"/proc/$worker/status"
}
# Busy and total ticks of the whole machine, from /proc/stat.
machine_ticks() { awk '/^cpu / {t=0; for (i=2;i<=NF;i++) t+=$i; print t-$5-$6, t}' /proc/stat; }
# MiB of the GC heap after the last collection, and gen0/gen1/gen2 collection counts, from /metrics.
gc_metrics() {
  curl -sf "$url/metrics" | awk '
    /^dotnet_gc_last_collection_heap_size_bytes/ {heap += $NF}
    /^dotnet_gc_collections_total/ && /gen0/ {g0 = $NF} /^dotnet_gc_collections_total/ && /gen1/ {g1 = $NF}
    /^dotnet_gc_collections_total/ && /gen2/ {g2 = $NF}
    END {printf "%.0f %d %d %d\n", heap / 1048576, g0, g1, g2}'
}
mib() { echo $(( ($1 + 1023) / 1024 )); }

sleep 10   # idle: start-up work (migrations, seeding, pollers, tiered JIT) settles
idle_rss="$(status_kib VmRSS)"
read -r idle_heap _ <<<"$(gc_metrics)"

# The sampler appends one VmRSS (KiB) per line; a marker line separates the warm-up from the measured load.
samples="$work/rss"
( while [[ -e /proc/$worker/status ]] && [[ ! -e "$work/stop" ]]; do status_kib VmRSS; sleep 0.2; done ) >>"$samples" &
sampler=$!

load() { plain dotnet "bench/EndToEnd/bin/Release/$bin/EndToEnd.dll" --load-only "$url" bench "$concurrency" "$1" "$poll_ms"; }
load "$warmup" >/dev/null
echo measured >>"$samples"
read -r _ gc0 gc1 gc2 <<<"$(gc_metrics)"
cpu_before="$(cpu_ticks "$worker")"
server_before="$(cpu_ticks "$temporal")"
read -r busy_before total_before <<<"$(machine_ticks)"
start_ns="$(date +%s%N)"
result="$(load "$orders")"
end_ns="$(date +%s%N)"
cpu_after="$(cpu_ticks "$worker")"
server_after="$(cpu_ticks "$temporal")"
read -r busy_after total_after <<<"$(machine_ticks)"
read -r load_heap g0 g1 g2 <<<"$(gc_metrics)"
touch "$work/stop"
wait "$sampler"
sleep 5
after_rss="$(status_kib VmRSS)"
hwm="$(status_kib VmHWM)"

declare -A r
for pair in $result; do r[${pair%%=*}]=${pair#*=}; done
peak="$(grep -v measured "$samples" | sort -n | tail -1)"
steady="$(sed -n '/measured/,$p' "$samples" | grep -v measured | sort -n | awk '{a[NR]=$1} END {print a[int((NR+1)/2)]}')"
wall_s="$(awk -v a="$start_ns" -v b="$end_ns" 'BEGIN {printf "%.2f", (b - a) / 1e9}')"
ticks="$(getconf CLK_TCK)"

echo "worker: Release build, Production, ${worker_gc[*]}; $(nproc) cores shared with PostgreSQL, the test server and the load"
echo "load: ${r[orders]} orders, $concurrency concurrent (after a $warmup-order warm-up), poll every $poll_ms ms; ${r[failed]} not completed"
echo "idle RSS (healthy, settled, no order yet):    $(mib "$idle_rss") MiB (GC heap $idle_heap MiB)"
echo "RSS under load: median $(mib "$steady") MiB, peak $(mib "$peak") MiB; 5 s after it $(mib "$after_rss") MiB (VmHWM $(mib "$hwm") MiB)"
echo "GC during the measured load: gen0 $((g0 - gc0)), gen1 $((g1 - gc1)), gen2 $((g2 - gc2)) collections; heap after the last $load_heap MiB"
awk -v c=$((cpu_after - cpu_before)) -v hz="$ticks" -v w="$wall_s" -v mb=$((busy_after - busy_before)) \
  -v mt=$((total_after - total_before)) -v s=$((server_after - server_before)) -v n="$(nproc)" -v ops="${r[per_second]}" -v p50="${r[p50_ms]}" -v p95="${r[p95_ms]}" 'BEGIN {
  printf "CPU under load: worker %.2f cores on average (%.1f cpu s / %.1f wall s); test server %.2f; machine %.2f of %d busy\n", c / hz / w, c / hz, w, s / hz / w, n * mb / mt, n
  printf "throughput: %.1f orders/s (latency to a terminal status p50 %d ms, p95 %d ms); worker CPU %.1f ms per order\n", ops, p50, p95, 1000 * c / hz / (ops * w) }'
awk -v p="$peak" -v i="$idle_rss" 'BEGIN {printf "peak/idle RSS: %.2f\n", p / i}'

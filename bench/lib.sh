#!/usr/bin/env bash
# What the bench scripts share; sourced from the repository root by each (`source bench/lib.sh`).

# A free TCP port on loopback (a random high one when python3 is missing).
free_port() { python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])' 2>/dev/null \
  || echo $((20000 + RANDOM % 20000)); }

# median N...: the median of the numbers given.
median() { printf '%s\n' "$@" | sort -g | awk '{a[NR]=$1} END {print (NR % 2) ? a[(NR+1)/2] : (a[NR/2] + a[NR/2+1]) / 2}'; }

# utime + stime of a process in clock ticks (fields 14 and 15; the name in parentheses may hold spaces).
cpu_ticks() { local stat f; stat="$(<"/proc/$1/stat")"; read -r -a f <<<"${stat##*) }"; echo $((f[11] + f[12])); }

# start_temporal_test_server LOG [COMMAND-PREFIX...]: the project's Temporal test server (Release build) as its own
# process with the namespace "orders", on a free port; sets temporal_port and temporal (its pid), adds the pid to
# the caller's pids array, and returns once it listens. A prefix such as `env -u VAR` runs it with that changed.
start_temporal_test_server() {
  local log=$1
  shift
  temporal_port="$(free_port)"
  "$@" dotnet TemporalTestServer/bin/Release/net10.0/TemporalTestServer.dll --port "$temporal_port" --namespace orders \
    >"$log" 2>&1 &
  temporal=$!
  pids+=("$temporal")
  for _ in $(seq 300); do grep -q listening "$log" && break; sleep 0.1; done
  grep -q listening "$log" || { cat "$log" >&2; return 1; }
}

# worker_settings URL: sets the array worker_settings, the environment of a worker run as its image runs it
# (Production) against the test services and the test server started above, listening at URL.
worker_settings() {
  # shellcheck disable=SC2034 # read by the scripts that source this file
  worker_settings=(ASPNETCORE_ENVIRONMENT=Production ASPNETCORE_URLS="$1"
    ConnectionStrings__appdb="Host=127.0.0.1;Port=$TEST_PG_PORT;Username=postgres;Database=appdb;Maximum Pool Size=100"
    ConnectionStrings__redis="$TEST_REDIS_CONNECTION"
    ConnectionStrings__temporal="Endpoint=127.0.0.1:$temporal_port;Namespace=orders"
    Api__Keys=bench Orders__ShippingStageDuration=00:00:00)
}

# The table every bench script ends with: one row per figure, its anchor measured in the same run, their ratio and
# the target the ratio is held to, met (✔) or not (✘).
#   report_header
#   report_row FIGURE VALUE ANCHOR-NAME ANCHOR-VALUE UNIT OPERATOR LIMIT     (OPERATOR: <= or >=)
report_header() {
  printf '%-44s | %11s | %-28s | %11s | %6s | %-7s |\n' figure value anchor "" ratio target
  printf '%s\n' "---------------------------------------------+-------------+------------------------------+-------------+--------+---------+---"
}
report_row() {
  awk -v f="$1" -v v="$2" -v an="$3" -v a="$4" -v u="$5" -v op="$6" -v t="$7" 'BEGIN {
    r = v / a; ok = (op == "<=") ? (r <= t + 1e-9) : (r >= t - 1e-9)
    printf "%-44s | %7.0f %-3s | %-28s | %7.0f %-3s | %6.2f | %2s %-4s | %s\n", f, v, u, an, a, u, r, op, t, ok ? "✔" : "✘" }'
}

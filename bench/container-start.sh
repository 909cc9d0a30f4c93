#!/usr/bin/env bash
# Worker start in its container (podman run to first 200 on /alive) next to the same Worker.dll started directly
# on the host (dotnet Worker.dll), alternated run by run, medians of each, the ratio last (target <= 1.5). The
# container runs with the production constraints (read-only root, uid 1654, no capabilities) on the image
# `dotnet publish -t:PublishContainer` made (scripts/container-images.sh; the base is made on this machine, not
# the chiseled one). Both get real PostgreSQL (started here) and an unreachable Temporal.
#   bench/container-start.sh [runs]     (default 7)
set -euo pipefail
cd "$(dirname "$0")/.."
runs="${1:-7}"
source scripts/test-services.sh
source scripts/container-images.sh
source bench/lib.sh
trap stop_test_services EXIT
start_test_services >/dev/null
build_test_images 2>/dev/null

# The host's copy of the image's /app: the same files, not a second publish.
app="$(mktemp -d)"
container="$("$PODMAN" create "$WORKER_IMAGE_SDK")"
"$PODMAN" cp "$container:/app/." "$app/" && "$PODMAN" rm "$container" >/dev/null

settings=(ConnectionStrings__appdb="$TEST_POSTGRES_CONNECTION" Temporal__Address=127.0.0.1:1 Api__Keys=bench)

# Prints the milliseconds from START (date +%s%N) to the first 200 on /alive at PORT.
wait_alive() {
  local port=$1 start=$2
  until curl -sf "http://127.0.0.1:$port/alive" >/dev/null 2>&1; do
    (( $(date +%s%N) - start < 60000000000 )) || { echo "no /alive within 60 s" >&2; return 1; }
    sleep 0.005
  done
  echo $(( ($(date +%s%N) - start) / 1000000 ))
}

host() {
  local port start pid
  port="$(free_port)"
  start=$(date +%s%N)
  env "${settings[@]}" ASPNETCORE_HTTP_PORTS="$port" DOTNET_gcServer=0 dotnet "$app/Worker.dll" >/dev/null 2>&1 &
  pid=$!
  wait_alive "$port" "$start"
  kill -TERM "$pid"; wait "$pid" 2>/dev/null || true
}

container() {
  local port start name="worker-bench-$$-$RANDOM" env_args=() setting
  port="$(free_port)"
  for setting in "${settings[@]}"; do env_args+=(-e "$setting"); done
  start=$(date +%s%N)
  "$PODMAN" run -d --rm --name "$name" --read-only --user 1654 --cap-drop ALL --security-opt no-new-privileges \
    --tmpfs /tmp:rw,mode=1777 --network host -e ASPNETCORE_HTTP_PORTS="$port" "${env_args[@]}" "$WORKER_IMAGE_SDK" >/dev/null
  wait_alive "$port" "$start"
  "$PODMAN" stop -t 10 "$name" >/dev/null
}

host >/dev/null; container >/dev/null   # warm the disk cache for both
host_ms=(); container_ms=()
for _ in $(seq "$runs"); do
  container_ms+=("$(container)")
  host_ms+=("$(host)")
done
rm -rf "$app"

cm=$(median "${container_ms[@]}"); hm=$(median "${host_ms[@]}")
echo "runs: $runs each, alternated (medians); container: ${container_ms[*]} ms; host: ${host_ms[*]} ms"
report_header
report_row "worker image: start to /alive" "$cm" "the same build on the host" "$hm" ms "<=" 1.5

#!/usr/bin/env bash
# Starts and stops the real PostgreSQL and Redis servers the tests use: installed binaries, loopback only,
# throwaway data directories. Sourced by test.sh; also usable by hand:
#   source scripts/test-services.sh && start_test_services   # exports the connection strings
#   stop_test_services
# Installs what is missing with apt-get (root on Debian/Ubuntu), as CI machines need: the servers, dash
# and busybox, which stand in for the container images' shell in AppHost.Tests, curl for the README's commands and jq.

# shellcheck source=scripts/apt-install.sh
source "$(dirname "${BASH_SOURCE[0]}")/apt-install.sh"

TEST_PG_PORT="${TEST_PG_PORT:-55432}"
TEST_REDIS_PORT="${TEST_REDIS_PORT:-56379}"
# Many test hosts share the server, each with a connection pool; bench/load.sh sets PostgreSQL's own default (100).
TEST_PG_MAX_CONNECTIONS="${TEST_PG_MAX_CONNECTIONS:-500}"

find_pg_bin() {
  local dir
  for dir in /usr/lib/postgresql/*/bin; do
    [[ -x "$dir/pg_ctl" ]] && { echo "$dir"; return 0; }
  done
  command -v pg_ctl >/dev/null && { dirname "$(command -v pg_ctl)"; return 0; }
  return 1
}

install_missing() {
  local packages=()
  find_pg_bin >/dev/null || packages+=(postgresql)
  command -v redis-server >/dev/null || packages+=(redis-server)
  # Stand-ins for the admin-tools image's busybox sh: AppHost.Tests parse and run the container job scripts with both.
  command -v dash >/dev/null || packages+=(dash)
  command -v busybox >/dev/null || packages+=(busybox)
  # AppHost.Tests run the README's first-order commands as written, with curl; Worker.Tests run
  # scripts/export-histories.sh, which reads the Temporal CLI's JSON with jq.
  command -v curl >/dev/null || packages+=(curl)
  command -v jq >/dev/null || packages+=(jq)
  ((${#packages[@]} == 0)) && return 0
  apt_install "${packages[@]}" || return 1
  # Debian's package starts a cluster on 5432 of its own; the tests use their own server, so stop that one.
  if command -v pg_ctlcluster >/dev/null; then
    service postgresql stop >/dev/null 2>&1 || true
  fi
}

# PostgreSQL refuses to run as root: run it as the 'postgres' user when we are root.
as_pg_user() {
  if [[ $(id -u) -eq 0 ]]; then runuser -u postgres -- "$@"; else "$@"; fi
}

start_test_services() {
  install_missing || return 1
  local pg_bin
  pg_bin="$(find_pg_bin)" || { echo "PostgreSQL binaries not found" >&2; return 1; }
  TEST_SERVICES_DIR="$(mktemp -d "${TMPDIR:-/tmp}/worker-tests.XXXXXX")"
  chmod 755 "$TEST_SERVICES_DIR"
  export TEST_SERVICES_DIR TEST_PG_BIN="$pg_bin" TEST_PG_DATA="$TEST_SERVICES_DIR/pg"
  mkdir -p "$TEST_PG_DATA" && [[ $(id -u) -eq 0 ]] && chown postgres "$TEST_PG_DATA"

  as_pg_user "$pg_bin/initdb" -D "$TEST_PG_DATA" -U postgres --auth=trust -E UTF8 >/dev/null || return 1
  as_pg_user "$pg_bin/pg_ctl" -D "$TEST_PG_DATA" -l "$TEST_PG_DATA/server.log" -w -t 30 \
    -o "-p $TEST_PG_PORT -k $TEST_PG_DATA -c listen_addresses=127.0.0.1 -c max_connections=$TEST_PG_MAX_CONNECTIONS -c fsync=off" start >/dev/null || {
      cat "$TEST_PG_DATA/server.log" >&2; return 1; }
  "$pg_bin/psql" -h 127.0.0.1 -p "$TEST_PG_PORT" -U postgres -qc "CREATE DATABASE appdb" >/dev/null || return 1

  redis-server --bind 127.0.0.1 --port "$TEST_REDIS_PORT" --daemonize yes --save '' --appendonly no \
    --pidfile "$TEST_SERVICES_DIR/redis.pid" --logfile "$TEST_SERVICES_DIR/redis.log" || return 1
  for _ in $(seq 50); do redis-cli -p "$TEST_REDIS_PORT" ping >/dev/null 2>&1 && break; sleep 0.1; done

  export TEST_PG_PORT TEST_REDIS_PORT
  export TEST_POSTGRES_CONNECTION="Host=127.0.0.1;Port=$TEST_PG_PORT;Username=postgres;Database=postgres"
  export TEST_REDIS_CONNECTION="127.0.0.1:$TEST_REDIS_PORT"
  echo "PostgreSQL on 127.0.0.1:$TEST_PG_PORT, Redis on 127.0.0.1:$TEST_REDIS_PORT (data in $TEST_SERVICES_DIR)" >&2
}

stop_test_services() {
  [[ -n "${TEST_SERVICES_DIR:-}" ]] || return 0
  [[ -f "$TEST_SERVICES_DIR/redis.pid" ]] && kill "$(cat "$TEST_SERVICES_DIR/redis.pid")" 2>/dev/null
  [[ -d "${TEST_PG_DATA:-}" ]] && as_pg_user "$TEST_PG_BIN/pg_ctl" -D "$TEST_PG_DATA" -m immediate stop >/dev/null 2>&1
  rm -rf "$TEST_SERVICES_DIR"
  unset TEST_SERVICES_DIR
}

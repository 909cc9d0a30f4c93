#!/bin/sh
# Backup and restore of the system's PostgreSQL databases: the application's (appdb) and Temporal's
# (temporal, temporal_visibility). Run by the Kubernetes CronJob and the Compose service inside the official
# postgres image (read-only root: it writes only under BACKUP_DIR), and by hand. POSIX sh (dash, busybox).
#
#   pg-backup.sh backup                      one backup of every database in BACKUP_DATABASES, then retention
#   pg-backup.sh restore [TIMESTAMP|latest]  restores every database of that complete backup (default latest)
#   pg-backup.sh list                        the complete backups, newest first, one name a line
#
# Settings (environment):
#   BACKUP_DATABASES  space-separated; default "temporal temporal_visibility appdb". Dumps START in this order
#                     (see below): list Temporal's databases before the application's.
#   BACKUP_DIR        default /backups
#   BACKUP_KEEP       complete backups kept by retention; default 7
#   PGHOST, PGPORT, PGUSER, PGPASSWORD (or PGPASSFILE), PGSSLMODE...: libpq's own variables. The password is
#                     never printed. restore and the snapshot check connect to the database "postgres".
#
# Layout: BACKUP_DIR/<UTC start, YYYYmmddTHHMMSSZ>/ holds <db>.dump (pg_dump --format=custom, written as
# <db>.dump.partial and renamed when pg_dump succeeded), manifest (databases, pg_dump and server versions),
# SHA256SUMS, and the marker "complete", written last and only when every database dumped. A folder without
# it is an incomplete backup: never restored, deleted by retention once older than a day. Two backups
# started in the same second: the second waits for the next second (folder names are unique and sort by time).
#
# One backup is one consistent unit. Temporal's persistence (temporal, temporal_visibility) and the
# application's database record two halves of the same workflows, so they are dumped in the same run, all
# dumps running at once. Each pg_dump reads one snapshot of its database; snapshots cannot span databases, so
# the next dump starts only once the previous one holds its snapshot (seen in pg_stat_activity; when that
# cannot be seen, once it has finished). So the application's snapshot is never older than Temporal's: after a
# restore Temporal may re-run activities whose effects the application database already holds (the saga's
# activities are idempotent), but never believes an activity completed whose effects the database lacks.
#
# Restore: for each database, pg_restore --clean --if-exists --create --exit-on-error --dbname=postgres, i.e.
# DROP DATABASE IF EXISTS, CREATE DATABASE (with the dumped encoding, locale, owner, settings and grants), then
# the contents. The same command restores into a dropped database and over an existing one. Ownership is
# restored as dumped (no --no-owner), so the roles must exist: they are server-wide and not in a dump (the
# deployment creates them). Before anything is dropped, every database of the backup is checked: marker,
# checksums, readable archive, and no session connected to it (stop the worker and the Temporal server first).
# Exit status: 0 done, 1 failure (message on stderr names the database), 2 usage.
set -eu

BACKUP_DATABASES="${BACKUP_DATABASES:-temporal temporal_visibility appdb}"
BACKUP_DIR="${BACKUP_DIR:-/backups}"
BACKUP_KEEP="${BACKUP_KEEP:-7}"
TIMESTAMP_GLOB='[0-9][0-9][0-9][0-9][0-9][0-9][0-9][0-9]T[0-9][0-9][0-9][0-9][0-9][0-9]Z'

say() { printf 'pg-backup: %s\n' "$*"; }
die() { printf 'pg-backup: %s\n' "$*" >&2; exit 1; }
usage() { printf 'usage: %s backup | restore [TIMESTAMP|latest] | list\n' "$0" >&2; exit 2; }

check_name() {
  case "$1" in
    '' | .* | *[!A-Za-z0-9_.-]*) die "invalid database name '$1' (letters, digits, _ . - only)" ;;
  esac
}

# psql on the maintenance database; SQL on stdin, so that -v variables are interpolated (:'name').
admin_sql() { psql -X -q -A -t -v ON_ERROR_STOP=1 --dbname=postgres "$@"; }

# Complete backups, newest first.
complete_backups() {
  [ -d "$BACKUP_DIR" ] || return 0
  for path in "$BACKUP_DIR"/$TIMESTAMP_GLOB; do
    [ -f "$path/complete" ] && printf '%s\n' "${path##*/}"
  done | sort -r
}

# Returns once the dump of $1 (application name $2, process $3) holds its snapshot, or has finished. A
# statement after the transaction's start with an xmin is pg_dump inside its REPEATABLE READ transaction.
wait_for_snapshot() {
  tries=0
  while [ ! -f "$1.exit" ]; do
    held=$(admin_sql -v app="$2" 2>/dev/null <<'SQL' || echo unknown
SELECT count(*) FROM pg_stat_activity
WHERE application_name = :'app' AND backend_xmin IS NOT NULL AND query_start > xact_start;
SQL
)
    case "$held" in
      0) ;;
      [1-9]*) return 0 ;;
      *) break ;;
    esac
    tries=$((tries + 1))
    [ "$tries" -lt 300 ] || break
    sleep 0.1
  done
  [ ! -f "$1.exit" ] || return 0
  # Not seen (no rights to see the session, say): wait for the dump to end, which orders the snapshots too, but
  # widens the gap between them (docs/operations.md, "Restore": orders started in the gap need their saga restarted).
  say "could not see the snapshot of $2 taken: waiting for its dump to end before the next" >&2
  wait "$3" || :
}

# One pg_dump; its exit status goes to <db>.exit (a shell's kill -0 cannot tell a finished child from a
# running one until it is reaped), its messages to <db>.log.
dump() {
  if PGAPPNAME="$3" pg_dump --format=custom --dbname="$2" --file="$1.dump.partial" 2>"$1.log"; then
    status=0
  else
    status=$?
  fi
  # Never exit before the status is recorded (set -e on a full disk would leave the waiters waiting): a status
  # that cannot be written is read back as a failure.
  { echo "$status" >"$1.exit.tmp" && mv "$1.exit.tmp" "$1.exit"; } 2>/dev/null || :
}

backup() {
  case "$BACKUP_KEEP" in '' | *[!0-9]* | 0) die "BACKUP_KEEP must be a whole number of at least 1, not '$BACKUP_KEEP'" ;; esac
  case "$BACKUP_DATABASES" in
    *[!A-Za-z0-9_.\ -]*) die "invalid BACKUP_DATABASES '$BACKUP_DATABASES' (names of letters, digits, _ . - and spaces between)" ;;
  esac
  # shellcheck disable=SC2086 # split on purpose: the names, one space apart in the manifest
  set -- $BACKUP_DATABASES
  [ $# -gt 0 ] || die "BACKUP_DATABASES is empty"
  databases="$*"
  for db in $databases; do check_name "$db"; done
  mkdir -p "$BACKUP_DIR"

  # mkdir is atomic: the folder is ours; a name taken (same second, or another run) waits for the next second.
  while :; do
    stamp=$(date -u +%Y%m%dT%H%M%SZ)
    dir="$BACKUP_DIR/$stamp"
    mkdir "$dir" 2>/dev/null && break
    [ -d "$dir" ] || die "cannot create $dir"
    sleep 1
  done
  say "backup $stamp of $databases to $BACKUP_DIR (server ${PGHOST:-local}:${PGPORT:-5432} as ${PGUSER:-$(id -un)})"

  for db in $databases; do
    dump "$dir/$db" "$db" "pg-backup $stamp $db" &
    wait_for_snapshot "$dir/$db" "pg-backup $stamp $db" $!
  done
  wait

  failed=""
  for db in $databases; do
    status=$(cat "$dir/$db.exit" 2>/dev/null || echo "unknown: its status could not be written (disk full?)")
    if [ "$status" = 0 ]; then
      mv "$dir/$db.dump.partial" "$dir/$db.dump"
    else
      failed="$failed $db"
      printf 'pg-backup: pg_dump of database %s failed (exit %s):\n' "$db" "$status" >&2
    fi
    if [ -s "$dir/$db.log" ]; then sed "s/^/pg-backup: [$db] /" "$dir/$db.log" >&2; fi
    rm -f "$dir/$db.log" "$dir/$db.exit"
  done
  [ -z "$failed" ] || die "backup $stamp is INCOMPLETE: dump failed for database(s):$failed (no complete marker written)"

  server_version=$(admin_sql -c 'SHOW server_version' 2>/dev/null || echo unknown)
  {
    echo "timestamp=$stamp"
    echo "databases=$databases"
    echo "pg_dump_version=$(pg_dump --version)"
    echo "server_version=$server_version"
    echo "finished=$(date -u +%Y-%m-%dT%H:%M:%SZ)"
  } >"$dir/manifest"
  (cd "$dir" && for db in $databases; do sha256sum "$db.dump"; done) >"$dir/SHA256SUMS"
  : >"$dir/complete"
  for db in $databases; do
    say "  $db.dump $(wc -c <"$dir/$db.dump" | tr -d ' ') bytes"
  done
  say "backup $stamp complete"
  retention
}

# Keeps the newest BACKUP_KEEP complete backups; deletes older complete ones and incomplete ones older than a
# day (a younger incomplete folder may be a run still writing). Only folders named like a backup are touched.
retention() {
  kept=0
  for name in $(complete_backups); do
    kept=$((kept + 1))
    if [ "$kept" -gt "$BACKUP_KEEP" ]; then
      rm -rf "${BACKUP_DIR:?}/$name"
      say "retention: deleted $name (keeping $BACKUP_KEEP)"
    fi
  done
  for path in "$BACKUP_DIR"/$TIMESTAMP_GLOB; do
    if [ -d "$path" ] && [ ! -f "$path/complete" ] && [ -n "$(find "$path" -maxdepth 0 -mmin +1440)" ]; then
      rm -rf "$path"
      say "retention: deleted incomplete ${path##*/}"
    fi
  done
}

# set_connections "DB..." true|false: opens or closes the existing ones of these databases to new connections.
set_connections() {
  for name in $1; do
    printf "SELECT format('ALTER DATABASE %%I ALLOW_CONNECTIONS %s', datname) FROM pg_database WHERE datname = :'db' \\gexec\n" "$2" |
      admin_sql -v db="$name" >/dev/null || die "cannot set ALLOW_CONNECTIONS $2 on database $name"
  done
}

restore() {
  which=${1:-latest}
  if [ "$which" = latest ]; then
    which=$(complete_backups | head -n 1)
    [ -n "$which" ] || die "no complete backup in $BACKUP_DIR: nothing restored"
  fi
  case "$which" in */* | .*) die "invalid backup name '$which'" ;; esac
  dir="$BACKUP_DIR/$which"
  [ -d "$dir" ] || die "backup $which not found in $BACKUP_DIR: nothing restored"
  [ -f "$dir/complete" ] || die "backup $which is incomplete (no complete marker): refusing to restore; nothing changed"
  [ -f "$dir/manifest" ] || die "backup $which has no manifest: refusing to restore; nothing changed"
  databases=$(sed -n 's/^databases=//p' "$dir/manifest")
  [ -n "$databases" ] || die "backup $which lists no databases in its manifest: refusing to restore"

  # Every check before the first database is dropped, so a refused restore changes nothing.
  (cd "$dir" && sha256sum -c SHA256SUMS >/dev/null 2>&1) || die "backup $which: checksum mismatch (see sha256sum -c $dir/SHA256SUMS); refusing to restore"
  for db in $databases; do
    check_name "$db"
    [ -f "$dir/$db.dump" ] || die "backup $which: $db.dump missing; refusing to restore"
    pg_restore --list "$dir/$db.dump" >/dev/null || die "backup $which: $db.dump is not a readable archive; refusing to restore"
    sessions=$(admin_sql -v db="$db" <<'SQL'
SELECT count(*) FROM pg_stat_activity WHERE datname = :'db' AND backend_type = 'client backend';
SQL
) || die "cannot connect to the server (database postgres) to restore $db"
    [ "$sessions" -eq 0 ] || die "database $db has $sessions open session(s): stop what uses it (scale the worker and the Temporal server to 0) and retry; nothing changed"
  done
  # Between that check and the drop nothing new may connect: the databases are closed to connections (the
  # restored ones are created open), and reopened when the restore stops short.
  set_connections "$databases" false
  for db in $databases; do
    sessions=$(printf "SELECT count(*) FROM pg_stat_activity WHERE datname = :'db' AND backend_type = 'client backend';\n" | admin_sql -v db="$db") ||
      { set_connections "$databases" true; die "cannot count the sessions of database $db; nothing changed"; }
    if [ "$sessions" -ne 0 ]; then
      set_connections "$databases" true
      die "database $db got $sessions session(s) while the restore started: stop what uses it and retry; nothing changed"
    fi
  done

  restored=""
  say "restoring backup $which ($(sed -n 's/^pg_dump_version=//p' "$dir/manifest")) to ${PGHOST:-local}:${PGPORT:-5432}"
  remaining="$databases"
  for db in $databases; do
    if ! pg_restore --clean --if-exists --create --exit-on-error --dbname=postgres "$dir/$db.dump"; then
      set_connections "$remaining" true
      die "restore of database $db from backup $which FAILED; databases restored before it: ${restored:-none}"
    fi
    restored="${restored:+$restored }$db"
    remaining="${remaining#"$db"}"
    remaining="${remaining# }"
    say "  restored $db"
  done
  say "restored backup $which: $restored"
}

[ $# -ge 1 ] || usage
command=$1
shift
case "$command" in
  backup) [ $# -eq 0 ] || usage; backup ;;
  restore) [ $# -le 1 ] || usage; restore "$@" ;;
  list) [ $# -eq 0 ] || usage; complete_backups ;;
  -h | --help | help) sed -n '2,/^set -eu/p' "$0" | sed '$d'; exit 0 ;;
  *) usage ;;
esac

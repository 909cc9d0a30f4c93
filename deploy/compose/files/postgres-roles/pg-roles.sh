#!/bin/sh
# Least-privilege access to the system's PostgreSQL databases (docs/security.md, "Database roles"). Run once per
# deployment, before anything else connects, by the postgres-roles job inside the official postgres image, as the
# superuser; idempotent, so every run (each upgrade) also applies a changed password. POSIX sh (dash, busybox).
#
# Each database gets two roles:
#   an owner  owns the database and every object in it: the schema job or migration job connects as it (DDL);
#   a user    may read and write the rows of every table, present and future, and nothing more: what runs
#             continuously connects as it (no CREATE, ALTER, DROP, TRUNCATE, and no other database).
# Objects made before the roles existed (a database first deployed with superuser access, or restored by the
# superuser) pass to the owner, so the user's rights cover them too.
#
# Settings (environment):
#   DATABASE_ROLES  space-separated database:owner:user triples, for example
#                   "temporal:temporal_schema:temporal appdb:orders_schema:orders". Roles may be shared between
#                   databases (one owner and one user for Temporal's two).
#   RELOAD_ROLE     optional: a role that may only log in to the database "postgres" and call pg_reload_conf()
#                   (the nightly certificate reload), so that nothing but this script needs the superuser.
#   PASSWORD_<role> the password of each role (the role name in upper case), never printed.
#   PGHOST, PGPORT, PGUSER, PGPASSWORD, PGSSLMODE...: libpq's own variables; PGUSER must be a superuser.
set -eu

: "${DATABASE_ROLES:?set DATABASE_ROLES to database:owner:user triples}"

# Every session first: statements here carry passwords, so none is logged, not even a failed one (the superuser may
# set these for its own session); and one run at a time (a session lock, held until psql exits), since two runs (two
# upgrades in a row) altering the same role would fail each other with "tuple concurrently updated".
SESSION=$(cat <<'SQL'
SET log_statement = 'none'; SET log_min_error_statement = 'panic'; SET log_min_duration_statement = -1;
DO $$BEGIN PERFORM pg_advisory_lock(4242424201); END$$;
SQL
)

psql_admin() {
  psql --no-psqlrc --quiet -v ON_ERROR_STOP=1 -c "$SESSION" -f - "$@"
}

# A role once, its password on every run. The password reaches psql through \getenv, never the command line.
password_variable() {
  printf 'PASSWORD_%s' "$1" | tr '[:lower:]' '[:upper:]'
}

ensure_role() {
  variable=$(password_variable "$1")
  psql_admin -d postgres -v role="$1" -v variable="$variable" <<'SQL'
SELECT format('CREATE ROLE %I LOGIN', :'role') WHERE NOT EXISTS (SELECT FROM pg_roles WHERE rolname = :'role')
\gexec
\getenv password :variable
-- NOSUPERUSER ... NOBYPASSRLS: a role made by hand earlier with more is brought down to what it needs.
SELECT format('ALTER ROLE %I LOGIN NOSUPERUSER NOCREATEDB NOCREATEROLE NOREPLICATION NOBYPASSRLS PASSWORD %L', :'role', :'password')
\gexec
SQL
}

ensure_database() {
  database=$1 owner=$2 user=$3
  psql_admin -d postgres -v database="$database" -v owner="$owner" -v user="$user" <<'SQL'
SELECT format('CREATE DATABASE %I OWNER %I', :'database', :'owner')
WHERE NOT EXISTS (SELECT FROM pg_database WHERE datname = :'database')
\gexec
SELECT format('ALTER DATABASE %I OWNER TO %I', :'database', :'owner')
\gexec
-- Only the two roles (and superusers) connect: PUBLIC's default CONNECT and TEMPORARY go.
SELECT format('REVOKE ALL ON DATABASE %I FROM PUBLIC', :'database')
\gexec
SELECT format('GRANT CONNECT ON DATABASE %I TO %I', :'database', :'user')
\gexec
SQL
  psql_admin -d "$database" -v owner="$owner" -v user="$user" <<'SQL'
-- PostgreSQL 15 and later already refuse PUBLIC CREATE on the public schema; said for every version.
REVOKE CREATE ON SCHEMA public FROM PUBLIC;
SELECT format('ALTER SCHEMA public OWNER TO %I', :'owner')
\gexec
-- Every table, view and sequence of the schema, whoever made it, to the owner (a sequence owned by a column
-- follows its table, and ALTER would refuse it alone).
SELECT format('ALTER %s %I.%I OWNER TO %I',
              CASE c.relkind WHEN 'S' THEN 'SEQUENCE' WHEN 'v' THEN 'VIEW' WHEN 'm' THEN 'MATERIALIZED VIEW' ELSE 'TABLE' END,
              n.nspname, c.relname, :'owner')
FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
WHERE n.nspname = 'public' AND c.relkind IN ('r', 'p', 'v', 'm', 'S')
  AND pg_get_userbyid(c.relowner) <> :'owner'
  AND NOT EXISTS (SELECT FROM pg_depend d WHERE d.objid = c.oid AND d.classid = 'pg_class'::regclass AND d.deptype IN ('a', 'i', 'e'))
\gexec
-- Functions and procedures, and types of their own (enums, domains, composites; a table's row type follows the
-- table). What an extension owns stays the extension's.
SELECT format('ALTER ROUTINE %s OWNER TO %I', p.oid::regprocedure, :'owner')
FROM pg_proc p JOIN pg_namespace n ON n.oid = p.pronamespace
WHERE n.nspname = 'public' AND pg_get_userbyid(p.proowner) <> :'owner'
  AND NOT EXISTS (SELECT FROM pg_depend d WHERE d.objid = p.oid AND d.classid = 'pg_proc'::regclass AND d.deptype = 'e')
\gexec
SELECT format('ALTER TYPE %I.%I OWNER TO %I', n.nspname, t.typname, :'owner')
FROM pg_type t JOIN pg_namespace n ON n.oid = t.typnamespace
WHERE n.nspname = 'public' AND pg_get_userbyid(t.typowner) <> :'owner'
  AND (t.typtype IN ('e', 'd', 'r', 'm') OR (t.typtype = 'c' AND (SELECT relkind FROM pg_class WHERE oid = t.typrelid) = 'c'))
  AND NOT EXISTS (SELECT FROM pg_depend d WHERE d.objid = t.oid AND d.classid = 'pg_type'::regclass AND d.deptype IN ('e', 'i'))
\gexec
SELECT format('GRANT USAGE ON SCHEMA public TO %I', :'user')
\gexec
SELECT format('GRANT SELECT, INSERT, UPDATE, DELETE ON ALL TABLES IN SCHEMA public TO %I', :'user')
\gexec
SELECT format('GRANT USAGE, SELECT, UPDATE ON ALL SEQUENCES IN SCHEMA public TO %I', :'user')
\gexec
-- What the owner creates later (the next migration) is the user's to read and write at once.
SELECT format('ALTER DEFAULT PRIVILEGES FOR ROLE %I IN SCHEMA public GRANT SELECT, INSERT, UPDATE, DELETE ON TABLES TO %I', :'owner', :'user')
\gexec
SELECT format('ALTER DEFAULT PRIVILEGES FOR ROLE %I IN SCHEMA public GRANT USAGE, SELECT, UPDATE ON SEQUENCES TO %I', :'owner', :'user')
\gexec
SQL
  echo "Database $database: owner $owner, user $user"
}

# Every triple and password checked before anything changes.
for triple in $DATABASE_ROLES; do
  IFS=: read -r database owner user <<EOF
$triple
EOF
  if [ -z "$database" ] || [ -z "$owner" ] || [ -z "$user" ] || [ "$owner" = "$user" ]; then
    echo "DATABASE_ROLES: '$triple' is not database:owner:user with two different roles" >&2
    exit 2
  fi
  # The roles are brought down to what they need: never the superuser this script runs as.
  if [ "$owner" = "${PGUSER:-postgres}" ] || [ "$user" = "${PGUSER:-postgres}" ]; then
    echo "DATABASE_ROLES: '$triple' names ${PGUSER:-postgres}, the superuser this runs as; give the database roles of its own" >&2
    exit 2
  fi
  for role in "$owner" "$user"; do
    if ! printenv "$(password_variable "$role")" >/dev/null; then
      echo "No password for role $role: set $(password_variable "$role")" >&2
      exit 2
    fi
  done
done
if [ -n "${RELOAD_ROLE:-}" ] && ! printenv "$(password_variable "$RELOAD_ROLE")" >/dev/null; then
  echo "No password for role $RELOAD_ROLE: set $(password_variable "$RELOAD_ROLE")" >&2
  exit 2
fi
for triple in $DATABASE_ROLES; do
  IFS=: read -r database owner user <<EOF
$triple
EOF
  ensure_role "$owner"
  ensure_role "$user"
done
for triple in $DATABASE_ROLES; do
  IFS=: read -r database owner user <<EOF
$triple
EOF
  ensure_database "$database" "$owner" "$user"
done
# The maintenance database too: by default anyone may connect to it and make temporary tables there.
psql_admin -d postgres <<'SQL'
REVOKE CONNECT, TEMPORARY ON DATABASE postgres FROM PUBLIC;
SQL
if [ -n "${RELOAD_ROLE:-}" ]; then
  ensure_role "$RELOAD_ROLE"
  psql_admin -d postgres -v role="$RELOAD_ROLE" <<'SQL'
SELECT format('GRANT CONNECT ON DATABASE postgres TO %I', :'role')
\gexec
SELECT format('GRANT EXECUTE ON FUNCTION pg_reload_conf() TO %I', :'role')
\gexec
SQL
  echo "Role $RELOAD_ROLE may reload the configuration"
fi
echo "Database roles are up to date"

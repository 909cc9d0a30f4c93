using Aspire.Hosting.ApplicationModel;

namespace Aspire.Hosting.Temporal;

/// <summary>
/// The one-shot jobs of the Temporal stack, as shell scripts run by <c>temporalio/admin-tools</c> (Alpine,
/// so busybox sh). All are idempotent: a restart against an existing database or namespace, or a version already
/// current, succeeds without changes. Credentials come from the environment, never from the command line.
/// </summary>
internal static class TemporalScripts
{
    /// <summary>Creates and migrates the <c>temporal</c> and <c>temporal_visibility</c> databases.</summary>
    /// <remarks>
    /// Temporal's documented order, safe on every run: <c>setup-schema -v 0.0</c> creates only the version
    /// tables (<c>CREATE TABLE IF NOT EXISTS</c>) and never lowers a recorded version, then <c>update-schema</c>
    /// applies whatever is missing. Calling <c>update-schema</c> first would print an error on a new database.
    /// </remarks>
    public static string SetupSchema { get; } = ForContainerShell("""
        set -eu
        schema=/etc/temporal/schema/postgresql/v12
        migrate() {
          sql="temporal-sql-tool --plugin postgres12 --ep $POSTGRES_SEEDS -p $DB_PORT -u $POSTGRES_USER --db $1"
          $sql create 2>/dev/null || echo "database $1 exists"
          $sql setup-schema -v 0.0
          $sql update-schema -d "$2"
        }
        migrate temporal "$schema/temporal/versioned"
        migrate temporal_visibility "$schema/visibility/versioned"
        echo "Temporal schema is up to date"
        """);

    /// <summary>
    /// The server's start with <see cref="TemporalTls"/>: off, the image's own start; on, its configuration template's TLS
    /// variables first (frontend and internode from the mounted Secret, a client certificate of its CA required of every
    /// caller, the certificate files read again every 10 minutes, so a renewed one applies without a restart).
    /// </summary>
    public static string StartServer(string serverName) => ForContainerShell($$"""
        set -eu
        if [ "${{{TemporalTls.SwitchVariable}}:-false}" = true ]; then
          d={{TemporalTls.ServerPath}}
          # The Secret may come after the pod: wait for it rather than fail (and stop when told to meanwhile, within a sleep).
          trap 'exit 143' TERM INT
          until [ -s "$d/tls.key" ]; do echo "Waiting for the Secret {{TemporalTls.ServerSecret}} ($d/tls.key)"; sleep 5; done
          export TEMPORAL_TLS_SERVER_CERT="$d/tls.crt" TEMPORAL_TLS_SERVER_KEY="$d/tls.key" TEMPORAL_TLS_SERVER_CA_CERT="$d/ca.crt"
          export TEMPORAL_TLS_FRONTEND_CERT="$d/tls.crt" TEMPORAL_TLS_FRONTEND_KEY="$d/tls.key"
          export TEMPORAL_TLS_CLIENT1_CA_CERT="$d/ca.crt" TEMPORAL_TLS_CLIENT2_CA_CERT="$d/ca.crt" TEMPORAL_TLS_REQUIRE_CLIENT_AUTH=true
          export TEMPORAL_TLS_INTERNODE_SERVER_NAME={{serverName}} TEMPORAL_TLS_FRONTEND_SERVER_NAME={{serverName}}
          export TEMPORAL_TLS_REFRESH_INTERVAL=10m TEMPORAL_TLS_EXPIRATION_CHECKS_CHECK_INTERVAL=1h
          # cert-manager renews 30 days before the end: a warning 20 days before means the renewal is 10 days late.
          export TEMPORAL_TLS_EXPIRATION_CHECKS_WARNING_WINDOW=480h TEMPORAL_TLS_EXPIRATION_CHECKS_ERROR_WINDOW=168h
          echo "Frontend and internode TLS on ({{TemporalTls.ServerSecret}}), client certificates required"
        fi
        if [ -n "${{{TemporalAuthorization.JwksVariable}}:-}" ]; then
          # The internal frontend answers the server's own worker as an admin, whoever calls: only internode mutual TLS keeps others out.
          if [ "${{{TemporalTls.SwitchVariable}}:-false}" != true ]; then
            echo "Authorization needs the server's TLS ({{TemporalTls.SwitchVariable}}=true): its internal frontend would be open to anyone" >&2
            exit 2
          fi
          export TEMPORAL_AUTH_AUTHORIZER=default TEMPORAL_AUTH_CLAIM_MAPPER=default TEMPORAL_JWT_KEY_SOURCE1="${{{TemporalAuthorization.JwksVariable}}}"
          export USE_INTERNAL_FRONTEND=true
          # The whole server, or the topology's frontend pods, run the internal frontend beside the frontend; it opens
          # pools of its own, so each service's share shrinks to keep the process within the connection budget.
          services=
          case "${TEMPORAL_SERVICES:-}" in
            "") services=4; export TEMPORAL_SERVICES=frontend,internal-frontend,history,matching,worker ;;
            frontend) services=1; export TEMPORAL_SERVICES=frontend,internal-frontend ;;
          esac
          if [ -n "$services" ]; then
            for pool in SQL_MAX_CONNS SQL_MAX_IDLE_CONNS SQL_VIS_MAX_CONNS SQL_VIS_MAX_IDLE_CONNS; do
              eval "size=\${$pool:-}"
              if [ -n "$size" ]; then
                size=$((size * services / (services + 1)))
                [ "$size" -ge 1 ] || size=1
                export "$pool=$size"
              fi
            done
          fi
          echo "Authorization on: calls need a token whose permissions claim names the namespace (keys from ${{{TemporalAuthorization.JwksVariable}}})"
        fi
        exec /etc/temporal/entrypoint.sh
        """);

    /// <summary>The Web UI's start with <see cref="TemporalTls"/>: on, its TLS variables to the frontend first.</summary>
    public static string StartUi(string serverName) => ForContainerShell($$"""
        set -eu
        if [ "${{{TemporalTls.SwitchVariable}}:-false}" = true ]; then
          d={{TemporalTls.ClientPath}}
          export TEMPORAL_TLS_CA="$d/ca.crt" TEMPORAL_TLS_CERT="$d/tls.crt" TEMPORAL_TLS_KEY="$d/tls.key"
          export TEMPORAL_TLS_ENABLE_HOST_VERIFICATION=true TEMPORAL_TLS_SERVER_NAME={{serverName}}
        fi
        exec ./start-ui-server.sh
        """);

    /// <summary>
    /// What a CLI job runs first: with <see cref="TemporalTls"/> on, the CLI's own TLS variables (set only then: any of
    /// them turns its TLS on); with the administrator's token of <see cref="TemporalAuthorization"/> mounted, that token.
    /// </summary>
    public static string CliCredentials(string serverName) => ForContainerShell($$"""
        if [ "${{{TemporalTls.SwitchVariable}}:-false}" = true ]; then
          d={{TemporalTls.ClientPath}}
          export TEMPORAL_TLS=true TEMPORAL_TLS_CLIENT_CERT_PATH="$d/tls.crt" TEMPORAL_TLS_CLIENT_KEY_PATH="$d/tls.key"
          export TEMPORAL_TLS_SERVER_CA_CERT_PATH="$d/ca.crt" TEMPORAL_TLS_SERVER_NAME={{serverName}}
          # An administrator's token, where its Secret is there, for a server with an authorizer (which needs TLS; the CLI
          # would turn TLS on for a key by itself, so never without it).
          if [ -s {{TemporalAuthorization.TokenPath}}/{{TemporalAuthorization.AdminKey}} ]; then
            TEMPORAL_API_KEY=$(cat {{TemporalAuthorization.TokenPath}}/{{TemporalAuthorization.AdminKey}})
            export TEMPORAL_API_KEY
          fi
        fi

        """);

    /// <summary>Registers a namespace unless it exists, retrying while the server settles.</summary>
    /// <remarks>
    /// The frontend answers SERVING before its membership ring has settled, so the first describe or create
    /// can fail (Temporal's samples-server retries here for the same reason). 30 tries 2 s apart, then a
    /// non-zero exit that names the namespace: the worker waits for this job and must not wait on a silent one.
    /// </remarks>
    public static string CreateNamespace { get; } = ForContainerShell("""
        set -eu
        tries=30
        try=1
        until temporal operator namespace describe -n "$TEMPORAL_NAMESPACE" --address "$TEMPORAL_ADDRESS" >/dev/null 2>&1 \
          || temporal operator namespace create -n "$TEMPORAL_NAMESPACE" --retention "$TEMPORAL_RETENTION" --address "$TEMPORAL_ADDRESS"; do
          if [ "$try" -ge "$tries" ]; then
            echo "Namespace $TEMPORAL_NAMESPACE could not be created at $TEMPORAL_ADDRESS after $tries tries" >&2
            exit 1
          fi
          echo "Namespace $TEMPORAL_NAMESPACE not created yet (try $try of $tries); retrying in 2 s" >&2
          try=$((try + 1))
          sleep 2
        done
        echo "Namespace $TEMPORAL_NAMESPACE is ready"
        """);

    /// <summary>Makes a Worker Deployment Version current, refusing to guess either half of it.</summary>
    /// <remarks>
    /// Both values come from settings that are empty by default (an unversioned worker has neither), so an empty one
    /// is a forgotten setting: exit 2 before any call, naming both. The CLI asks for confirmation unless told
    /// <c>--yes</c>, and a one-shot container has no one to answer.
    /// </remarks>
    public static string SetCurrentVersion { get; } = ForContainerShell("""
        set -eu
        if [ -z "${DEPLOYMENT_NAME:-}" ] || [ -z "${BUILD_ID:-}" ]; then
          echo "Name the version to make current: DEPLOYMENT_NAME and BUILD_ID must both be set (deployment '${DEPLOYMENT_NAME:-}', build '${BUILD_ID:-}')" >&2
          exit 2
        fi
        temporal worker deployment set-current-version --deployment-name "$DEPLOYMENT_NAME" --build-id "$BUILD_ID" \
          --address "$TEMPORAL_ADDRESS" --namespace "$TEMPORAL_NAMESPACE" --yes
        echo "Build $BUILD_ID of worker deployment $DEPLOYMENT_NAME is current in namespace $TEMPORAL_NAMESPACE"
        """);

    /// <summary>
    /// A checkout with CRLF line endings would put them into these literals, and busybox sh fails on
    /// <c>set -eu\r</c>: whatever the checkout, the container gets <c>\n</c>.
    /// </summary>
    private static string ForContainerShell(string script) => script.ReplaceLineEndings("\n");
}

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

namespace Aspire.Hosting;

/// <summary>
/// The one-shot jobs of the Temporal stack, as shell scripts run by <c>temporalio/admin-tools</c>. Both
/// are idempotent: a restart against an existing database or namespace succeeds without changes.
/// Credentials come from the environment, never from the command line.
/// </summary>
internal static class TemporalScripts
{
    /// <summary>Creates and migrates the <c>temporal</c> and <c>temporal_visibility</c> databases.</summary>
    public const string SetupSchema = """
        set -eu
        schema=/etc/temporal/schema/postgresql/v12
        for db in temporal temporal_visibility; do
          dir=$schema/temporal/versioned
          [ "$db" = temporal_visibility ] && dir=$schema/visibility/versioned
          sql="temporal-sql-tool --plugin postgres12 --ep $POSTGRES_SEEDS -p $DB_PORT -u $POSTGRES_USER --db $db"
          $sql create 2>/dev/null || echo "database $db exists"
          # update-schema fails on a database that never had a schema: set it up once, then migrate.
          $sql update-schema -d "$dir" || { $sql setup-schema -v 0.0 && $sql update-schema -d "$dir"; }
        done
        echo "Temporal schema is up to date"
        """;

    /// <summary>Registers the worker's namespace unless it exists.</summary>
    public const string CreateNamespace = """
        set -eu
        until temporal operator cluster health --address "$TEMPORAL_ADDRESS"; do sleep 2; done
        temporal operator namespace describe -n "$TEMPORAL_NAMESPACE" --address "$TEMPORAL_ADDRESS" >/dev/null 2>&1 \
          || temporal operator namespace create -n "$TEMPORAL_NAMESPACE" --retention "$TEMPORAL_RETENTION" --address "$TEMPORAL_ADDRESS"
        echo "Namespace $TEMPORAL_NAMESPACE is ready"
        """;
}

using System.Globalization;
using Npgsql;

namespace Worker.Orders.Persistence;

/// <summary>
/// Applies the missing migrations of a list without stalling the traffic of the replicas already running.
/// One transaction under an advisory lock, so one replica migrates and the others, once they get the lock,
/// find the migrations done and apply nothing. Every lock wait is bounded by <see cref="LockTimeoutMilliseconds"/>;
/// an attempt that times out is rolled back and tried again after a growing delay, with a warning each time.
/// </summary>
internal sealed partial class MigrationRunner(NpgsqlDataSource dataSource, IReadOnlyList<Migration> migrations, ILogger logger)
{
    // Arbitrary but fixed: identifies "schema migration of the orders app" among advisory locks.
    private const long MigrationLockKey = 0x4F52444552530001;

    // Most ALTER TABLEs need ACCESS EXCLUSIVE. While one waits for it behind a long reader, PostgreSQL queues every
    // later query on that table behind it, so an unbounded wait stalls all order traffic for as long as the reader
    // lasts. Giving up after a couple of seconds bounds that stall and gives the queue back; the attempt is retried.
    // The same bound on the advisory lock brings waiting replicas back to check whether the migrator has finished.
    internal const int LockTimeoutMilliseconds = 2_000;

    private static readonly TimeSpan FirstRetryDelay = TimeSpan.FromMilliseconds(250);
    private static readonly TimeSpan MaxRetryDelay = TimeSpan.FromSeconds(5);

    // What the current attempt waits for, so a lock timeout's warning can say whether it was another replica's
    // migration (the advisory lock) or a transaction on a table a migration alters.
    private string step = "";

    /// <summary>Applies the missing migrations, retrying lock timeouts; returns the version the database is at.</summary>
    public async Task<int> RunAsync(CancellationToken cancellationToken)
    {
        var delay = FirstRetryDelay;
        while (true)
        {
            try
            {
                return await AttemptAsync(cancellationToken);
            }
            catch (PostgresException e) when (e.SqlState == PostgresErrorCodes.LockNotAvailable)
            {
                // Jitter, so replicas that timed out together do not come back together.
                var wait = delay * (0.5 + (Random.Shared.NextDouble() / 2));
                LogLockTimeout(logger, step, LockTimeoutMilliseconds / 1000.0, Math.Round(wait.TotalSeconds, 2));
                await Task.Delay(wait, cancellationToken);
                delay = TimeSpan.FromTicks(Math.Min(delay.Ticks * 2, MaxRetryDelay.Ticks));
            }
        }
    }

    private async Task<int> AttemptAsync(CancellationToken cancellationToken)
    {
        await using var connection = await dataSource.OpenConnectionAsync(cancellationToken);
        var current = await CurrentVersionAsync(connection, null, cancellationToken);
        if (current >= migrations.Count)
        {
            // A newer version than ours is a rolling update in progress: migrations only add, so this code works.
            return current;
        }

        await using var transaction = await connection.BeginTransactionAsync(cancellationToken);
        await ExecuteAsync(connection, transaction, "SELECT set_config('lock_timeout', @timeout, true)", cancellationToken,
            ("timeout", LockTimeoutMilliseconds.ToString(CultureInfo.InvariantCulture)));
        step = "the migration lock (another replica is migrating)";
        await ExecuteAsync(connection, transaction, "SELECT pg_advisory_xact_lock(@key)", cancellationToken, ("key", MigrationLockKey));
        step = "a lock on schema_migrations";
        await ExecuteAsync(connection, transaction, """
            CREATE TABLE IF NOT EXISTS schema_migrations (
                version    integer PRIMARY KEY,
                name       text NOT NULL,
                applied_at timestamptz NOT NULL DEFAULT now()
            )
            """, cancellationToken);
        // Another replica may have migrated while this one waited for the lock.
        current = await CurrentVersionAsync(connection, transaction, cancellationToken);
        for (var version = current + 1; version <= migrations.Count; version++)
        {
            var migration = migrations[version - 1];
            step = $"a lock for migration {version}, {migration.Name} (a transaction is using a table it alters)";
            await ExecuteAsync(connection, transaction, migration.Script, cancellationToken);
            await ExecuteAsync(connection, transaction, "INSERT INTO schema_migrations (version, name) VALUES (@version, @name)",
                cancellationToken, ("version", version), ("name", migration.Name));
        }
        await transaction.CommitAsync(cancellationToken);
        return Math.Max(current, migrations.Count);
    }

    private static async Task<int> CurrentVersionAsync(
        NpgsqlConnection connection, NpgsqlTransaction? transaction, CancellationToken cancellationToken)
    {
        // A query naming a missing table fails when it is parsed, so ask whether the table exists first.
        await using var exists = new NpgsqlCommand("SELECT to_regclass('schema_migrations') IS NOT NULL", connection, transaction);
        if (!(bool)(await exists.ExecuteScalarAsync(cancellationToken))!)
        {
            return 0;
        }
        await using var command = new NpgsqlCommand("SELECT COALESCE(max(version), 0) FROM schema_migrations", connection, transaction);
        return (int)(await command.ExecuteScalarAsync(cancellationToken))!;
    }

    private static async Task ExecuteAsync(
        NpgsqlConnection connection, NpgsqlTransaction transaction, string sql, CancellationToken cancellationToken,
        params (string Name, object Value)[] parameters)
    {
        await using var command = new NpgsqlCommand(sql, connection, transaction);
        foreach (var (name, value) in parameters)
        {
            command.Parameters.AddWithValue(name, value);
        }
        await command.ExecuteNonQueryAsync(cancellationToken);
    }

    [LoggerMessage(Level = LogLevel.Warning,
        Message = "Schema migration gave up after waiting {LockTimeoutSeconds}s for {Step}; retrying in {DelaySeconds}s")]
    private static partial void LogLockTimeout(ILogger logger, string step, double lockTimeoutSeconds, double delaySeconds);
}

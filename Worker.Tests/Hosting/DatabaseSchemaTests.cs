using System.Diagnostics;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Diagnostics.HealthChecks;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Logging.Abstractions;
using Microsoft.Extensions.Options;
using Npgsql;
using Worker.Orders.Persistence;
using Xunit.Abstractions;

namespace Worker.Tests.Hosting;

public sealed class DatabaseSchemaTests(ITestOutputHelper output)
{
    [Fact]
    public async Task Four_replicas_starting_together_all_succeed_and_one_of_them_applies_each_migration_once()
    {
        var connection = await TestDatabases.CreateAsync("schema");
        var sources = Enumerable.Range(0, 4).Select(_ => NpgsqlDataSource.Create(connection)).ToList();
        try
        {
            var versions = await Task.WhenAll(sources.Select(async s =>
            {
                var version = await DatabaseSchema.MigrateAsync(s, CancellationToken.None);
                await CatalogueSeed.SeedAsync(s, CancellationToken.None);
                return version;
            }));

            Assert.All(versions, v => Assert.Equal(DatabaseSchema.LatestVersion, v));
            // applied_at is the applying transaction's start: one value means one replica applied them all.
            Assert.Equal($"{DatabaseSchema.LatestVersion} versions, {DatabaseSchema.LatestVersion} rows, 1 transaction",
                await ScalarAsync(sources[0], """
                    SELECT count(DISTINCT version) || ' versions, ' || count(*) || ' rows, ' || count(DISTINCT applied_at) || ' transaction'
                    FROM schema_migrations
                    """));
            Assert.Equal(6L, await ScalarAsync(sources[0], "SELECT count(*) FROM products"));
        }
        finally
        {
            foreach (var source in sources)
            {
                await source.DisposeAsync();
            }
        }
    }

    [Fact]
    public async Task A_migration_behind_a_long_reader_gives_way_so_order_traffic_never_stalls()
    {
        await using var source = NpgsqlDataSource.Create(await TestDatabases.CreateAsync("schema"));
        await DatabaseSchema.MigrateAsync(source, CancellationToken.None);
        await ScalarAsync(source, "INSERT INTO orders (id, request_hash, request, status) VALUES ('o-1', 'h', '{}', 'Pending')");
        // ADD COLUMN needs ACCESS EXCLUSIVE on orders, as most ALTER TABLEs do.
        var migrations = DatabaseSchema.Migrations.Append(new Migration("test: note on orders", "ALTER TABLE orders ADD COLUMN note text")).ToList();
        var lockTimeout = TimeSpan.FromMilliseconds(MigrationRunner.LockTimeoutMilliseconds);

        // The long reader: a transaction that has read orders holds ACCESS SHARE on it until it ends.
        await using var reader = await source.OpenConnectionAsync();
        await using var readerTransaction = await reader.BeginTransactionAsync();
        await using (var read = new NpgsqlCommand("SELECT count(*) FROM orders", reader, readerTransaction))
        {
            await read.ExecuteScalarAsync();
        }
        var logs = new LogCapture();
        var migration = new MigrationRunner(source, migrations, logs.CreateLogger("migration")).RunAsync(CancellationToken.None);
        await WaitUntilAsync("the migration waits for its lock on orders", source, """
            SELECT EXISTS (SELECT FROM pg_locks WHERE database = (SELECT oid FROM pg_database WHERE datname = current_database())
                AND relation = 'orders'::regclass AND mode = 'AccessExclusiveLock' AND NOT granted)
            """);
        var migratedWhileReading = true;
        // Long enough that waiting for the reader and waiting for the lock timeout stay apart on a loaded machine.
        var readerLasts = 5 * lockTimeout;
        var readerEnds = Task.Run(async () =>
        {
            await Task.Delay(readerLasts);
            migratedWhileReading = migration.IsCompleted;
            await readerTransaction.CommitAsync();
        });

        // Order traffic from other connections for as long as the reader lasts.
        var slowest = TimeSpan.Zero;
        var statements = 0;
        while (!readerEnds.IsCompleted)
        {
            foreach (var statement in new[]
                {
                    "SELECT status FROM orders WHERE id = 'o-1'",
                    "UPDATE orders SET version = version + 1, updated_at = now() WHERE id = 'o-1'",
                })
            {
                var started = Stopwatch.GetTimestamp();
                await ScalarAsync(source, statement);
                slowest = TimeSpan.FromTicks(Math.Max(slowest.Ticks, Stopwatch.GetElapsedTime(started).Ticks));
                statements++;
            }
        }
        await readerEnds;
        output.WriteLine($"{statements} order statements, the slowest {slowest.TotalSeconds:0.00}s; lock timeout {lockTimeout.TotalSeconds}s");
        output.WriteLine(string.Join(Environment.NewLine, logs.Entries.Select(e => $"{e.Level}: {e.Message}")));

        // A statement queued behind the migration's request waits about the lock timeout, never the reader's length
        // (the first statements would wait almost all of it): half of it leaves room for a machine's scheduling delays.
        Assert.True(slowest < readerLasts / 2, $"an order statement took {slowest.TotalSeconds:0.00}s; the reader lasted {readerLasts.TotalSeconds}s, the lock timeout is {lockTimeout.TotalSeconds}s");
        Assert.False(migratedWhileReading);
        Assert.Contains(logs.Entries, e => e.Level == LogLevel.Warning && e.Message.Contains($"migration {migrations.Count}", StringComparison.Ordinal));
        Assert.Equal(migrations.Count, await migration.WaitAsync(TimeSpan.FromSeconds(30)));
        Assert.Equal($"{migrations.Count} rows, 1 for version {migrations.Count}", await ScalarAsync(source, $"""
            SELECT count(*) || ' rows, ' || count(*) FILTER (WHERE version = {migrations.Count}) || ' for version {migrations.Count}'
            FROM schema_migrations
            """));
        Assert.Equal(0L, await ScalarAsync(source, "SELECT count(note) FROM orders"));
    }

    [Fact]
    public async Task A_replica_waiting_for_another_to_migrate_warns_at_each_retry_stays_unready_and_applies_nothing()
    {
        await using var source = NpgsqlDataSource.Create(await TestDatabases.CreateAsync("schema"));
        var lockTimeout = TimeSpan.FromMilliseconds(MigrationRunner.LockTimeoutMilliseconds);
        // The other replica is a newer version with a slow last migration: it holds the migration lock meanwhile, long
        // enough for two of the waiting replica's lock timeouts with room for a slow start.
        var newer = DatabaseSchema.Migrations.Append(new Migration("test: slow", $"SELECT pg_sleep({5 * lockTimeout.TotalSeconds})")).ToList();
        var migrator = new MigrationRunner(source, newer, NullLogger.Instance).RunAsync(CancellationToken.None);
        await WaitUntilAsync("the other replica holds the migration lock", source, """
            SELECT EXISTS (SELECT FROM pg_locks WHERE database = (SELECT oid FROM pg_database WHERE datname = current_database())
                AND locktype = 'advisory' AND granted)
            """);

        var logs = new LogCapture();
        using var loggers = LoggerFactory.Create(b => b.AddProvider(logs));
        using var initializer = new DatabaseInitializer(
            source, Options.Create(new OrdersOptions { SeedCatalogue = false }), loggers.CreateLogger<DatabaseInitializer>());
        await initializer.StartAsync(CancellationToken.None);
        try
        {
            await WaitUntilAsync("two warnings from the waiting replica", () => logs.Entries.Count(e => e.Level == LogLevel.Warning) >= 2);
            Assert.False(migrator.IsCompleted);
            Assert.Equal(HealthStatus.Unhealthy, (await initializer.CheckHealthAsync(new HealthCheckContext())).Status);
            Assert.All(logs.Entries.Where(e => e.Level == LogLevel.Warning),
                e => Assert.Contains("another replica is migrating", e.Message, StringComparison.Ordinal));

            await migrator.WaitAsync(TimeSpan.FromSeconds(30));
            using var timeout = new CancellationTokenSource(TimeSpan.FromSeconds(30));
            await initializer.WaitReadyAsync(timeout.Token);
            Assert.Equal(HealthStatus.Healthy, (await initializer.CheckHealthAsync(new HealthCheckContext())).Status);
            output.WriteLine(string.Join(Environment.NewLine, logs.Entries.Select(e => $"{e.Level}: {e.Message}")));
            // Every migration recorded once, by the other replica's one transaction.
            Assert.Equal($"{newer.Count} rows, 1 transaction", await ScalarAsync(source,
                "SELECT count(*) || ' rows, ' || count(DISTINCT applied_at) || ' transaction' FROM schema_migrations"));
        }
        finally
        {
            await initializer.StopAsync(CancellationToken.None);
        }
    }

    [Fact]
    public async Task Applying_the_schema_and_seed_again_keeps_data_and_does_not_reset_stock()
    {
        await using var source = NpgsqlDataSource.Create(await TestDatabases.CreateAsync("schema"));
        await DatabaseSchema.MigrateAsync(source, CancellationToken.None);
        Assert.Equal(6, await CatalogueSeed.SeedAsync(source, CancellationToken.None));
        await using (var sell = source.CreateCommand("UPDATE products SET stock = 3 WHERE sku = 'GRINDER'"))
        {
            await sell.ExecuteNonQueryAsync();
        }

        await DatabaseSchema.MigrateAsync(source, CancellationToken.None);
        Assert.Equal(0, await CatalogueSeed.SeedAsync(source, CancellationToken.None));

        await using var stock = source.CreateCommand("SELECT stock FROM products WHERE sku = 'GRINDER'");
        Assert.Equal(3, await stock.ExecuteScalarAsync());
    }

    [Fact]
    public async Task Each_migration_is_recorded_once_in_order()
    {
        await using var source = NpgsqlDataSource.Create(await TestDatabases.CreateAsync("schema"));

        Assert.Equal(DatabaseSchema.LatestVersion, await DatabaseSchema.MigrateAsync(source, CancellationToken.None));
        Assert.Equal(DatabaseSchema.LatestVersion, await DatabaseSchema.MigrateAsync(source, CancellationToken.None));

        await using var versions = source.CreateCommand("SELECT array_agg(version ORDER BY version) FROM schema_migrations");
        Assert.Equal(Enumerable.Range(1, DatabaseSchema.LatestVersion), (int[])(await versions.ExecuteScalarAsync())!);
    }

    [Fact]
    public async Task A_database_created_before_versioning_is_adopted_and_migrated_keeping_its_orders()
    {
        await using var source = NpgsqlDataSource.Create(await TestDatabases.CreateAsync("schema"));
        await using (var old = source.CreateCommand(DatabaseSchema.Migrations[0].Script +
            "; INSERT INTO orders (id, request_hash, request, status) VALUES ('old-1', 'h', '{}', 'Completed')"))
        {
            await old.ExecuteNonQueryAsync();
        }

        await DatabaseSchema.MigrateAsync(source, CancellationToken.None);

        await using var order = source.CreateCommand("SELECT status || ' v' || version FROM orders WHERE id = 'old-1'");
        Assert.Equal("Completed v1", await order.ExecuteScalarAsync());
    }

    [Fact]
    public async Task Charges_left_pending_in_the_ledger_move_out_of_it_and_one_refunded_unconfirmed_leaves_with_its_refund()
    {
        // Builds between migrations 2 and 3 kept charges in flight in the ledger, as payments rows with state 'pending'.
        await using var source = NpgsqlDataSource.Create(await TestDatabases.CreateAsync("schema"));
        await new MigrationRunner(source, DatabaseSchema.Migrations.Take(2).ToList(), NullLogger.Instance).RunAsync(CancellationToken.None);
        await using (var rows = source.CreateCommand("""
            INSERT INTO orders (id, request_hash, request, status) VALUES
                ('in-flight', 'h', '{}', 'Reserved'), ('refunded', 'h', '{}', 'Cancelled'), ('paid', 'h', '{}', 'Completed');
            INSERT INTO payments (order_id, kind, amount, reference, state) VALUES
                ('in-flight', 'charge', 10, 'charge-in-flight', 'pending'),
                ('refunded', 'charge', 20, 'charge-refunded', 'pending'), ('refunded', 'refund', -20, 'charge-refunded', 'settled'),
                ('paid', 'charge', 30, 'gw-ref-1', 'settled');
            """))
        {
            await rows.ExecuteNonQueryAsync();
        }

        await DatabaseSchema.MigrateAsync(source, CancellationToken.None);

        await using var ledger = source.CreateCommand("SELECT string_agg(order_id || ':' || kind || ':' || amount, ',' ORDER BY order_id) FROM payments");
        Assert.Equal("paid:charge:30.00", await ledger.ExecuteScalarAsync());
        await using var pending = source.CreateCommand("SELECT string_agg(order_id || ':' || amount || ':' || idempotency_key, ',') FROM pending_charges");
        Assert.Equal("in-flight:10.00:charge-in-flight", await pending.ExecuteScalarAsync());
    }

    [Fact]
    public async Task A_start_against_a_current_schema_needs_only_table_rights()
    {
        var owner = await TestDatabases.CreateAsync("schema");
        await using var ownerSource = NpgsqlDataSource.Create(owner);
        await DatabaseSchema.MigrateAsync(ownerSource, CancellationToken.None);
        var role = $"app_{Guid.NewGuid():N}";
        await using (var grant = ownerSource.CreateCommand($"""
            CREATE ROLE {role} LOGIN;
            GRANT USAGE ON SCHEMA public TO {role};
            GRANT SELECT, INSERT, UPDATE, DELETE ON ALL TABLES IN SCHEMA public TO {role};
            """))
        {
            await grant.ExecuteNonQueryAsync();
        }
        var asRole = new NpgsqlConnectionStringBuilder(owner) { Username = role }.ConnectionString;
        await using var roleSource = NpgsqlDataSource.Create(asRole);

        Assert.Equal(DatabaseSchema.LatestVersion, await DatabaseSchema.MigrateAsync(roleSource, CancellationToken.None));
        // The migrations hold no data: the catalogue seed after them adds it, with the same table rights.
        Assert.Equal(6, await CatalogueSeed.SeedAsync(roleSource, CancellationToken.None));

        // The same role on a database that still needs its migrations is refused: the rights are really that narrow.
        await using var freshAsRole = NpgsqlDataSource.Create(
            new NpgsqlConnectionStringBuilder(await TestDatabases.CreateAsync("schema")) { Username = role }.ConnectionString);
        var denied = await Assert.ThrowsAsync<PostgresException>(() => DatabaseSchema.MigrateAsync(freshAsRole, CancellationToken.None));
        Assert.Equal(PostgresErrorCodes.InsufficientPrivilege, denied.SqlState);
    }

    [Theory]
    [InlineData(null, 6)]
    [InlineData("false", 0)]
    public async Task The_worker_seeds_the_catalogue_unless_told_not_to(string? seedCatalogue, int products)
    {
        var settings = WorkerFactory.DefaultSettings(await TestDatabases.CreateAsync("schema"), null);
        settings["Orders:SeedCatalogue"] = seedCatalogue;
        using var factory = new WorkerFactory(settings);
        using var client = factory.CreateAuthorizedClient();
        using var timeout = new CancellationTokenSource(TimeSpan.FromSeconds(30));
        await factory.Services.GetRequiredService<DatabaseInitializer>().WaitReadyAsync(timeout.Token);

        var catalogue = await client.GetFromJsonAsync<JsonElement>("/api/products");

        Assert.Equal(products, catalogue.GetArrayLength());
    }

    private static async Task<object?> ScalarAsync(NpgsqlDataSource source, string sql)
    {
        await using var command = source.CreateCommand(sql);
        return await command.ExecuteScalarAsync();
    }

    private static Task WaitUntilAsync(string what, NpgsqlDataSource source, string condition) =>
        WaitUntilAsync(what, async () => (bool)(await ScalarAsync(source, condition))!);

    private static Task WaitUntilAsync(string what, Func<bool> condition) => WaitUntilAsync(what, () => Task.FromResult(condition()));

    private static async Task WaitUntilAsync(string what, Func<Task<bool>> condition)
    {
        var deadline = Stopwatch.GetTimestamp() + (Stopwatch.Frequency * 30);
        while (!await condition())
        {
            Assert.True(Stopwatch.GetTimestamp() < deadline, $"waited 30 s in vain for {what}");
            await Task.Delay(20);
        }
    }
}

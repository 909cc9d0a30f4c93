using Microsoft.Extensions.DependencyInjection;
using Npgsql;
using Temporalio.Client;

namespace Worker.Tests.EndToEnd;

/// <summary>
/// scripts/pg-backup.sh, run as the CronJob runs it, against a database the real worker wrote: the backup
/// restores every table exactly into a dropped database and the worker carries on from it; an incomplete
/// backup is refused; retention keeps the newest complete backups.
/// </summary>
public sealed class BackupRestoreTests
{
    private static readonly string[] ApplicationTables =
        ["orders", "payment_tokens", "payments", "pending_charges", "products", "reservations", "schema_migrations", "shipments"];

    private static string NewId(string prefix) => $"{prefix}-{Guid.NewGuid():N}"[..30];

    [Fact]
    public async Task Backup_of_a_working_database_restores_every_table_exactly_after_a_drop_and_the_worker_serves_new_orders()
    {
        var env = new SlowShippingEnvironment();
        var backups = Directory.CreateTempSubdirectory("pg-backup-");
        WorkerFactory? successor = null;
        try
        {
            await env.InitializeAsync();
            var database = DatabaseName(env.Database.ConnectionString);
            var (happy, other, declined, cancelled, rejected) = (NewId("bk-happy"), NewId("bk-other"), NewId("bk-decline"), NewId("bk-cancel"), NewId("bk-reject"));
            await Task.WhenAll(
                PlaceAndExpectAsync(env, happy, "tok_visa", OrderStatus.Completed, new OrderLine("GRINDER", 2)),
                PlaceAndExpectAsync(env, other, "tok_visa", OrderStatus.Completed, new OrderLine("BEANS-1KG", 3), new OrderLine("TAMPER", 1)),
                PlaceAndExpectAsync(env, declined, Orders.Payments.LedgerPaymentGateway.DeclinedPaymentToken, OrderStatus.Failed, new OrderLine("TAMPER", 1)),
                CancelWhileShippingAsync(env, cancelled),
                RejectAsync(env, rejected));
            Assert.Equal(1L, await env.Database.ScalarAsync<long>("SELECT count(*) FROM payments WHERE kind = 'refund' AND order_id = @p0", cancelled));
            var before = await SnapshotAsync(env.Database.ConnectionString);

            var backup = await RunScriptAsync("sh", backups.FullName, database, "backup");

            Assert.True(backup.ExitCode == 0, backup.Output);
            Assert.Contains("complete", backup.StandardOutput, StringComparison.Ordinal);
            Assert.DoesNotContain("password", backup.Output, StringComparison.OrdinalIgnoreCase);

            // As the runbook says: the worker stops first; then the database is lost.
            await env.Factory.DisposeAsync();
            await AdminAsync($"DROP DATABASE \"{database}\" WITH (FORCE)");
            env.Database.DataSource.Clear();
            Assert.Equal(0L, await AdminScalarAsync<long>($"SELECT count(*) FROM pg_database WHERE datname = '{database}'"));

            var restore = await RunScriptAsync("sh", backups.FullName, database, "restore", "latest");

            Assert.True(restore.ExitCode == 0, restore.Output);
            Assert.Contains($"restored {database}", restore.StandardOutput, StringComparison.Ordinal);
            Assert.Equal(before, await SnapshotAsync(env.Database.ConnectionString));

            // Restoring over the existing (now restored) database gives the same contents again.
            var again = await RunScriptAsync("sh", backups.FullName, database, "restore", "latest");
            Assert.True(again.ExitCode == 0, again.Output);
            Assert.Equal(before, await SnapshotAsync(env.Database.ConnectionString));

            // A fresh worker host on the restored database serves a new order to the end.
            var settings = WorkerFactory.DefaultSettings(env.Database.ConnectionString, env.RedisConnection);
            settings["Temporal:Address"] = env.TemporalAddress;
            settings["Temporal:TaskQueue"] = $"orders-restored-{Guid.NewGuid():N}";
            successor = new WorkerFactory(settings);
            using var api = successor.CreateAuthorizedClient();
            await Wait.UntilAsync(async () => (await api.GetAsync("/health")).IsSuccessStatusCode);
            var stock = await env.Database.StockAsync("GRINDER");
            var fresh = NewId("bk-after");
            var post = await api.PostAsJsonAsync("/api/orders", new { orderId = fresh, lines = new[] { new OrderLine("GRINDER", 1) }, paymentToken = "tok_visa" });
            Assert.Equal(HttpStatusCode.Accepted, post.StatusCode);
            var temporal = successor.Services.GetRequiredService<ITemporalClient>();
            var result = await temporal.GetWorkflowHandle(OrderEndpoints.WorkflowId(fresh)).GetResultAsync<OrderResult>().WaitAsync(TimeSpan.FromSeconds(60));
            Assert.Equal(OrderStatus.Completed, result.Status);
            Assert.Equal(stock - 1, await env.Database.StockAsync("GRINDER"));
            Assert.Equal(1L, await env.Database.ScalarAsync<long>("SELECT count(*) FROM payments WHERE order_id = @p0 AND kind = 'charge'", fresh));
            Assert.Equal(OrderStatus.Completed, (await api.GetFromJsonAsync<OrderView>($"/api/orders/{happy}"))!.Status);
        }
        finally
        {
            if (successor is not null)
            {
                await successor.DisposeAsync();
            }
            await env.DisposeAsync();
            backups.Delete(recursive: true);
        }
    }

    [Fact]
    public async Task Retention_keeps_the_newest_complete_backups_an_incomplete_one_is_refused_and_changes_nothing()
    {
        var database = new OrdersDatabase();
        await database.InitializeAsync();
        await database.AddOrderAsync([new OrderLine("GRINDER", 1)]);
        var name = DatabaseName(database.ConnectionString);
        var backups = Directory.CreateTempSubdirectory("pg-backup-");
        try
        {
            // Left behind by a run that died long ago, and a folder the volume brings; only the first is the script's.
            var abandoned = Directory.CreateDirectory(Path.Combine(backups.FullName, "20000101T000000Z"));
            Directory.SetLastWriteTimeUtc(abandoned.FullName, DateTime.UtcNow.AddDays(-2));
            var lostFound = Directory.CreateDirectory(Path.Combine(backups.FullName, "lost+found"));

            // Four runs back to back, in busybox sh: they start within the same second and must still get their own folder.
            var stamps = new List<string>();
            for (var run = 0; run < 4; run++)
            {
                var result = await RunScriptAsync("busybox", backups.FullName, name, ["sh", ScriptPath, "backup"], keep: 2);
                Assert.True(result.ExitCode == 0, result.Output);
                stamps.Add(result.StandardOutput.Split('\n').Single(l => l.EndsWith(" complete", StringComparison.Ordinal)).Split(' ')[2]);
            }

            Assert.Equal(4, stamps.Distinct().Count());
            Assert.Equal(stamps.Order(StringComparer.Ordinal), stamps);
            var list = await RunScriptAsync("sh", backups.FullName, name, "list");
            Assert.Equal($"{stamps[3]}\n{stamps[2]}\n", list.StandardOutput);
            Assert.Equal(
                new[] { stamps[2], stamps[3], "lost+found" },
                backups.GetDirectories().Select(d => d.Name).Order(StringComparer.Ordinal));
            Assert.True(lostFound.Exists);

            // A dump that fails names its database and leaves an incomplete folder that list and restore ignore.
            var failed = await RunScriptAsync("sh", backups.FullName, $"{name} no_such_database", "backup");
            Assert.NotEqual(0, failed.ExitCode);
            Assert.Contains("pg_dump of database no_such_database failed", failed.StandardError, StringComparison.Ordinal);
            Assert.Contains("INCOMPLETE", failed.StandardError, StringComparison.Ordinal);
            Assert.Equal(list.StandardOutput, (await RunScriptAsync("sh", backups.FullName, name, "list")).StandardOutput);
            Assert.Single(backups.GetDirectories(), d => !File.Exists(Path.Combine(d.FullName, "complete")) && d.Name != "lost+found");

            // The newest backup loses its marker: restoring it is refused before anything is touched.
            File.Delete(Path.Combine(backups.FullName, stamps[3], "complete"));
            await database.ExecuteAsync("UPDATE products SET stock = stock + 1 WHERE sku = 'GRINDER'");
            var before = await SnapshotAsync(database.ConnectionString);
            var oid = await AdminScalarAsync<uint>($"SELECT oid FROM pg_database WHERE datname = '{name}'");

            var refused = await RunScriptAsync("sh", backups.FullName, name, "restore", stamps[3]);
            var missing = await RunScriptAsync("sh", backups.FullName, name, "restore", "19990101T000000Z");

            Assert.Equal(1, refused.ExitCode);
            Assert.Contains($"backup {stamps[3]} is incomplete", refused.StandardError, StringComparison.Ordinal);
            Assert.Equal(1, missing.ExitCode);
            Assert.Contains("not found", missing.StandardError, StringComparison.Ordinal);
            Assert.Equal(before, await SnapshotAsync(database.ConnectionString));
            Assert.Equal(oid, await AdminScalarAsync<uint>($"SELECT oid FROM pg_database WHERE datname = '{name}'"));
            Assert.Equal($"{stamps[2]}\n", (await RunScriptAsync("sh", backups.FullName, name, "list")).StandardOutput);

            // An open session on the database (the test's own pool): restore refuses rather than kill it.
            await database.ScalarAsync<int>("SELECT 1");
            var busy = await RunScriptAsync("sh", backups.FullName, name, "restore", "latest");
            Assert.Equal(1, busy.ExitCode);
            Assert.Contains($"database {name} has", busy.StandardError, StringComparison.Ordinal);
            Assert.Equal(before, await SnapshotAsync(database.ConnectionString));
        }
        finally
        {
            await database.DisposeAsync();
            backups.Delete(recursive: true);
        }
    }

    private static string ScriptPath => Repository.PathOf("scripts", "pg-backup.sh");

    private static Task<ProcessResult> RunScriptAsync(string shell, string backupDir, string databases, params string[] arguments) =>
        RunScriptAsync(shell, backupDir, databases, [ScriptPath, .. arguments], keep: 7);

    /// <summary>The script with the libpq variables of the test server and its PostgreSQL binaries first on PATH.</summary>
    private static async Task<ProcessResult> RunScriptAsync(string program, string backupDir, string databases, string[] arguments, int keep)
    {
        var server = new NpgsqlConnectionStringBuilder(TestSettings.PostgresConnection);
        var environment = new Dictionary<string, string?>
        {
            ["PATH"] = $"{TestSettings.PostgresBinaries}:{Environment.GetEnvironmentVariable("PATH")}",
            ["PGHOST"] = server.Host,
            ["PGPORT"] = server.Port.ToString(System.Globalization.CultureInfo.InvariantCulture),
            ["PGUSER"] = server.Username,
            ["PGPASSWORD"] = server.Password,
            ["PGDATABASE"] = null,
            ["BACKUP_DIR"] = backupDir,
            ["BACKUP_DATABASES"] = databases,
            ["BACKUP_KEEP"] = keep.ToString(System.Globalization.CultureInfo.InvariantCulture),
        };
        return await ProcessRunner.RunAsync(program, arguments, TimeSpan.FromSeconds(120), environment);
    }

    /// <summary>Per application table: its row count and an md5 of all its rows in a fixed order.</summary>
    private static async Task<SortedDictionary<string, string>> SnapshotAsync(string connectionString)
    {
        await using var connection = new NpgsqlConnection(new NpgsqlConnectionStringBuilder(connectionString) { Pooling = false }.ConnectionString);
        await connection.OpenAsync();
        var tables = new List<string>();
        await using (var list = new NpgsqlCommand(
            "SELECT table_name FROM information_schema.tables WHERE table_schema = 'public' AND table_type = 'BASE TABLE' ORDER BY 1", connection))
        await using (var reader = await list.ExecuteReaderAsync())
        {
            while (await reader.ReadAsync())
            {
                tables.Add(reader.GetString(0));
            }
        }
        Assert.Equal(ApplicationTables, tables);
        var snapshot = new SortedDictionary<string, string>(StringComparer.Ordinal);
        foreach (var table in tables)
        {
            await using var command = new NpgsqlCommand(
                $"SELECT count(*) || ' rows, md5 ' || coalesce(md5(string_agg(t::text, '|' ORDER BY t::text)), '-') FROM \"{table}\" t", connection);
            snapshot[table] = (string)(await command.ExecuteScalarAsync())!;
        }
        return snapshot;
    }

    private static string DatabaseName(string connectionString) => new NpgsqlConnectionStringBuilder(connectionString).Database!;

    private static async Task AdminAsync(string sql)
    {
        await using var connection = new NpgsqlConnection(TestSettings.PostgresConnection);
        await connection.OpenAsync();
        await using var command = new NpgsqlCommand(sql, connection);
        await command.ExecuteNonQueryAsync();
    }

    private static async Task<T> AdminScalarAsync<T>(string sql)
    {
        await using var connection = new NpgsqlConnection(TestSettings.PostgresConnection);
        await connection.OpenAsync();
        await using var command = new NpgsqlCommand(sql, connection);
        return (T)(await command.ExecuteScalarAsync())!;
    }

    private static Task<OrderResult> ResultAsync(EndToEndEnvironment env, string id) =>
        env.Temporal.GetWorkflowHandle(OrderEndpoints.WorkflowId(id)).GetResultAsync<OrderResult>().WaitAsync(TimeSpan.FromSeconds(60));

    private static async Task PlaceAndExpectAsync(EndToEndEnvironment env, string id, string token, OrderStatus expected, params OrderLine[] lines)
    {
        Assert.Equal(HttpStatusCode.Accepted, (await env.PlaceOrderAsync(id, token, lines)).StatusCode);
        Assert.Equal(expected, (await ResultAsync(env, id)).Status);
    }

    /// <summary>Charged, then cancelled while shipping: the ledger gets a refund.</summary>
    private static async Task CancelWhileShippingAsync(EndToEndEnvironment env, string id)
    {
        await env.PlaceOrderAsync(id, "tok_visa", new OrderLine("ESPRESSO-MACHINE", 1));
        await env.WaitForStatusAsync(id, OrderStatus.Shipping);
        Assert.Equal(HttpStatusCode.Accepted, (await env.Api.PostAsync($"/api/orders/{id}/cancel", null)).StatusCode);
        Assert.Equal(OrderStatus.Cancelled, (await ResultAsync(env, id)).Status);
    }

    private static async Task RejectAsync(EndToEndEnvironment env, string id)
    {
        await env.PlaceOrderAsync(id, "tok_visa", new OrderLine("ROASTER-PRO", 1));
        await env.WaitForStatusAsync(id, OrderStatus.AwaitingApproval);
        Assert.Equal(HttpStatusCode.Accepted, (await env.Api.PostAsync($"/api/orders/{id}/reject", null)).StatusCode);
        Assert.Equal(OrderStatus.Rejected, (await ResultAsync(env, id)).Status);
    }
}

using System.Text.RegularExpressions;

namespace Worker.Tests.Hosting;

/// <summary>
/// Probes and scrapes come every few seconds from every kubelet and Prometheus: with the shipped log levels
/// (Worker/appsettings.json) they write nothing at Information, and a failing check is logged once when it starts
/// failing, not on every probe.
/// </summary>
public sealed partial class QuietProbeTests(OrdersDatabase db) : IClassFixture<OrdersDatabase>
{
    [Fact]
    public async Task A_hundred_probes_and_scrapes_write_no_log_line_at_information()
    {
        await using var temporal = await TemporalTestServer.TemporalTestServer.StartAsync();
        var environment = WorkerFactory.ProcessEnvironment(db.ConnectionString);
        environment["Temporal__Address"] = temporal.Address;
        environment["ConnectionStrings__redis"] = TestSettings.RedisConnection;
        using var worker = WorkerProcess.Start(environment);
        await worker.WaitForAsync("/health", HttpStatusCode.OK, TimeSpan.FromSeconds(60));
        await Task.Delay(1000); // start-up lines written
        var before = Lines(worker).Count;

        using var http = new HttpClient { BaseAddress = worker.BaseAddress };
        for (var i = 0; i < 100; i++)
        {
            using var response = await http.GetAsync((i % 3) switch { 0 => "/health", 1 => "/alive", _ => "/metrics" });
            Assert.True(response.IsSuccessStatusCode, $"probe {i}: {response.StatusCode}");
        }
        await Task.Delay(1000);

        var written = Lines(worker).Skip(before).ToList();
        Assert.True(written.Count == 0, $"probes wrote {written.Count} lines:\n{string.Join('\n', written)}");
    }

    [Fact]
    public async Task A_first_start_writes_no_librarys_line_below_warning_and_no_failed_sweep()
    {
        await using var temporal = await TemporalTestServer.TemporalTestServer.StartAsync();
        // A first run: an empty database, which the worker migrates as it starts, here only once another replica's
        // migration (the lock this test holds a while) is done, as when several replicas start together.
        var database = await TestDatabases.CreateAsync("first-start");
        var environment = WorkerFactory.ProcessEnvironment(database);
        environment["Orders__ReconcileInterval"] = "00:00:00.200";
        environment["Temporal__Address"] = temporal.Address;
        environment["ConnectionStrings__redis"] = TestSettings.RedisConnection;
        await using (var otherReplica = new Npgsql.NpgsqlConnection(database))
        {
            await otherReplica.OpenAsync();
            await using var migrating = await otherReplica.BeginTransactionAsync();
            await using (var take = new Npgsql.NpgsqlCommand("SELECT pg_advisory_xact_lock(x'4F52444552530001'::bigint)", otherReplica, migrating))
            {
                await take.ExecuteNonQueryAsync();
            }
            using var starting = WorkerProcess.Start(environment);
            await starting.WaitForAsync("/alive", HttpStatusCode.OK, TimeSpan.FromSeconds(30));
            await Task.Delay(TimeSpan.FromSeconds(2)); // Temporal connected, ten sweep intervals
            await migrating.CommitAsync();
            await starting.WaitForAsync("/health", HttpStatusCode.OK, TimeSpan.FromSeconds(60));
            Assert.DoesNotContain(Lines(starting), l => l.Message.StartsWith("Stuck-order sweep failed", StringComparison.Ordinal));
        }
        using var worker = WorkerProcess.Start(environment);
        await worker.WaitForAsync("/health", HttpStatusCode.OK, TimeSpan.FromSeconds(60)); // PostgreSQL, Redis and Temporal connected
        await Task.Delay(1000);

        // The worker's own lines say what happened (listening, schema ready, connected); a library's warm-up chatter
        // (StackExchange.Redis writes some forty lines per connect at Information) is not for an operator.
        var chatter = Lines(worker).Where(l => l.Level is "Trace" or "Debug" or "Information" && !IsOwnOrHostLine(l.Category)).ToList();
        Assert.True(chatter.Count == 0, $"{chatter.Count} lines:\n{string.Join('\n', chatter.Take(5).Select(l => $"{l.Level} {l.Category}: {l.Message}"))}");
        Assert.Contains(Lines(worker), l => l.Category.StartsWith("Worker.", StringComparison.Ordinal)); // the check sees the log at all
    }

    [Fact]
    public async Task A_failing_check_is_logged_once_not_on_every_probe()
    {
        using var worker = WorkerProcess.Start(WorkerFactory.ProcessEnvironment(db.ConnectionString)); // Temporal unreachable
        await worker.WaitForAsync("/alive", HttpStatusCode.OK, TimeSpan.FromSeconds(30));

        using var http = new HttpClient { BaseAddress = worker.BaseAddress };
        for (var i = 0; i < 30; i++)
        {
            using var response = await http.GetAsync("/health");
            Assert.Equal(HttpStatusCode.ServiceUnavailable, response.StatusCode);
        }
        await Task.Delay(500);

        var health = Lines(worker).Where(l => l.Message.StartsWith("Health check", StringComparison.Ordinal)).ToList();
        var temporal = Assert.Single(health, l => l.Message.StartsWith("Health check temporal is", StringComparison.Ordinal));
        Assert.Equal("Warning", temporal.Level);
        // The framework's own line per failing check per probe (DefaultHealthCheckService) is switched off.
        Assert.DoesNotContain(health, l => l.Category.EndsWith("DefaultHealthCheckService", StringComparison.Ordinal));
        // Every check is logged once per change: a check that fails during start-up (the schema, while the migration
        // runs) may add its failure and its recovery, never a line per probe.
        var perProbe = health.Select(l => CheckLine().Match(l.Message)).Where(m => m.Success)
            .GroupBy(m => m.Groups["check"].Value)
            .Where(g => g.Count(m => m.Groups["status"].Value != "Healthy again") > g.Count(m => m.Groups["status"].Value == "Healthy again") + 1)
            .Select(g => g.Key).ToList();
        Assert.True(perProbe.Count == 0, $"logged more often than they changed: {string.Join(", ", perProbe)}\n{string.Join('\n', health.Select(l => l.Message))}");
    }

    [GeneratedRegex("^Health check (?<check>\\S+) is (?<status>Healthy again|\\w+)")]
    private static partial Regex CheckLine();

    /// <summary>The worker's own lines, ServiceDefaults' (health changes), and the host's start and stop.</summary>
    private static bool IsOwnOrHostLine(string category) =>
        category.StartsWith("Worker.", StringComparison.Ordinal) || category is "Microsoft.Hosting.Lifetime" or "Microsoft.Extensions.Hosting.HealthReportWriter";

    private sealed record LogLine(string Level, string Category, string Message);

    private static List<LogLine> Lines(WorkerProcess worker) =>
        [.. worker.StandardOutput.Split('\n', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries).Select(line =>
        {
            using var json = JsonDocument.Parse(line);
            var root = json.RootElement;
            return new LogLine(root.GetProperty("LogLevel").GetString()!, root.GetProperty("Category").GetString()!, root.GetProperty("Message").GetString()!);
        })];
}

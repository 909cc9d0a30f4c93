using System.Globalization;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Mvc.Testing;
using Microsoft.Extensions.DependencyInjection;
using Npgsql;
using Temporalio.Client;
using TestSupport;

namespace Bench;

/// <summary>
/// <c>--codec [orders per level] [levels]</c>: orders per second and latency end to end with payload encryption on
/// (the figure) next to the same worker with it off (the anchor), each its own worker host, database and Temporal test
/// server in this one process, measured in eighths ordered off, on, on, off at each level after a warm-up. The ratio (on/off
/// throughput) is last; target ≥ 0.90.
/// </summary>
internal static class CodecCost
{
    public static async Task<int> RunAsync(string[] args)
    {
        var perLevel = args.Length > 1 ? int.Parse(args[1], CultureInfo.InvariantCulture) : 256;
        var levels = args.Length > 2 ? args[2].Split(',').Select(l => int.Parse(l, CultureInfo.InvariantCulture)) : [1, 8, 64];
        await using var off = await Side.StartAsync("off", encryption: false);
        await using var on = await Side.StartAsync("on", encryption: true);

        var warmUp = await Measurement.WarmUpAsync(off.PlaceOrderAsync, on.PlaceOrderAsync);

        Console.WriteLine($"{perLevel} orders per level, after {warmUp}; latency = POST until the workflow completed; worker log: {BenchWorker.Log.Path}");
        Console.WriteLine("concurrency | off order/s | off p50 ms | off p95 ms | on order/s | on p50 ms | on p95 ms | on/off throughput | target");
        foreach (var concurrency in levels)
        {
            var count = concurrency == 1 ? Math.Max(perLevel / 4, 16) : perLevel;
            Run offRun = new([], 0), onRun = new([], 0);
            // Eighths in rounds of off, on, on, off, so that drift (JIT, the databases growing, other load on the
            // machine) weighs on both alike.
            for (var round = 0; round < 4; round++)
            {
                offRun = Measurement.Combine(offRun, await Measurement.MeasureAsync(off.PlaceOrderAsync, concurrency, count / 8));
                onRun = Measurement.Combine(onRun, await Measurement.MeasureAsync(on.PlaceOrderAsync, concurrency, count / 8));
                onRun = Measurement.Combine(onRun, await Measurement.MeasureAsync(on.PlaceOrderAsync, concurrency, count / 8));
                offRun = Measurement.Combine(offRun, await Measurement.MeasureAsync(off.PlaceOrderAsync, concurrency, count / 8));
            }
            Console.WriteLine($"{concurrency,11} | {offRun.PerSecond,11:F1} | {offRun.P50,10:F1} | {offRun.P95,10:F1} | {onRun.PerSecond,10:F1} | {onRun.P50,9:F1} | {onRun.P95,9:F1} | {onRun.PerSecond / offRun.PerSecond,17:F2} | >= 0.90 {(onRun.PerSecond / offRun.PerSecond >= 0.90 ? "✔" : "✘")}");
        }
        return 0;
    }

    /// <summary>One worker host with its own database and Temporal test server.</summary>
    private sealed class Side : IAsyncDisposable
    {
        private int sequence;

        private Side(string name, string database, TemporalTestServer.TemporalTestServer temporal, WebApplicationFactory<Program> worker, HttpClient api)
        {
            Name = name;
            Database = database;
            Temporal = temporal;
            Worker = worker;
            Api = api;
            Client = worker.Services.GetRequiredService<ITemporalClient>();
        }

        public string Name { get; }

        private string Database { get; }

        private TemporalTestServer.TemporalTestServer Temporal { get; }

        private WebApplicationFactory<Program> Worker { get; }

        private HttpClient Api { get; }

        private ITemporalClient Client { get; }

        public static async Task<Side> StartAsync(string name, bool encryption)
        {
            var database = new NpgsqlConnectionStringBuilder(await TestDatabases.CreateAsync($"bench_codec_{name}")) { MaxPoolSize = 200 };
            var temporal = await TemporalTestServer.TemporalTestServer.StartAsync();
            var worker = BenchWorker.Create(database.ConnectionString, temporal.Address, redis: true, web =>
            {
                web.UseSetting("Logging:LogLevel:Temporalio", "Warning");
                web.UseSetting("Logging:LogLevel:Microsoft.Hosting.Lifetime", "Warning");
                if (encryption)
                {
                    web.UseSetting("Temporal:Encryption:Keys:bench", Convert.ToBase64String(System.Security.Cryptography.RandomNumberGenerator.GetBytes(32)));
                    web.UseSetting("Temporal:Encryption:CurrentKeyId", "bench");
                }
            });
            return new Side(name, database.ConnectionString, temporal, worker, await BenchWorker.HealthyApiAsync(worker));
        }

        public Task PlaceOrderAsync() => BenchWorker.PlaceOrderAsync(Api, Client, $"codec-{Name}-{Interlocked.Increment(ref sequence)}");

        public async ValueTask DisposeAsync()
        {
            Api.Dispose();
            await Worker.DisposeAsync();
            await Temporal.DisposeAsync();
            NpgsqlConnection.ClearAllPools();
            await using var admin = NpgsqlDataSource.Create(TestSettings.PostgresConnection);
            await admin.CreateCommand($"DROP DATABASE \"{new NpgsqlConnectionStringBuilder(Database).Database}\" WITH (FORCE)").ExecuteNonQueryAsync();
        }
    }
}

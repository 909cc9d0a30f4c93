using System.Diagnostics;
using System.Runtime;
using Microsoft.AspNetCore.Hosting;
using Microsoft.Extensions.DependencyInjection;
using Npgsql;
using Temporalio.Client;
using Temporalio.Worker;
using Temporalio.Workflows;
using TestSupport;

namespace Bench;

internal static class EntryPoint
{
    public static async Task<int> Main(string[] args)
    {
        if (args.Length > 0 && args[0] == "--load-only")
        {
            return await LoadOnly.RunAsync(args);
        }
        if (args.Length > 0 && args[0] == "--burst")
        {
            return await Burst.RunAsync(args);
        }
        if (args.Length > 0 && args[0] == "--codec")
        {
            return await CodecCost.RunAsync(args);
        }
        if (args.Length > 0 && args[0] == "--otlp-sink")
        {
            return await OtlpSink.RunAsync(args);
        }

        // Orders per second and latency (POST /api/orders until the workflow completed) at 1, 8 and 64 concurrent
        // orders, next to a null workflow (no activities) started and awaited through the same client, worker and
        // Temporal test server in the same run. The ratio says what the order saga itself costs.
        var perLevel = args.Length > 0 ? int.Parse(args[0], System.Globalization.CultureInfo.InvariantCulture) : 256;

        var database = new NpgsqlConnectionStringBuilder(await TestDatabases.CreateAsync("bench")) { MaxPoolSize = 200 };
        await using var temporal = await TemporalTestServer.TemporalTestServer.StartAsync();
        await using var worker = BenchWorker.Create(database.ConnectionString, temporal.Address, redis: Environment.GetEnvironmentVariable("BENCH_NO_REDIS") != "1",
            web => web.ConfigureServices(s => s.Configure<TemporalWorkerOptions>(o => o.AddWorkflow<NullWorkflow>())));
        using var api = await BenchWorker.HealthyApiAsync(worker);
        var client = worker.Services.GetRequiredService<ITemporalClient>();

        var sequence = 0;
        Task PlaceOrder() => BenchWorker.PlaceOrderAsync(api, client, $"bench-{Interlocked.Increment(ref sequence)}");

        async Task RunNull() =>
            await client.ExecuteWorkflowAsync((NullWorkflow wf) => wf.RunAsync(),
                new($"null-{Interlocked.Increment(ref sequence)}", "orders"));

        var warmUp = await Measurement.WarmUpAsync(PlaceOrder, RunNull);

        Console.WriteLine($"{perLevel} workflows per level, after {warmUp}; latency = start until the workflow completed; worker log: {BenchWorker.Log.Path}");
        Console.WriteLine("concurrency | order/s | order p50 ms | order p95 ms | null/s | null p50 ms | null p95 ms | cost of an order in null workflows | target");
        var levels = args.Length > 1 ? args[1].Split(',').Select(l => int.Parse(l, System.Globalization.CultureInfo.InvariantCulture)) : [1, 8, 64];
        foreach (var concurrency in levels)
        {
            var count = concurrency == 1 ? Math.Max(perLevel / 4, 16) : perLevel;
            // Alternated halves, so that drift (JIT, the database growing) weighs on both alike.
            var order = Measurement.Combine(await Measurement.MeasureAsync(PlaceOrder, concurrency, count / 2), await Measurement.MeasureAsync(PlaceOrder, concurrency, count / 2));
            var none = Measurement.Combine(await Measurement.MeasureAsync(RunNull, concurrency, count / 2), await Measurement.MeasureAsync(RunNull, concurrency, count / 2));
            var cost = none.PerSecond / order.PerSecond;
            Console.WriteLine($"{concurrency,11} | {order.PerSecond,7:F1} | {order.P50,12:F1} | {order.P95,12:F1} | {none.PerSecond,6:F1} | {none.P50,11:F1} | {none.P95,11:F1} | {cost,34:F2} | {Target(concurrency, cost)}");
        }

        await using (var admin = NpgsqlDataSource.Create(TestSettings.PostgresConnection))
        {
            await worker.DisposeAsync();
            NpgsqlConnection.ClearAllPools();
            await admin.CreateCommand($"DROP DATABASE \"{database.Database}\" WITH (FORCE)").ExecuteNonQueryAsync();
        }
        return 0;
    }

    /// <summary>The ceiling an order's cost in null workflows is held to at this concurrency, and whether it is met.</summary>
    private static string Target(int concurrency, double cost) => concurrency switch
    {
        1 => $"<= 8 {(cost <= 8 ? "✔" : "✘")}",
        64 => $"<= 4.5 {(cost <= 4.5 ? "✔" : "✘")}",
        _ => "-",
    };
}

/// <summary>Batches of an operation run at a fixed concurrency.</summary>
internal static class Measurement
{
    public static Run Combine(Run a, Run b) => new([.. a.Latencies, .. b.Latencies], a.Seconds + b.Seconds);

    /// <summary>
    /// Rounds of each operation (64 at a time, 300 each) until a round JIT-compiles fewer than 100 new method bodies,
    /// at least 3 rounds and at most 20; says how many it took. Tiered compilation goes on promoting hot code to
    /// optimised code long after the first rounds (a fixed 3 rounds left the tiering thread busy with a quarter of a
    /// core through the measurement), and whichever operation ran before it settled would pay for it.
    /// Connection pools and caches warm up on the way.
    /// </summary>
    public static async Task<string> WarmUpAsync(params Func<Task>[] operations)
    {
        const int MinimumRounds = 3, MaximumRounds = 20, SettledBelow = 100;
        for (var round = 1; ; round++)
        {
            var compiledBefore = JitInfo.GetCompiledMethodCount();
            foreach (var operation in operations)
            {
                await MeasureAsync(operation, 64, 300);
            }
            var compiled = JitInfo.GetCompiledMethodCount() - compiledBefore;
            if ((round >= MinimumRounds && compiled < SettledBelow) || round == MaximumRounds)
            {
                return $"{round} warm-up rounds (the last JIT-compiled {compiled} methods)";
            }
        }
    }

    public static async Task<Run> MeasureAsync(Func<Task> operation, int concurrency, int count)
    {
        var latencies = new List<double>(count);
        var remaining = count;
        var clock = Stopwatch.StartNew();
        await Task.WhenAll(Enumerable.Range(0, concurrency).Select(async _ =>
        {
            while (Interlocked.Decrement(ref remaining) >= 0)
            {
                var started = Stopwatch.GetTimestamp();
                await operation();
                var elapsed = Stopwatch.GetElapsedTime(started).TotalMilliseconds;
                lock (latencies)
                {
                    latencies.Add(elapsed);
                }
            }
        }));
        return new Run(latencies, clock.Elapsed.TotalSeconds);
    }
}

/// <summary>Latencies (ms) of one measured batch and its wall time.</summary>
internal sealed record Run(List<double> Latencies, double Seconds)
{
    public double PerSecond => Latencies.Count / Seconds;

    public double P50 => Percentile(0.50);

    public double P95 => Percentile(0.95);

    private double Percentile(double p)
    {
        var sorted = Latencies.Order().ToList();
        return sorted[Math.Min(sorted.Count - 1, (int)(sorted.Count * p))];
    }
}

/// <summary>The anchor: a workflow that completes at once, with no activity.</summary>
[Workflow]
public sealed class NullWorkflow
{
    [WorkflowRun]
    public Task<string> RunAsync() => Task.FromResult("done");
}

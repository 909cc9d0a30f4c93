using System.Diagnostics;
using System.Globalization;
using System.Net.Http.Json;
using System.Text.Json;
using System.Text.Json.Serialization;

namespace Bench;

/// <summary>
/// <c>--load-only &lt;url&gt; &lt;api key&gt; &lt;concurrency&gt; &lt;count&gt; [poll ms]</c>: places orders on a worker
/// that runs elsewhere (its own process), <c>concurrency</c> at a time, each awaited the way a client sees it:
/// GET /api/orders/{id} every <c>poll ms</c> (default 100) until a terminal status. Prints one line of
/// <c>key=value</c> for bench/worker-memory.sh: orders, completed, failed, seconds, per_second, p50_ms, p95_ms.
/// </summary>
internal static class LoadOnly
{
    private static readonly JsonSerializerOptions Json = new(JsonSerializerDefaults.Web);

    public static async Task<int> RunAsync(string[] args)
    {
        if (args.Length < 5)
        {
            await Console.Error.WriteLineAsync("Usage: --load-only <url> <api key> <concurrency> <count> [poll ms]");
            return 2;
        }
        var concurrency = int.Parse(args[3], CultureInfo.InvariantCulture);
        var count = int.Parse(args[4], CultureInfo.InvariantCulture);
        var poll = TimeSpan.FromMilliseconds(args.Length > 5 ? int.Parse(args[5], CultureInfo.InvariantCulture) : 100);
        using var api = new HttpClient { BaseAddress = new Uri(args[1]), Timeout = TimeSpan.FromMinutes(2) };
        api.DefaultRequestHeaders.Add("X-Api-Key", args[2]);

        // Ids unique across runs against the same database (warm-up, then the measured run).
        var run = Guid.NewGuid().ToString("N")[..8];
        var sequence = 0;
        var remaining = count;
        var completed = 0;
        var failed = 0;
        var latencies = new List<double>(count);
        var clock = Stopwatch.StartNew();
        await Task.WhenAll(Enumerable.Range(0, concurrency).Select(async _ =>
        {
            while (Interlocked.Decrement(ref remaining) >= 0)
            {
                var id = $"mem-{run}-{Interlocked.Increment(ref sequence)}";
                var started = Stopwatch.GetTimestamp();
                var response = await api.PostAsJsonAsync("/api/orders",
                    new { orderId = id, lines = new[] { new { sku = "BEANS-1KG", quantity = 1 } }, paymentToken = "tok_visa" });
                response.EnsureSuccessStatusCode();
                string status;
                do
                {
                    await Task.Delay(poll);
                    status = (await api.GetFromJsonAsync<OrderStatusOnly>($"/api/orders/{id}", Json))!.Status;
                }
                while (!IsTerminal(status));
                var elapsed = Stopwatch.GetElapsedTime(started).TotalMilliseconds;
                Interlocked.Increment(ref status == "Completed" ? ref completed : ref failed);
                lock (latencies)
                {
                    latencies.Add(elapsed);
                }
            }
        }));
        var seconds = clock.Elapsed.TotalSeconds;
        latencies.Sort();
        double Percentile(double p) => latencies[Math.Min(latencies.Count - 1, (int)(latencies.Count * p))];
        Console.WriteLine(string.Create(CultureInfo.InvariantCulture,
            $"orders={latencies.Count} completed={completed} failed={failed} seconds={seconds:F2} per_second={latencies.Count / seconds:F1} p50_ms={Percentile(0.50):F0} p95_ms={Percentile(0.95):F0}"));
        return failed == 0 ? 0 : 1;
    }

    private static bool IsTerminal(string status) => status is "Completed" or "Cancelled" or "Rejected" or "Failed";

    private sealed record OrderStatusOnly([property: JsonPropertyName("status")] string Status);
}

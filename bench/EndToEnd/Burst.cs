using System.Diagnostics;
using System.Globalization;
using System.Net.Http.Json;
using System.Text.Json;
using System.Text.Json.Serialization;

namespace Bench;

/// <summary>
/// <c>--burst &lt;url,url,…&gt; &lt;api key&gt; &lt;orders&gt; &lt;concurrency&gt;</c> (bench/load.sh): a burst of new orders, each
/// POSTed once, <c>concurrency</c> at a time, round-robin over the workers' APIs, as clients that do not retry. Then every
/// accepted order is followed until it ends. Prints a table: accepted/s, answers by status (and how many refusals
/// carried Retry-After), p50/p99 of the accepted POSTs, the time until every accepted order ended, and how they ended.
/// </summary>
internal static class Burst
{
    private static readonly JsonSerializerOptions Json = new(JsonSerializerDefaults.Web);
    private static readonly TimeSpan SettleTimeout = TimeSpan.FromMinutes(10);

    public static async Task<int> RunAsync(string[] args)
    {
        if (args.Length < 5)
        {
            await Console.Error.WriteLineAsync("Usage: --burst <url,url,...> <api key> <orders> <concurrency>");
            return 2;
        }
        var clients = args[1].Split(',').Select(url => new HttpClient { BaseAddress = new Uri(url), Timeout = TimeSpan.FromMinutes(2),
            DefaultRequestHeaders = { { "X-Api-Key", args[2] } } }).ToArray();
        var count = int.Parse(args[3], CultureInfo.InvariantCulture);
        var concurrency = int.Parse(args[4], CultureInfo.InvariantCulture);
        var run = Guid.NewGuid().ToString("N")[..8];
        var answers = new Dictionary<string, int>(StringComparer.Ordinal);
        var refusalsWithRetryAfter = 0;
        var accepted = new List<(string Id, HttpClient Client)>();
        var latencies = new List<double>();
        var sequence = 0;
        var clock = Stopwatch.StartNew();
        await Task.WhenAll(Enumerable.Range(0, concurrency).Select(async _ =>
        {
            int n;
            while ((n = Interlocked.Increment(ref sequence)) <= count)
            {
                var id = $"load-{run}-{n}";
                var client = clients[n % clients.Length];
                var started = Stopwatch.GetTimestamp();
                string answer;
                var retryAfter = false;
                try
                {
                    using var response = await client.PostAsJsonAsync("/api/orders",
                        new { orderId = id, lines = new[] { new { sku = "BEANS-1KG", quantity = 1 } }, paymentToken = "tok_visa" });
                    answer = ((int)response.StatusCode).ToString(CultureInfo.InvariantCulture);
                    retryAfter = response.Headers.RetryAfter is not null;
                }
                catch (Exception e) when (e is HttpRequestException or TaskCanceledException)
                {
                    answer = "no answer";
                }
                var elapsed = Stopwatch.GetElapsedTime(started).TotalMilliseconds;
                lock (answers)
                {
                    answers[answer] = answers.GetValueOrDefault(answer) + 1;
                    if (answer == "202")
                    {
                        accepted.Add((id, client));
                        latencies.Add(elapsed);
                    }
                    else if (retryAfter)
                    {
                        refusalsWithRetryAfter++;
                    }
                }
            }
        }));
        var burstSeconds = clock.Elapsed.TotalSeconds;

        // Every accepted order, followed until it ends (or the settle timeout).
        var endings = new Dictionary<string, int>(StringComparer.Ordinal);
        var open = accepted.ToList();
        var deadline = DateTime.UtcNow + SettleTimeout;
        while (open.Count > 0 && DateTime.UtcNow < deadline)
        {
            var still = new List<(string, HttpClient)>();
            foreach (var (id, client) in open)
            {
                var status = await StatusAsync(client, id);
                if (status is "Completed" or "Cancelled" or "Rejected" or "Failed")
                {
                    endings[status] = endings.GetValueOrDefault(status) + 1;
                }
                else
                {
                    still.Add((id, client));
                }
            }
            open = still;
            if (open.Count > 0)
            {
                await Task.Delay(500);
            }
        }
        var settledSeconds = clock.Elapsed.TotalSeconds;
        foreach (var (id, client) in open)
        {
            var status = await StatusAsync(client, id) ?? "unknown";
            endings[$"still {status}"] = endings.GetValueOrDefault($"still {status}") + 1;
        }

        latencies.Sort();
        string Percentile(double p) => latencies.Count == 0 ? "-" : latencies[Math.Min(latencies.Count - 1, (int)(latencies.Count * p))].ToString("F0", CultureInfo.InvariantCulture);
        var refused = answers.Where(a => a.Key != "202").Sum(a => a.Value);
        var serverErrors = answers.Where(a => a.Key.StartsWith('5') && a.Key != "503").Sum(a => a.Value) + answers.GetValueOrDefault("no answer");
        Row("orders / concurrency", $"{count} / {concurrency}");
        Row("accepted (202)", $"{accepted.Count}, {accepted.Count / burstSeconds:F1}/s over {burstSeconds:F1} s");
        Row("answers", string.Join(", ", answers.OrderBy(a => a.Key, StringComparer.Ordinal).Select(a => $"{a.Key}: {a.Value}")));
        Row("refusals with Retry-After", $"{refusalsWithRetryAfter} of {refused}");
        Row("accepted POST p50 / p99 ms", $"{Percentile(0.50)} / {Percentile(0.99)}");
        Row("every accepted order ended", open.Count == 0 ? $"after {settledSeconds:F1} s" : $"no: {open.Count} open after {settledSeconds:F1} s");
        Row("how they ended", string.Join(", ", endings.OrderBy(e => e.Key, StringComparer.Ordinal).Select(e => $"{e.Key}: {e.Value}")));
        var met = serverErrors == 0 && refusalsWithRetryAfter == refused && open.Count == 0;
        Row("target: no 5xx but 503, Retry-After on every refusal, all ended", met ? "✔" : "✘");
        return 0;
    }

    private static void Row(string figure, string value) =>
        Console.WriteLine(string.Create(CultureInfo.InvariantCulture, $"{figure,-64} | {value}"));

    private static async Task<string?> StatusAsync(HttpClient client, string id)
    {
        try
        {
            return (await client.GetFromJsonAsync<OrderStatusOnly>($"/api/orders/{id}", Json))?.Status;
        }
        catch (Exception e) when (e is HttpRequestException or TaskCanceledException or JsonException)
        {
            return null;
        }
    }

    private sealed record OrderStatusOnly([property: JsonPropertyName("status")] string Status);
}

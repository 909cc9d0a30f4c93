using System.Globalization;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.Logging;

namespace Bench;

/// <summary>
/// <c>--otlp-sink &lt;listen url&gt; [metrics url to scrape]</c>: a minimal OTLP/HTTP receiver for
/// bench/instrumentation.sh. Kestrel on the given loopback URL accepts <c>POST /v1/traces</c>, <c>/v1/metrics</c>
/// and <c>/v1/logs</c>, reads and counts the body (no decoding: the exporter's serialization and sending is what
/// is measured, not a collector's) and answers 200 with an empty protobuf message, which is a valid
/// <c>Export*ServiceResponse</c> (full success). With a metrics URL it also GETs it once a second, the way
/// Prometheus scrapes, and counts the bytes. <c>GET /stats</c> prints the counters as one <c>key=value</c> line.
/// </summary>
internal static class OtlpSink
{
    private static readonly string[] Signals = ["traces", "metrics", "logs"];

    public static async Task<int> RunAsync(string[] args)
    {
        if (args.Length < 2)
        {
            await Console.Error.WriteLineAsync("Usage: --otlp-sink <listen url> [metrics url to scrape]");
            return 2;
        }
        var bytes = new long[Signals.Length];
        var requests = new long[Signals.Length];
        long scrapes = 0, scrapeBytes = 0, scrapeFailures = 0;

        var builder = WebApplication.CreateSlimBuilder();
        builder.Logging.ClearProviders();
        builder.WebHost.UseUrls(args[1]);
        var app = builder.Build();

        app.MapPost("/v1/{signal}", async (string signal, HttpRequest request, HttpResponse response) =>
        {
            var index = Array.IndexOf(Signals, signal);
            if (index < 0)
            {
                return Results.NotFound();
            }
            var buffer = new byte[16384];
            long read = 0;
            int n;
            while ((n = await request.Body.ReadAsync(buffer)) > 0)
            {
                read += n;
            }
            Interlocked.Add(ref bytes[index], read);
            Interlocked.Increment(ref requests[index]);
            return Results.Bytes([], "application/x-protobuf");
        });
        app.MapGet("/stats", () => string.Create(CultureInfo.InvariantCulture,
            $"traces_bytes={Interlocked.Read(ref bytes[0])} traces_requests={Interlocked.Read(ref requests[0])} " +
            $"metrics_bytes={Interlocked.Read(ref bytes[1])} metrics_requests={Interlocked.Read(ref requests[1])} " +
            $"logs_bytes={Interlocked.Read(ref bytes[2])} logs_requests={Interlocked.Read(ref requests[2])} " +
            $"scrapes={Interlocked.Read(ref scrapes)} scrape_bytes={Interlocked.Read(ref scrapeBytes)} " +
            $"scrape_failures={Interlocked.Read(ref scrapeFailures)}\n"));

        using var stop = new CancellationTokenSource();
        var scraper = Task.CompletedTask;
        if (args.Length > 2)
        {
            var target = new Uri(args[2]);
            scraper = Task.Run(async () =>
            {
                using var http = new HttpClient { Timeout = TimeSpan.FromSeconds(10) };
                using var timer = new PeriodicTimer(TimeSpan.FromSeconds(1));
                try
                {
                    while (await timer.WaitForNextTickAsync(stop.Token))
                    {
                        try
                        {
                            var body = await http.GetByteArrayAsync(target, stop.Token);
                            Interlocked.Increment(ref scrapes);
                            Interlocked.Add(ref scrapeBytes, body.Length);
                        }
                        catch (HttpRequestException)
                        {
                            Interlocked.Increment(ref scrapeFailures);   // the worker not up yet, or gone
                        }
                    }
                }
                catch (OperationCanceledException)
                {
                }
            });
        }

        await app.RunAsync();
        await stop.CancelAsync();
        await scraper;
        return 0;
    }
}

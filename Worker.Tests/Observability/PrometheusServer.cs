using System.Globalization;

namespace Worker.Tests.Observability;

/// <summary>
/// A real Prometheus (Debian's package, <see cref="Validators.Prometheus"/>) on a loopback port, scraping the
/// given targets every second and loading the alert rules, with its storage in a temporary folder that goes
/// with it.
/// </summary>
public sealed class PrometheusServer : IAsyncDisposable
{
    private readonly ProcessRunner process;
    private readonly string folder;

    private PrometheusServer(ProcessRunner process, string folder, int port)
    {
        this.process = process;
        this.folder = folder;
        Http = new HttpClient { BaseAddress = new Uri($"http://127.0.0.1:{port}/") };
    }

    public HttpClient Http { get; }

    public static async Task<PrometheusServer> StartAsync(string workerTarget, string ruleFile)
    {
        var folder = Directory.CreateTempSubdirectory("prometheus-test-").FullName;
        var config = Path.Combine(folder, "prometheus.yaml");
        await File.WriteAllTextAsync(config, $"""
            global:
              scrape_interval: 1s
              evaluation_interval: 1s
            rule_files:
              - "{ruleFile}"
            scrape_configs:
              - job_name: worker
                metrics_path: /metrics
                static_configs:
                  - targets: ["{workerTarget}"]
            """);
        var port = Loopback.FreePort();
        var process = ProcessRunner.Start(Validators.Prometheus,
        [
            $"--config.file={config}",
            $"--storage.tsdb.path={Path.Combine(folder, "data")}",
            $"--web.listen-address=127.0.0.1:{port}",
            "--log.level=warn",
        ]);
        var server = new PrometheusServer(process, folder, port);
        for (var attempt = 0; attempt < 100; attempt++)
        {
            if (process.HasExited)
            {
                break;
            }
            try
            {
                if ((await server.Http.GetAsync("-/ready")).IsSuccessStatusCode)
                {
                    return server;
                }
            }
            catch (HttpRequestException)
            {
                // Not listening yet.
            }
            await Task.Delay(100);
        }
        var output = process.StandardOutput + process.StandardError;
        await server.DisposeAsync();
        throw new InvalidOperationException($"Prometheus did not become ready: {output}");
    }

    /// <summary>Evaluates <paramref name="promql"/> now (<c>/api/v1/query</c>); the result's series count, or the error.</summary>
    public async Task<(int Series, string? Error)> QueryAsync(string promql)
    {
        using var response = await Http.PostAsync("api/v1/query", new FormUrlEncodedContent(
            [new("query", promql), new("time", DateTimeOffset.UtcNow.ToUnixTimeSeconds().ToString(CultureInfo.InvariantCulture))]));
        using var body = JsonDocument.Parse(await response.Content.ReadAsStringAsync());
        var root = body.RootElement;
        if (root.GetProperty("status").GetString() != "success")
        {
            return (0, root.TryGetProperty("error", out var error) ? error.GetString() : "failed");
        }
        var data = root.GetProperty("data");
        return data.GetProperty("resultType").GetString() is "vector" or "matrix"
            ? (data.GetProperty("result").GetArrayLength(), null)
            : (1, null);
    }

    /// <summary>The rule groups Prometheus loaded, and each rule's health (<c>/api/v1/rules</c>).</summary>
    public async Task<JsonElement> RulesAsync() =>
        (await Http.GetFromJsonAsync<JsonElement>("api/v1/rules")).GetProperty("data").GetProperty("groups");

    public async ValueTask DisposeAsync()
    {
        Http.Dispose();
        process.Terminate();
        try
        {
            await process.WaitForExitAsync(TimeSpan.FromSeconds(10));
        }
        catch (TimeoutException)
        {
            // Dispose kills it.
        }
        process.Dispose();
        Directory.Delete(folder, recursive: true);
    }
}

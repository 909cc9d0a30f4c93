using System.Diagnostics;
using System.Net;
using System.Net.Http.Json;

namespace Worker.Image.Tests;

/// <summary>
/// Each worker image (PublishContainer's and the Dockerfile's) under podman with the production constraints:
/// read-only root, uid 1654, no capabilities, no new privileges, a tmpfs /tmp only. It reaches PostgreSQL,
/// Redis and the project's Temporal test server (a process on the host) through the host's loopback.
/// The base is made on this machine (scripts/container-images.sh), not the chiseled production base.
/// </summary>
public sealed class ContainerTests
{
    private const string ApiKey = "image-test-key";
    private static readonly TimeSpan StopGrace = TimeSpan.FromSeconds(25);

    [Theory]
    [InlineData("sdk")]
    [InlineData("dockerfile")]
    public async Task Image_runs_read_only_serves_an_order_and_stops_cleanly_on_SIGTERM(string buildPath)
    {
        var image = ContainerImages.Worker(buildPath);
        var podman = ContainerImages.Podman;
        var database = await TestDatabases.CreateAsync("image");
        var temporalPort = Loopback.FreePort();
        using var temporal = ProcessRunner.Start("dotnet",
            [Path.Combine(AppContext.BaseDirectory, "TemporalTestServer.dll"), "--port", $"{temporalPort}", "--namespace", "orders"]);
        Assert.Contains("listening on", await temporal.FirstOutputLineAsync(TimeSpan.FromSeconds(30)) ?? temporal.StandardError);

        var httpPort = Loopback.FreePort();
        var name = $"worker-image-test-{Guid.NewGuid():N}"[..32];
        try
        {
            (await Podman(podman, [
                "run", "-d", "--name", name,
                "--read-only", "--user", "1654", "--cap-drop", "ALL", "--security-opt", "no-new-privileges",
                "--tmpfs", "/tmp:rw,mode=1777", "--network", "host",
                // The deployment artifacts' environment (deploy/compose), the port moved off 8080 on the shared host.
                "-e", $"ASPNETCORE_HTTP_PORTS={httpPort}",
                "-e", $"ConnectionStrings__appdb={database}",
                "-e", $"ConnectionStrings__redis={TestSettings.RedisConnection}",
                "-e", $"ConnectionStrings__temporal=Endpoint=127.0.0.1:{temporalPort};Namespace=orders",
                "-e", $"Api__Keys={ApiKey}",
                // Shipping slow enough (3 x 2 s) to stop the container while its activity runs.
                "-e", "Orders__ShippingStageDuration=00:00:02",
                "-e", "Temporal__GracefulShutdownTimeout=00:00:15",
                image,
            ])).EnsureSuccess();

            using var http = new HttpClient { BaseAddress = new Uri($"http://127.0.0.1:{httpPort}"), Timeout = TimeSpan.FromSeconds(10) };
            http.DefaultRequestHeaders.Add("X-Api-Key", ApiKey);
            await WaitAsync(async () => (await TryGet(http, "/alive")) == HttpStatusCode.OK, TimeSpan.FromSeconds(60),
                () => Logs(podman, name));
            await WaitAsync(async () => (await TryGet(http, "/health")) == HttpStatusCode.OK, TimeSpan.FromSeconds(60),
                () => Logs(podman, name));
            using (var health = JsonDocument.Parse(await http.GetStringAsync(new Uri("/health", UriKind.Relative))))
            {
                Assert.Equal("Healthy", health.RootElement.GetProperty("status").GetString());
                var checks = health.RootElement.GetProperty("checks").EnumerateObject()
                    .ToDictionary(c => c.Name, c => c.Value.GetProperty("status").GetString());
                foreach (var check in new[] { "self", "appdb", "appdb-schema", "redis", "temporal", "temporal-worker" })
                {
                    Assert.True(checks.TryGetValue(check, out var status) && status == "Healthy", $"{check}: {JsonSerializer.Serialize(checks)}");
                }
            }

            var probe = await Podman(podman, ["exec", name, "dotnet", "/app/Worker.dll", HealthCheckCommand.Flag]);
            Assert.True(probe.ExitCode == 0, probe.Output);

            // Order ids of this run only: the Redis cache of order statuses is shared by every test.
            var completes = $"img-{Guid.NewGuid():N}";
            await PlaceOrderAsync(http, completes);
            await WaitForStatusAsync(http, completes, s => s == "Completed", TimeSpan.FromSeconds(60));

            var inFlight = $"img-{Guid.NewGuid():N}";
            await PlaceOrderAsync(http, inFlight);
            await WaitForStatusAsync(http, inFlight, s => s == "Shipping", TimeSpan.FromSeconds(30));
            var stopping = Stopwatch.StartNew();
            (await Podman(podman, ["stop", "-t", $"{(int)StopGrace.TotalSeconds}", name], TimeSpan.FromMinutes(1))).EnsureSuccess();
            stopping.Stop();
            var exitCode = (await Podman(podman, ["inspect", "--format", "{{.State.ExitCode}}", name])).EnsureSuccess().StandardOutput.Trim();
            var logs = await Logs(podman, name);
            Assert.True(exitCode == "0", $"exit code {exitCode} after {stopping.Elapsed}: {logs}");
            Assert.True(stopping.Elapsed < StopGrace, $"stopped in {stopping.Elapsed}, grace {StopGrace}");

            // Nothing written outside the tmpfs: a read-only root makes writes fail, and none did.
            Assert.DoesNotContain("Read-only file system", logs, StringComparison.Ordinal);
            var diff = (await Podman(podman, ["diff", name])).EnsureSuccess().StandardOutput.Trim();
            Assert.True(diff.Length == 0, diff);
        }
        finally
        {
            await Podman(podman, ["rm", "-f", "-t", "0", name]);
            temporal.Terminate();
        }
    }

    private static Task<ProcessResult> Podman(string podman, string[] arguments, TimeSpan? timeout = null) =>
        ProcessRunner.RunAsync(podman, arguments, timeout ?? TimeSpan.FromSeconds(60));

    private static async Task<string> Logs(string podman, string name) => (await Podman(podman, ["logs", name])).Output;

    private static async Task<HttpStatusCode?> TryGet(HttpClient http, string path)
    {
        try
        {
            using var response = await http.GetAsync(new Uri(path, UriKind.Relative));
            return response.StatusCode;
        }
        catch (HttpRequestException)
        {
            return null;
        }
    }

    private static async Task WaitAsync(Func<Task<bool>> condition, TimeSpan timeout, Func<Task<string>> diagnostics)
    {
        var deadline = DateTime.UtcNow + timeout;
        while (!await condition())
        {
            if (DateTime.UtcNow > deadline)
            {
                throw new TimeoutException($"not within {timeout}: {await diagnostics()}");
            }
            await Task.Delay(50);
        }
    }

    private static async Task PlaceOrderAsync(HttpClient http, string orderId)
    {
        using var response = await http.PostAsJsonAsync(new Uri("/api/orders", UriKind.Relative),
            new { orderId, lines = new[] { new { sku = "GRINDER", quantity = 1 } }, paymentToken = "tok_visa" });
        Assert.True(response.IsSuccessStatusCode, $"{response.StatusCode}: {await response.Content.ReadAsStringAsync()}");
    }

    private static async Task WaitForStatusAsync(HttpClient http, string orderId, Func<string, bool> reached, TimeSpan timeout)
    {
        var status = "";
        var deadline = DateTime.UtcNow + timeout;
        while (DateTime.UtcNow < deadline)
        {
            using var order = JsonDocument.Parse(await http.GetStringAsync(new Uri($"/api/orders/{orderId}", UriKind.Relative)));
            status = order.RootElement.GetProperty("status").GetString()!;
            if (reached(status))
            {
                return;
            }
            await Task.Delay(50);
        }
        throw new TimeoutException($"order {orderId} is {status} after {timeout}");
    }
}

using System.Diagnostics;
using System.Net;
using System.Net.Http.Json;
using System.Text.Json;

namespace AppHost.Tests;

/// <summary>Starting the model: against existing infrastructure it runs; needing containers without an engine it stops at once.</summary>
[Collection(nameof(StartTests))]
[CollectionDefinition(nameof(StartTests), DisableParallelization = true)]
public sealed class StartTests
{
    /// <summary>Given, so that a run writes no generated key into the user secrets of whoever runs the tests.</summary>
    private const string PayloadKey = "apphost-test-payload-key-of-32-characters-at-least";

    // Both forms an existing Temporal is given in: the reference's own, and a bare address with the namespace apart.
    [Theory]
    [InlineData("Endpoint={0};Namespace=shop")]
    [InlineData("{0}", "Temporal:Namespace=shop")]
    public async Task With_existing_infrastructure_the_worker_replicas_become_healthy_and_an_order_completes(
        string temporalConnection, params string[] settings)
    {
        await using var temporal = await TemporalTestServer.TemporalTestServer.StartAsync(
            new TemporalTestServer.TestServerOptions { Namespaces = { "shop" } });
        var database = await TestDatabases.CreateAsync("apphost");
        var builder = await DistributedApplicationTestingBuilder.CreateAsync<Projects.AppHost>(
        [
            $"ConnectionStrings:appdb={database}",
            $"ConnectionStrings:redis={TestSettings.RedisConnection}",
            $"ConnectionStrings:temporal={string.Format(System.Globalization.CultureInfo.InvariantCulture, temporalConnection, temporal.Address)}",
            "Parameters:api-key=apphost-test-key",
            "Parameters:approver-api-key=apphost-test-approver-key",
            $"Parameters:payload-key-k1={PayloadKey}",
            .. settings,
        ]);
        await using var app = await builder.BuildAsync();
        using var timeout = new CancellationTokenSource(TimeSpan.FromMinutes(3));

        await app.StartAsync(timeout.Token);
        var replicas = app.Model().Resources.Single(r => r.Name == "worker").Annotations.OfType<ReplicaAnnotation>().Single().Replicas;
        var healthy = await WaitForHealthyReplicasAsync(app, "worker", replicas, timeout.Token);

        Assert.Equal(2, replicas);
        Assert.Equal(2, healthy.Count);
        Assert.Equal("Completed", await PlaceOrderAsync(app, "apphost-1", timeout.Token));
        // It ran in the namespace the configuration named, not in the server's default one.
        // Payloads are encrypted (on by default): the client reads them with the key the AppHost was given.
        var codec = new Worker.Temporal.Codec.PayloadEncryptionSettings { Keys = { ["k1"] = PayloadKey }, CurrentKeyId = "k1" }.CreateCodec();
        var shop = await Temporalio.Client.TemporalClient.ConnectAsync(new(temporal.Address)
        {
            Namespace = "shop",
            DataConverter = Worker.Temporal.Codec.PayloadEncryptionSettings.CreateDataConverter(codec),
        });
        var result = await shop.GetWorkflowHandle("order-apphost-1").GetResultAsync<JsonElement>().WaitAsync(timeout.Token);
        Assert.Equal("Completed", result.GetProperty("Status").GetString());
    }

    [Fact]
    public async Task Needing_containers_without_a_container_engine_the_apphost_exits_within_10_seconds_saying_both_ways_out()
    {
        // A runtime command that does not exist: the same answer on every machine, engine or not.
        var clock = Stopwatch.StartNew();
        var (exitCode, output) = await AppHostProcess.StartAsync(TimeSpan.FromSeconds(30), ["--Stack:Mode=containers"],
            ("ASPIRE_CONTAINER_RUNTIME", "temporal-orders-no-such-runtime"));

        Assert.Equal(1, exitCode);
        Assert.Contains("No container engine is available", output, StringComparison.Ordinal);
        Assert.Contains("Docker or Podman", output, StringComparison.Ordinal);
        Assert.Contains("ConnectionStrings:appdb", output, StringComparison.Ordinal);
        Assert.True(clock.Elapsed < TimeSpan.FromSeconds(10), $"took {clock.Elapsed}");
    }

    /// <summary>With redis-server as installed, and where it is not (only PostgreSQL's folder searched): Garnet instead.</summary>
    public static TheoryData<string> Caches => ["redis-server", "garnet"];

    [Theory]
    [MemberData(nameof(Caches))]
    public async Task In_process_mode_every_resource_becomes_healthy_an_order_completes_and_stopping_leaves_no_process(string cache)
    {
        var state = LocalProcesses.CreateStateDirectory();
        var builder = await DistributedApplicationTestingBuilder.CreateAsync<Projects.AppHost>(
        [
            "Stack:Mode=processes",
            $"Stack:StateDirectory={state.FullName}",
            "Parameters:api-key=apphost-test-key",
            "Parameters:approver-api-key=apphost-test-approver-key",
            "Parameters:postgres-password=apphost-test-password",
            $"Parameters:payload-key-k1={PayloadKey}",
            .. cache == "garnet" ? [$"Stack:ProgramDirectories:0={TestSettings.PostgresBinaries}"] : Array.Empty<string>(),
        ]);
        using var timeout = new CancellationTokenSource(TimeSpan.FromMinutes(3));
        string[] processes = ["postgres", "redis", "temporal-server"];
        var pids = new List<int>();
        await using (var app = await builder.BuildAsync())
        {
            await app.StartAsync(timeout.Token);
            foreach (var name in (string[])[.. processes, "appdb", "temporal", "worker"])
            {
                await app.ResourceNotifications.WaitForResourceHealthyAsync(name, timeout.Token);
            }
            foreach (var name in processes)
            {
                Assert.True(app.ResourceNotifications.TryGetCurrentState(name, out var state0), name);
                pids.Add(int.Parse(state0.Snapshot.Properties.Single(p => p.Name == "executable.pid").Value!.ToString()!, System.Globalization.CultureInfo.InvariantCulture));
            }
            // The cache is the server asked for: the installed redis-server, or Garnet's host where none is found.
            var cacheCommand = LocalProcesses.CommandLineOf(pids[1]);
            Assert.True(cache == "garnet" ? cacheCommand.Contains("GarnetHost.dll", StringComparison.Ordinal) : cacheCommand.Contains("redis-server", StringComparison.Ordinal),
                cacheCommand);

            Assert.Equal("Completed", await PlaceOrderAsync(app, "processes-1", timeout.Token));
            await app.StopAsync(timeout.Token);
        }

        // Stopped means stopped: no server process of the run is left behind.
        var deadline = DateTime.UtcNow + TimeSpan.FromSeconds(15);
        while (pids.Any(LocalProcesses.IsRunning) && DateTime.UtcNow < deadline)
        {
            await Task.Delay(100);
        }
        Assert.DoesNotContain(pids, LocalProcesses.IsRunning);
        Assert.Empty(LocalProcesses.CommandLinesContaining(state.FullName));
        state.Delete(recursive: true);
    }

    [Fact]
    public async Task In_process_mode_missing_programs_stop_the_start_naming_each_with_its_install_command()
    {
        var clock = Stopwatch.StartNew();
        var (exitCode, output) = await AppHostProcess.StartAsync(TimeSpan.FromSeconds(30),
            ["--Stack:Mode=processes", "--Stack:ProgramDirectories:0=/temporal-orders-no-such-directory", $"--Stack:StateDirectory={Path.GetTempPath()}"]);

        Assert.Equal(1, exitCode);
        Assert.Contains("postgres (PostgreSQL 13-16): Debian/Ubuntu: sudo apt-get install postgresql; macOS: brew install postgresql@16", output, StringComparison.Ordinal);
        Assert.DoesNotContain("redis-server", output, StringComparison.Ordinal); // Garnet stands in for it
        Assert.Contains("ConnectionStrings:appdb", output, StringComparison.Ordinal);
        Assert.True(clock.Elapsed < TimeSpan.FromSeconds(15), $"took {clock.Elapsed}");
    }

    /// <summary>
    /// Waits until <paramref name="count"/> distinct replicas of the resource each answer 200 on their own
    /// <c>/health</c>, at the address Aspire gave that replica. Aspire's own health status does not tell: its check
    /// goes through the resource's proxy and is shared by the replicas, so every replica shows healthy as soon as one
    /// serves (<c>WaitForResourceHealthyAsync</c> returns then too). Fails naming what answered after 2 minutes.
    /// </summary>
    private static async Task<HashSet<string>> WaitForHealthyReplicasAsync(DistributedApplication app, string name, int count, CancellationToken cancellationToken)
    {
        using var limit = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
        limit.CancelAfter(TimeSpan.FromMinutes(2));
        var addresses = new Dictionary<string, string>(StringComparer.Ordinal);
        var healthy = new HashSet<string>(StringComparer.Ordinal);
        try
        {
            await foreach (var update in app.ResourceNotifications.WatchAsync(limit.Token))
            {
                if (update.Resource.Name == name
                    && update.Snapshot.EnvironmentVariables.FirstOrDefault(e => e.Name == "ASPNETCORE_URLS")?.Value is { Length: > 0 } urls)
                {
                    addresses[update.ResourceId] = urls.Split(';')[0];
                }
                if (addresses.Count >= count)
                {
                    break;
                }
            }
            using var http = new HttpClient { Timeout = TimeSpan.FromSeconds(5) };
            while (healthy.Count < addresses.Count)
            {
                foreach (var (replica, address) in addresses.Where(a => !healthy.Contains(a.Key)))
                {
                    try
                    {
                        if ((await http.GetAsync(new Uri(new Uri(address), "/health"), limit.Token)).IsSuccessStatusCode)
                        {
                            healthy.Add(replica);
                        }
                    }
                    catch (HttpRequestException)
                    {
                        // Not listening yet.
                    }
                    catch (TaskCanceledException) when (!limit.IsCancellationRequested)
                    {
                        // Listening, but its first check outlasted the client's timeout: asked again.
                    }
                }
                await Task.Delay(200, limit.Token);
            }
        }
        catch (OperationCanceledException) when (limit.IsCancellationRequested && !cancellationToken.IsCancellationRequested)
        {
        }
        Assert.True(healthy.Count >= count,
            $"{count} healthy replicas of {name} expected; replicas [{string.Join(", ", addresses.Select(a => $"{a.Key} at {a.Value}"))}], healthy [{string.Join(", ", healthy)}]");
        return healthy;
    }

    /// <summary>Places an order through the worker's API and polls it until it is Completed or the token ends; returns its last status.</summary>
    private static async Task<string?> PlaceOrderAsync(DistributedApplication app, string orderId, CancellationToken cancellationToken)
    {
        using var api = app.CreateHttpClient("worker");
        api.DefaultRequestHeaders.Add("X-Api-Key", "apphost-test-key");
        var post = await api.PostAsJsonAsync("/api/orders",
            new { orderId, lines = new[] { new { sku = "GRINDER", quantity = 1 } }, paymentToken = "tok_visa" }, cancellationToken);
        Assert.Equal(HttpStatusCode.Accepted, post.StatusCode);
        string? status = null;
        while (status != "Completed" && !cancellationToken.IsCancellationRequested)
        {
            await Task.Delay(100, cancellationToken);
            status = (await api.GetFromJsonAsync<JsonElement>($"/api/orders/{orderId}", cancellationToken)).GetProperty("status").GetString();
        }
        return status;
    }
}

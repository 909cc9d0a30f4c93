namespace Worker.Tests.Hosting;

/// <summary>What an operator sees of the process: start-up errors, log format, probes, the health-check entry.</summary>
public sealed class WorkerProcessTests(OrdersDatabase db) : IClassFixture<OrdersDatabase>
{
    private static readonly TimeSpan ExitTimeout = TimeSpan.FromSeconds(20);

    [Theory]
    [InlineData("Temporal__Address", "Temporal:Address")]
    [InlineData("Temporal__Address", "ConnectionStrings:temporal")]
    [InlineData("Api__Keys", "Api:Keys")]
    [InlineData("ConnectionStrings__appdb", "ConnectionStrings:appdb")]
    public async Task Missing_required_setting_exits_at_start_naming_the_key(string variable, string key)
    {
        var environment = WorkerFactory.ProcessEnvironment(db.ConnectionString);
        environment.Remove(variable);
        using var worker = WorkerProcess.Start(environment);

        var exitCode = await worker.WaitForExitAsync(ExitTimeout);

        Assert.Equal(2, exitCode);
        Assert.Contains(key, worker.StandardError, StringComparison.Ordinal);
    }

    [Fact]
    public async Task The_temporal_connection_string_alone_gives_the_worker_its_server_and_namespace()
    {
        await using var temporal = await TemporalTestServer.TemporalTestServer.StartAsync(new() { Namespaces = { "orders-ns" } });
        var environment = WorkerFactory.ProcessEnvironment(db.ConnectionString);
        environment.Remove("Temporal__Address");
        environment["ConnectionStrings__temporal"] = $"Endpoint={temporal.Address};Namespace=orders-ns";
        using var worker = WorkerProcess.Start(environment);

        await worker.WaitForAsync("/health", HttpStatusCode.OK, TimeSpan.FromSeconds(30));

        Assert.True(await worker.OutputContainsAsync($"Connected to Temporal at {temporal.Address}, namespace orders-ns", TimeSpan.FromSeconds(10)), worker.StandardOutput);
        Assert.True(await worker.OutputContainsAsync("polling task queue orders in namespace orders-ns", TimeSpan.FromSeconds(10)), worker.StandardOutput);
    }

    [Theory]
    [InlineData("Worker__Roles", "api,scheduler", "Worker:Roles")]
    [InlineData("ConnectionStrings__temporal", "Endpoint=127.0.0.1:1;Namespase=orders", "ConnectionStrings:temporal has an unknown key 'namespase'")]
    [InlineData("Temporal__GrpcCompression", "brotli", "Temporal:GrpcCompression")]
    public async Task Bad_setting_exits_at_start_naming_the_key(string variable, string value, string message)
    {
        var environment = WorkerFactory.ProcessEnvironment(db.ConnectionString);
        environment[variable] = value;
        using var worker = WorkerProcess.Start(environment);

        Assert.Equal(2, await worker.WaitForExitAsync(ExitTimeout));
        Assert.Contains(message, worker.StandardError, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Without_temporal_the_process_stays_up_alive_200_and_health_503()
    {
        using var worker = WorkerProcess.Start(WorkerFactory.ProcessEnvironment(db.ConnectionString));

        await worker.WaitForAsync("/alive", HttpStatusCode.OK, TimeSpan.FromSeconds(30));
        await worker.WaitForAsync("/health", HttpStatusCode.ServiceUnavailable, TimeSpan.FromSeconds(5));
        await Task.Delay(1000);

        Assert.False(worker.HasExited);
    }

    [Fact]
    public async Task Logs_outside_development_are_one_json_object_per_line()
    {
        using var worker = WorkerProcess.Start(WorkerFactory.ProcessEnvironment(db.ConnectionString));
        await worker.WaitForAsync("/alive", HttpStatusCode.OK, TimeSpan.FromSeconds(30));
        await Task.Delay(500);

        var lines = worker.StandardOutput.Split('\n', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries);

        Assert.NotEmpty(lines);
        foreach (var line in lines)
        {
            using var doc = JsonDocument.Parse(line);
            var root = doc.RootElement;
            Assert.True(root.TryGetProperty("Timestamp", out _), line);
            Assert.True(root.TryGetProperty("LogLevel", out _), line);
            Assert.True(root.TryGetProperty("Category", out _), line);
            Assert.True(root.TryGetProperty("Message", out _), line);
        }
        Assert.Contains(lines, l => l.Contains("Temporal at 127.0.0.1:1 not reachable", StringComparison.Ordinal));
    }

    [Fact]
    public async Task Health_check_entry_point_reports_the_probe_result_as_exit_code()
    {
        using var worker = WorkerProcess.Start(WorkerFactory.ProcessEnvironment(db.ConnectionString));
        await worker.WaitForAsync("/alive", HttpStatusCode.OK, TimeSpan.FromSeconds(30));
        var ports = new Dictionary<string, string?> { ["ASPNETCORE_HTTP_PORTS"] = worker.Port.ToString(System.Globalization.CultureInfo.InvariantCulture) };

        Assert.Equal(0, await RunHealthCheckAsync(ports, "/alive"));
        Assert.Equal(1, await RunHealthCheckAsync(ports, "/health"));
        Assert.Equal(0, await RunHealthCheckAsync([], $"http://127.0.0.1:{worker.Port}/alive"));
        Assert.Equal(1, await RunHealthCheckAsync(new() { ["ASPNETCORE_HTTP_PORTS"] = Loopback.FreePort().ToString(System.Globalization.CultureInfo.InvariantCulture) }, "/alive"));
    }

    [Fact]
    public async Task Sigterm_stops_the_process_cleanly()
    {
        using var worker = WorkerProcess.Start(WorkerFactory.ProcessEnvironment(db.ConnectionString));
        await worker.WaitForAsync("/alive", HttpStatusCode.OK, TimeSpan.FromSeconds(30));

        worker.Terminate();

        Assert.Equal(0, await worker.WaitForExitAsync(TimeSpan.FromSeconds(15)));
    }

    private static async Task<int> RunHealthCheckAsync(Dictionary<string, string?> environment, string target)
    {
        var variables = new Dictionary<string, string?>(environment);
        variables.TryAdd("ASPNETCORE_HTTP_PORTS", null); // only what the test gives: nothing inherited
        return (await ProcessRunner.RunAsync("dotnet", [WorkerProcess.WorkerDll, "--health-check", target], ExitTimeout, variables)).ExitCode;
    }
}

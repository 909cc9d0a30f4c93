namespace Worker.Rollout.Tests;

/// <summary>
/// One rollout: a database, a Temporal test server and a payment gateway shared by the builds started on them; the
/// orders placed through each build's API, the decisions sent once orders await approval, and how all of it ended.
/// </summary>
public sealed class RolloutRun : IAsyncDisposable
{
    private static readonly TimeSpan StartTimeout = TimeSpan.FromMinutes(2);
    private static readonly OrderKind[] Kinds = [.. Enum.GetValues<OrderKind>().Where(k => k != OrderKind.ChargedByThePreviousBuild)];

    private readonly List<(PlannedOrder Order, WorkerProcess Through)> placed = [];
    private readonly List<Task> decisions = [];
    private readonly List<WorkerProcess> builds = [];
    private readonly Dictionary<string, string?> settings;

    private RolloutRun(string database, TemporalTestServer.TemporalTestServer temporal, ContractPaymentGateway gateway)
    {
        (Database, Temporal, Gateway) = (database, temporal, gateway);
        settings = new()
        {
            ["ConnectionStrings__appdb"] = database,
            ["ConnectionStrings__redis"] = TestSettings.RedisConnection,
            ["Temporal__Address"] = temporal.Address,
            ["Api__Keys"] = OrdersApi.Key,
            ["Api__ApproverKeys"] = OrdersApi.Key, // the test's one client places orders and decides them

            ["Payments__Endpoint"] = gateway.Address.ToString(),
            ["Orders__ShippingStageDuration"] = "00:00:00.300",
        };
    }

    public string Database { get; }

    public TemporalTestServer.TemporalTestServer Temporal { get; }

    public ContractPaymentGateway Gateway { get; }

    public List<PlannedOrder> Placed => placed.Select(p => p.Order).ToList();

    /// <summary>A fresh database, Temporal test server and gateway.</summary>
    public static async Task<RolloutRun> CreateAsync(TemporalTestServer.TestServerOptions? temporal = null) =>
        new(await TestDatabases.CreateAsync("rollout"), await TemporalTestServer.TemporalTestServer.StartAsync(temporal ?? new()),
            await ContractPaymentGateway.StartAsync());

    public List<PlannedOrder> PlacedThrough(WorkerProcess build) => placed.Where(p => p.Through == build).Select(p => p.Order).ToList();

    /// <summary>Starts a build with the run's settings, calling the gateway with its own key, plus <paramref name="extra"/>.</summary>
    public async Task<WorkerProcess> StartAsync(string workerDll, string gatewayKey, params (string Key, string Value)[] extra)
    {
        var environment = new Dictionary<string, string?>(settings) { ["Payments__ApiKey"] = gatewayKey };
        foreach (var (key, value) in extra)
        {
            environment[key] = value;
        }
        var build = WorkerProcess.Start(workerDll, environment);
        builds.Add(build);
        await build.WaitForAsync("/health", HttpStatusCode.OK, StartTimeout);
        return build;
    }

    /// <summary>Stops a build (SIGTERM, a clean exit) once every decision sent so far has arrived: some go through it.</summary>
    public async Task StopAsync(WorkerProcess build)
    {
        await Task.WhenAll(decisions);
        build.Terminate();
        Assert.Equal(0, await build.WaitForExitAsync(TimeSpan.FromSeconds(60)));
    }

    /// <summary>One order of every kind through each API in turn; approval decisions go through the next API.</summary>
    public async Task<List<PlannedOrder>> PlaceAsync(string batch, params WorkerProcess[] through)
    {
        var orders = new List<PlannedOrder>();
        for (var i = 0; i < Kinds.Length * through.Length; i++)
        {
            var order = await PlaceAsync(
                new PlannedOrder($"{batch}-{i}-{Kinds[i % Kinds.Length]}".ToLowerInvariant(), Kinds[i % Kinds.Length]), through[i % through.Length]);
            if (order.Decision is { } decision)
            {
                decisions.Add(DecideAsync(order.Id, decision, through[(i + 1) % through.Length]));
            }
            orders.Add(order);
        }
        return orders;
    }

    public async Task<PlannedOrder> PlaceAsync(PlannedOrder order, WorkerProcess through)
    {
        using (var api = new OrdersApi(through.BaseAddress))
        {
            await api.PlaceAsync(order);
        }
        placed.Add((order, through));
        return order;
    }

    /// <summary>Sends the decision once the order awaits approval.</summary>
    public static async Task DecideAsync(string orderId, string decision, WorkerProcess through)
    {
        using var api = new OrdersApi(through.BaseAddress);
        var deadline = DateTime.UtcNow + TimeSpan.FromSeconds(60);
        while (!await api.DecideAsync(orderId, decision))
        {
            Assert.True(DateTime.UtcNow < deadline, $"{orderId} never awaited approval");
            await Task.Delay(100);
        }
    }

    /// <summary>Waits until every one of <paramref name="orders"/> has a final status, asked through the newest running build.</summary>
    public async Task WaitFinishedAsync(IReadOnlyList<PlannedOrder> orders, TimeSpan timeout)
    {
        var deadline = DateTime.UtcNow + timeout;
        var open = orders.Select(o => o.Id).ToHashSet();
        while (open.Count > 0 && DateTime.UtcNow < deadline)
        {
            using var api = new OrdersApi(builds.Last(b => !b.HasExited).BaseAddress);
            foreach (var id in open.ToList())
            {
                if (await api.StatusAsync(id) is "Completed" or "Cancelled" or "Rejected" or "Failed")
                {
                    open.Remove(id);
                }
            }
            await Task.Delay(250);
        }
        await Task.WhenAll(decisions);
        Assert.True(open.Count == 0, $"Not finished within {timeout}: {string.Join(", ", open)}\n{Logs()}");
    }

    /// <summary>Waits until every order placed has finished, then checks that each ended as it should, consistently.</summary>
    public async Task AssertAllEndedConsistentAsync(TimeSpan timeout)
    {
        await WaitFinishedAsync(Placed, timeout);
        var problems = await OrderAudit.ProblemsAsync(Database, Placed, Gateway);
        Assert.True(problems.Count == 0, string.Join('\n', problems) + "\n" + Logs());
    }

    /// <summary>Every build's warnings and errors, for a failure's message; the whole logs go to files it names.</summary>
    public string Logs() => string.Join('\n', builds.Select(b =>
    {
        var file = Path.Combine(Path.GetTempPath(), $"rollout-worker-{b.Port}.log");
        File.WriteAllText(file, b.StandardOutput + b.StandardError);
        return $"--- {b.BaseAddress} (whole log: {file})\n{Problems(b.StandardOutput + b.StandardError)}";
    }));

    public async ValueTask DisposeAsync()
    {
        foreach (var build in builds)
        {
            build.Dispose();
        }
        await Gateway.DisposeAsync();
        await Temporal.DisposeAsync();
    }

    private static string Problems(string log) => string.Join('\n', log.Split('\n')
        .Where(l => !l.StartsWith('{') || l.Contains("\"LogLevel\":\"Warning\"", StringComparison.Ordinal)
            || l.Contains("\"LogLevel\":\"Error\"", StringComparison.Ordinal) || l.Contains("\"LogLevel\":\"Critical\"", StringComparison.Ordinal))
        .Select(l => l.Length > 600 ? l[..600] : l)
        .TakeLast(60));
}

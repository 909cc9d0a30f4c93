namespace Worker.Rollout.Tests;

/// <summary>
/// This build beside the previous release (previous-release) on one database and one task queue, unversioned: the
/// worst case of a rollout, where any workflow task or activity of any order can run on either build. Orders are in
/// flight through a rolling update (previous, both, this one) and a rollback (both again, previous), and every order
/// must end as it should, with the ledger, the gateway, the stock and the shipment agreeing.
/// </summary>
[Collection(Rollouts.Name)]
public sealed class PreviousReleaseTests(PreviousRelease previous) : IClassFixture<PreviousRelease>
{
    private static readonly TimeSpan StartTimeout = TimeSpan.FromMinutes(2);
    private static readonly TimeSpan SettleTimeout = TimeSpan.FromMinutes(3);

    [Fact]
    public async Task Orders_in_flight_through_a_rollout_over_the_previous_release_and_a_rollback_all_end_consistent()
    {
        var database = await TestDatabases.CreateAsync("rollout");
        await using var temporal = await TemporalTestServer.TemporalTestServer.StartAsync(new());
        await using var gateway = await ContractPaymentGateway.StartAsync();
        var settings = new Dictionary<string, string?>
        {
            ["ConnectionStrings__appdb"] = database,
            ["ConnectionStrings__redis"] = TestSettings.RedisConnection,
            ["Temporal__Address"] = temporal.Address,
            ["Api__Keys"] = OrdersApi.Key,
            ["Payments__Endpoint"] = gateway.Address.ToString(),
            ["Orders__ShippingStageDuration"] = "00:00:00.300",
            // docs/rollouts.md: on while builds from before schema migration 2 run beside this one.
            ["Orders__KeepLegacyFormats"] = "true",
        };
        var run = new Rollout(settings);

        using var previous1 = await run.StartAsync(previous.WorkerDll, ContractPaymentGateway.PreviousBuildKey);
        await run.PlaceAsync("a", previous1);                       // the previous release alone
        var heldForApproval = await run.PlaceAsync(new PlannedOrder("a-charged-by-the-previous-build", OrderKind.ChargedByThePreviousBuild), previous1);

        using var current = await run.StartAsync(WorkerProcess.WorkerDll, ContractPaymentGateway.ThisBuildKey);
        await run.PlaceAsync("b", previous1, current);              // both, deciding through the other build's API
        await run.StopAsync(previous1);
        await run.PlaceAsync("c", current);                         // rolled out
        await Rollout.DecideAsync(heldForApproval.Id, "approve", current); // only this build runs: it begins the charge

        using var previous2 = await run.StartAsync(previous.WorkerDll, ContractPaymentGateway.PreviousBuildKey);
        await run.PlaceAsync("d", previous2, current);              // rolling back: the previous build takes new orders...
        await run.WaitFinishedAsync(run.PlacedThrough(current), SettleTimeout); // ...until this one's orders are done
        await run.StopAsync(current);
        await run.PlaceAsync("e", previous2);                       // rolled back

        await run.WaitFinishedAsync(run.Placed, SettleTimeout);
        var problems = await OrderAudit.ProblemsAsync(database, run.Placed, gateway);
        Assert.True(problems.Count == 0, string.Join('\n', problems) + "\n" + run.Logs());
        Assert.Equal(0, gateway.ChargesWithoutToken);
    }

    /// <summary>One rollout's builds, the orders placed through them, and the decisions sent once orders await approval.</summary>
    private sealed class Rollout(IReadOnlyDictionary<string, string?> settings)
    {
        private static readonly OrderKind[] Kinds = [.. Enum.GetValues<OrderKind>().Where(k => k != OrderKind.ChargedByThePreviousBuild)];
        private readonly List<(PlannedOrder Order, WorkerProcess Through)> placed = [];
        private readonly List<Task> decisions = [];
        private readonly List<WorkerProcess> builds = [];

        public List<PlannedOrder> Placed => placed.Select(p => p.Order).ToList();

        public List<PlannedOrder> PlacedThrough(WorkerProcess build) => placed.Where(p => p.Through == build).Select(p => p.Order).ToList();

        public async Task<WorkerProcess> StartAsync(string workerDll, string gatewayKey)
        {
            var build = WorkerProcess.Start(workerDll, new Dictionary<string, string?>(settings) { ["Payments__ApiKey"] = gatewayKey });
            builds.Add(build);
            await build.WaitForAsync("/health", HttpStatusCode.OK, StartTimeout);
            return build;
        }

        /// <summary>Stops a build once every decision sent so far has arrived (some go through it).</summary>
        public async Task StopAsync(WorkerProcess build)
        {
            await Task.WhenAll(decisions);
            build.Terminate();
            Assert.Equal(0, await build.WaitForExitAsync(TimeSpan.FromSeconds(60)));
        }

        /// <summary>One order of every kind through each API in turn; approval decisions go through the next API.</summary>
        public async Task PlaceAsync(string batch, params WorkerProcess[] through)
        {
            for (var i = 0; i < Kinds.Length * through.Length; i++)
            {
                var order = await PlaceAsync(
                    new PlannedOrder($"{batch}-{i}-{Kinds[i % Kinds.Length]}".ToLowerInvariant(), Kinds[i % Kinds.Length]), through[i % through.Length]);
                if (order.Decision is { } decision)
                {
                    decisions.Add(DecideAsync(order.Id, decision, through[(i + 1) % through.Length]));
                }
            }
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

        /// <summary>Every build's warnings and errors, for a failure's message; the whole logs go to files it names.</summary>
        public string Logs() => string.Join('\n', builds.Select(b =>
        {
            var file = Path.Combine(Path.GetTempPath(), $"rollout-worker-{b.Port}.log");
            File.WriteAllText(file, b.StandardOutput + b.StandardError);
            return $"--- {b.BaseAddress} (whole log: {file})\n{Problems(b.StandardOutput + b.StandardError)}";
        }));

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

        private static string Problems(string log) => string.Join('\n', log.Split('\n')
            .Where(l => !l.StartsWith('{') || l.Contains("\"LogLevel\":\"Warning\"", StringComparison.Ordinal)
                || l.Contains("\"LogLevel\":\"Error\"", StringComparison.Ordinal) || l.Contains("\"LogLevel\":\"Critical\"", StringComparison.Ordinal))
            .Select(l => l.Length > 600 ? l[..600] : l)
            .TakeLast(60));
    }
}

[CollectionDefinition(Name, DisableParallelization = true)]
public sealed class Rollouts
{
    public const string Name = "rollouts";
}

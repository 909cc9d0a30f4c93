using Temporalio.Api.Enums.V1;

namespace Worker.Rollout.Tests;

/// <summary>
/// The versioned rollout and rollback of docs/rollouts.md, rehearsed end to end on the test server with this build
/// twice under two build ids, as two releases would run: a ramp, the new version made current, orders pinned to the
/// build that started them and finishing there, a rollback that strands nothing, and the old version drained and
/// removed.
/// </summary>
[Collection(Rollouts.Name)]
public sealed class VersionedRolloutTests
{
    private const string Deployment = "temporal-orders/worker";
    private const string Old = "1.0.0";
    private const string New = "1.1.0";
    private static readonly TimeSpan SettleTimeout = TimeSpan.FromMinutes(2);

    [Fact]
    public async Task A_versioned_rollout_and_rollback_finish_every_order_on_the_build_that_started_it_and_strand_nothing()
    {
        await using var run = await RolloutRun.CreateAsync(new()
        {
            DrainageGracePeriod = TimeSpan.FromMilliseconds(200),
            DrainageRefreshInterval = TimeSpan.FromMilliseconds(100),
        });
        var versions = await WorkerVersions.ConnectAsync(run.Temporal.Address, Deployment);

        using var old = await StartAsync(run, versions, Old);
        await versions.SetCurrentAsync(Old);
        var onOld = await run.PlaceAsync("a", old);
        var heldOnOld = await run.PlaceAsync(new PlannedOrder("a-held", OrderKind.Approved), old); // waits across the rollout

        using var @new = await StartAsync(run, versions, New);
        await versions.SetRampingAsync(New, 50);
        var ramped = await run.PlaceAsync("b", old, @new);
        await versions.SetCurrentAsync(New);
        var onNew = await run.PlaceAsync("c", old, @new);                          // through either API
        var heldOnNew = await run.PlaceAsync(new PlannedOrder("c-held", OrderKind.Approved), @new);
        await RolloutRun.DecideAsync(heldOnOld.Id, "approve", @new);

        await versions.SetCurrentAsync(Old);                                       // the rollback
        var afterRollback = await run.PlaceAsync("d", old, @new);
        await RolloutRun.DecideAsync(heldOnNew.Id, "approve", old);
        await run.WaitFinishedAsync(run.Placed, SettleTimeout);

        await WaitDrainedAsync(versions, New);
        await run.StopAsync(@new);
        await versions.DeleteVersionAsync(New);

        await AssertPinnedAsync(versions, Old, [.. onOld, heldOnOld, .. afterRollback]);
        await AssertPinnedAsync(versions, New, [.. onNew, heldOnNew]);
        var rampedTo = await Task.WhenAll(ramped.Select(o => versions.PinnedBuildAsync(o.Id)));
        Assert.Contains(Old, rampedTo);
        Assert.Contains(New, rampedTo);
        Assert.All(rampedTo, build => Assert.Contains(build, new[] { Old, New }));
        await run.AssertAllEndedConsistentAsync(SettleTimeout);
    }

    private static async Task<WorkerProcess> StartAsync(RolloutRun run, WorkerVersions versions, string buildId)
    {
        var build = await run.StartAsync(WorkerProcess.WorkerDll, ContractPaymentGateway.ThisBuildKey,
            ("Temporal__DeploymentName", Deployment), ("Temporal__BuildId", buildId));
        await versions.WaitRegisteredAsync(buildId, TimeSpan.FromSeconds(30));
        return build;
    }

    private static async Task AssertPinnedAsync(WorkerVersions versions, string buildId, IEnumerable<PlannedOrder> orders)
    {
        foreach (var order in orders)
        {
            Assert.True(await versions.PinnedBuildAsync(order.Id) == buildId, $"{order.Id} is not pinned to {buildId}");
        }
    }

    private static async Task WaitDrainedAsync(WorkerVersions versions, string buildId)
    {
        var deadline = DateTime.UtcNow + TimeSpan.FromSeconds(30);
        while (await versions.DrainageAsync(buildId) != VersionDrainageStatus.Drained)
        {
            Assert.True(DateTime.UtcNow < deadline, $"{buildId} never drained");
            await Task.Delay(100);
        }
    }
}

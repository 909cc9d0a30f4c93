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
    private static readonly TimeSpan SettleTimeout = TimeSpan.FromMinutes(3);

    // docs/rollouts.md: on while builds from before schema migration 2 run beside this one.
    private static readonly (string, string) KeepLegacyFormats = ("Orders__KeepLegacyFormats", "true");

    [Fact]
    public async Task Orders_in_flight_through_a_rollout_over_the_previous_release_and_a_rollback_all_end_consistent()
    {
        await using var run = await RolloutRun.CreateAsync();

        using var previous1 = await run.StartAsync(previous.WorkerDll, ContractPaymentGateway.PreviousBuildKey);
        await run.PlaceAsync("a", previous1);                        // the previous release alone
        var heldForApproval = await run.PlaceAsync(new PlannedOrder("a-charged-by-the-previous-build", OrderKind.ChargedByThePreviousBuild), previous1);

        using var current = await run.StartAsync(WorkerProcess.WorkerDll, ContractPaymentGateway.ThisBuildKey, KeepLegacyFormats);
        await run.PlaceAsync("b", previous1, current);               // both, deciding through the other build's API
        await run.StopAsync(previous1);
        await run.PlaceAsync("c", current);                          // rolled out
        await RolloutRun.DecideAsync(heldForApproval.Id, "approve", current); // only this build runs: it begins the charge

        using var previous2 = await run.StartAsync(previous.WorkerDll, ContractPaymentGateway.PreviousBuildKey);
        await run.PlaceAsync("d", previous2, current);               // rolling back: the previous build takes new orders...
        await run.WaitFinishedAsync(run.PlacedThrough(current), SettleTimeout); // ...until this one's orders are done
        await run.StopAsync(current);
        await run.PlaceAsync("e", previous2);                        // rolled back

        await run.AssertAllEndedConsistentAsync(SettleTimeout);
        Assert.Equal(0, run.Gateway.ChargesWithoutToken);
    }
}

[CollectionDefinition(Name, DisableParallelization = true)]
public sealed class Rollouts
{
    public const string Name = "rollouts";
}

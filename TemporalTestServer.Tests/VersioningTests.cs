using Temporalio.Api.Enums.V1;
using Temporalio.Client;
using Temporalio.Exceptions;
using Temporalio.Common;
using TemporalTestServer.State;
using VersioningBehavior = Temporalio.Common.VersioningBehavior;
using WireBehavior = Temporalio.Api.Enums.V1.VersioningBehavior;
using static Temporalio.Api.Enums.V1.WorkerDeploymentVersionStatus;

namespace TemporalTestServer.Tests;

/// <summary>
/// Worker Deployment Versioning through the real SDK: two builds of one deployment on one task queue,
/// their workflows reporting which build ran each workflow task and activity, routed as the real server
/// routes them while the deployment's current and ramping versions change.
/// </summary>
public sealed class VersioningTests(ServerFixture fx) : IClassFixture<ServerFixture>
{
    private static string Id(string prefix) => $"{prefix}-{Guid.NewGuid():N}";

    [Fact]
    public async Task Pinned_workflows_finish_on_their_version_with_their_activities_while_new_ones_go_to_the_new_current()
    {
        await using var deployment = new DeploymentHarness(fx.Client);
        // Neither a sticky cache nor eager activities keep the pinned workflow on v1 here: only the routing does.
        await deployment.StartAsync("v1", routedOnly: true);
        await deployment.StartAsync("v2", routedOnly: true);
        await deployment.SetCurrentAsync("v1");
        var old = await deployment.StartTrailAsync(Id("pinned-old"), stepsToWaitFor: 1);
        await DeploymentHarness.WaitForTrailAsync(old, 2);

        await deployment.SetCurrentAsync("v2");
        var fresh = await deployment.StartTrailAsync(Id("pinned-new"), stepsToWaitFor: 0);
        await old.SignalAsync(wf => wf.StepAsync());

        Assert.Equal(["task:v1", "activity:v1", "task:v1", "activity:v1"], await old.GetResultAsync());
        Assert.Equal(["task:v2", "activity:v2"], await fresh.GetResultAsync());
        var described = await deployment.ExecutionInfoAsync(old);
        Assert.Equal(WireBehavior.Pinned, described.VersioningInfo.Behavior);
        Assert.Equal(deployment.WireVersion("v1"), described.VersioningInfo.DeploymentVersion);
        Assert.Equal(deployment.Name, described.WorkerDeploymentName);
        var completions = (await old.FetchHistoryAsync()).Events
            .Where(e => e.EventType == EventType.WorkflowTaskCompleted).Select(e => e.WorkflowTaskCompletedEventAttributes).ToList();
        Assert.All(completions, c =>
        {
            Assert.Equal(WireBehavior.Pinned, c.VersioningBehavior);
            Assert.Equal(deployment.WireVersion("v1"), c.DeploymentVersion);
            Assert.Equal(deployment.Name, c.WorkerDeploymentName);
        });
    }

    [Fact]
    public async Task A_ramp_sends_the_workflows_whose_id_hashes_into_it_to_the_ramping_version()
    {
        await using var deployment = new DeploymentHarness(fx.Client);
        await deployment.StartAsync("v1");
        await deployment.StartAsync("v2");
        await deployment.SetCurrentAsync("v1");
        await deployment.SetRampingAsync("v2", 30);

        // Fixed ids: the share is then the same in every run (and on a real server, which hashes them alike).
        var ids = Enumerable.Range(0, 200).Select(i => $"ramp-share-{i}").ToList();
        var handles = await Task.WhenAll(ids.Select(id => deployment.StartTrailAsync(id, stepsToWaitFor: 0)));
        var builds = await Task.WhenAll(handles.Select(async h => (await h.GetResultAsync())[0]));

        var expected = ids.Select(id => FarmHash.RampThreshold(id) <= 30 ? "task:v2" : "task:v1").ToArray();
        Assert.Equal(expected, builds);
        var ramped = builds.Count(b => b == "task:v2");
        Assert.InRange(ramped, 45, 75); // 30% of 200, give or take what hashing 200 ids gives
        var info = (await deployment.DescribeVersionAsync("v2")).WorkerDeploymentVersionInfo;
        Assert.Equal(Ramping, info.Status);
        Assert.Equal(30, info.RampPercentage);
    }

    [Fact]
    public async Task Setting_the_previous_version_current_again_rolls_back_without_stranding_pinned_work()
    {
        await using var deployment = new DeploymentHarness(fx.Client);
        await deployment.StartAsync("v1", routedOnly: true);
        await deployment.StartAsync("v2", routedOnly: true);
        await deployment.SetCurrentAsync("v1");
        await deployment.SetCurrentAsync("v2");
        var onV2 = await deployment.StartTrailAsync(Id("rollback-v2"), stepsToWaitFor: 1);
        await DeploymentHarness.WaitForTrailAsync(onV2, 2);

        await deployment.SetCurrentAsync("v1");
        var afterRollback = await deployment.StartTrailAsync(Id("rollback-new"), stepsToWaitFor: 0);
        await onV2.SignalAsync(wf => wf.StepAsync());

        Assert.Equal(["task:v1", "activity:v1"], await afterRollback.GetResultAsync());
        Assert.Equal(["task:v2", "activity:v2", "task:v2", "activity:v2"], await onV2.GetResultAsync());
        Assert.Equal(Current, (await deployment.DescribeVersionAsync("v1")).WorkerDeploymentVersionInfo.Status);
        var v2 = (await deployment.DescribeVersionAsync("v2")).WorkerDeploymentVersionInfo;
        Assert.True(v2.Status is Draining or Drained, $"v2 is {v2.Status}");
    }

    [Fact]
    public async Task An_auto_upgrade_workflow_moves_to_the_new_current_version_at_its_next_workflow_task()
    {
        await using var deployment = new DeploymentHarness(fx.Client);
        await deployment.StartAsync("v1", VersioningBehavior.AutoUpgrade);
        await deployment.StartAsync("v2", VersioningBehavior.AutoUpgrade);
        await deployment.SetCurrentAsync("v1");
        var handle = await deployment.StartTrailAsync(Id("upgrade"), stepsToWaitFor: 1);
        await DeploymentHarness.WaitForTrailAsync(handle, 2);

        await deployment.SetCurrentAsync("v2");
        await handle.SignalAsync(wf => wf.StepAsync());

        // v1 still has the run cached on its sticky queue: the signal's task must go to v2 all the same.
        Assert.Equal(["task:v1", "activity:v1", "task:v2", "activity:v2"], await handle.GetResultAsync());
        var info = (await deployment.ExecutionInfoAsync(handle)).VersioningInfo;
        Assert.Equal(WireBehavior.AutoUpgrade, info.Behavior);
        Assert.Equal(deployment.WireVersion("v2"), info.DeploymentVersion);
        // Nothing is pinned to v1, so it drains at once.
        await DeploymentHarness.WaitUntilAsync(async () => await deployment.DrainageAsync("v1") == VersionDrainageStatus.Drained, "v1 drained");
    }

    [Fact]
    public async Task An_auto_upgrade_workflow_moves_to_the_new_version_before_its_waiting_activity_starts_there()
    {
        await using var deployment = new DeploymentHarness(fx.Client);
        await deployment.StartAsync("v1", VersioningBehavior.AutoUpgrade, activities: false);
        await deployment.StartAsync("v2", VersioningBehavior.AutoUpgrade);
        await deployment.SetCurrentAsync("v1");
        // v1 polls no activities: the activity waits, until v2 (which does) becomes current.
        var handle = await deployment.StartTrailAsync(Id("transition"), stepsToWaitFor: 0);
        await DeploymentHarness.WaitUntilAsync(async () => (await handle.FetchHistoryAsync()).Events.Any(e => e.EventType == EventType.ActivityTaskScheduled), "the activity scheduled");

        await deployment.SetCurrentAsync("v2");

        Assert.Equal(["task:v1", "activity:v2"], await handle.GetResultAsync());
        // As on the real server, the activity does not start on v2 while the workflow is on v1: a workflow
        // task moves the workflow to v2 first.
        var events = (await handle.FetchHistoryAsync()).Events.ToList();
        var movedToV2 = events.First(e => e.WorkflowTaskCompletedEventAttributes?.DeploymentVersion?.BuildId == "v2").EventId;
        var activityStarted = events.Single(e => e.EventType == EventType.ActivityTaskStarted).EventId;
        Assert.True(movedToV2 < activityStarted, $"workflow moved to v2 at event {movedToV2}, activity started at event {activityStarted}");
    }

    [Fact]
    public async Task Without_a_current_version_unversioned_workers_get_the_work_and_versioned_pollers_only_their_pinned_runs()
    {
        await using var deployment = new DeploymentHarness(fx.Client);
        await deployment.StartAsync(null);
        await deployment.StartAsync("v1", routedOnly: true);
        await deployment.StartAsync("v2", routedOnly: true);

        // Both versions poll, but none is current yet: as on the real server, the unversioned worker runs it.
        var beforeAny = await deployment.StartTrailAsync(Id("no-current"), stepsToWaitFor: 0);
        Assert.Equal(["task:unversioned", "activity:unversioned"], await beforeAny.GetResultAsync());

        await deployment.SetCurrentAsync("v1");
        var pinned = await deployment.StartTrailAsync(Id("pinned-v1"), stepsToWaitFor: 1);
        await DeploymentHarness.WaitForTrailAsync(pinned, 2);

        await deployment.SetCurrentAsync(null);
        var afterUnset = await deployment.StartTrailAsync(Id("current-unversioned"), stepsToWaitFor: 0);
        await pinned.SignalAsync(wf => wf.StepAsync());

        Assert.Equal(["task:unversioned", "activity:unversioned"], await afterUnset.GetResultAsync());
        Assert.Equal(["task:v1", "activity:v1", "task:v1", "activity:v1"], await pinned.GetResultAsync());
        var routing = (await deployment.DescribeAsync()).WorkerDeploymentInfo.RoutingConfig;
        Assert.Null(routing.CurrentDeploymentVersion);
        Assert.Null((await deployment.ExecutionInfoAsync(beforeAny)).VersioningInfo);
    }

    [Fact]
    public async Task A_version_drains_when_its_last_pinned_workflow_closes_and_is_deleted_only_then_and_without_pollers()
    {
        await using var deployment = new DeploymentHarness(fx.Client);
        var v1 = await deployment.StartAsync("v1");
        await deployment.StartAsync("v2");
        await deployment.SetCurrentAsync("v1");
        var pinned = await deployment.StartTrailAsync(Id("drain"), stepsToWaitFor: 1);
        await DeploymentHarness.WaitForTrailAsync(pinned, 2);

        await deployment.SetCurrentAsync("v2");

        Assert.Equal(VersionDrainageStatus.Draining, await deployment.DrainageAsync("v1"));
        await AssertRefusedAsync(deployment.DeleteVersionAsync("v1"), "cannot be deleted since it is draining");
        await AssertRefusedAsync(deployment.DeleteVersionAsync("v2"), "cannot be deleted since it is current or ramping");
        await Task.Delay(600); // past the grace period: counted, and one pinned workflow is still open
        Assert.Equal(VersionDrainageStatus.Draining, await deployment.DrainageAsync("v1"));

        await pinned.SignalAsync(wf => wf.StepAsync());
        await pinned.GetResultAsync();
        await DeploymentHarness.WaitUntilAsync(async () => await deployment.DrainageAsync("v1") == VersionDrainageStatus.Drained, "v1 drained");
        var summary = (await deployment.DescribeAsync()).WorkerDeploymentInfo.VersionSummaries.Single(s => s.DeploymentVersion.BuildId == "v1");
        Assert.Equal(Drained, summary.Status);
        Assert.Equal(VersionDrainageStatus.Drained, summary.DrainageInfo.Status);

        await AssertRefusedAsync(deployment.DeleteVersionAsync("v1"), "cannot be deleted since it has active pollers");
        await v1.StopAsync();
        await deployment.DeleteVersionAsync("v1");

        Assert.Null(await deployment.TryDescribeAsync("v1"));
        Assert.Equal(["v2"], (await deployment.DescribeAsync()).WorkerDeploymentInfo.VersionSummaries.Select(s => s.DeploymentVersion.BuildId));
        await AssertRefusedAsync(
            deployment.Service.DeleteWorkerDeploymentAsync(new() { Namespace = deployment.Namespace, DeploymentName = deployment.Name }),
            "deployment has versions");
    }

    [Fact]
    public async Task A_pinned_override_at_start_sends_the_workflow_to_that_version()
    {
        await using var deployment = new DeploymentHarness(fx.Client);
        await deployment.StartAsync("v1");
        await deployment.StartAsync("v2");
        await deployment.SetCurrentAsync("v1");

        var handle = await deployment.StartTrailAsync(Id("override"), 0, new VersioningOverride.Pinned(deployment.Version("v2")));

        Assert.Equal(["task:v2", "activity:v2"], await handle.GetResultAsync());
        var info = (await deployment.ExecutionInfoAsync(handle)).VersioningInfo;
        Assert.Equal(deployment.WireVersion("v2"), info.VersioningOverride.Pinned.Version);
        var unknown = new VersioningOverride.Pinned(deployment.Version("v9"));
        await AssertRefusedAsync(deployment.StartTrailAsync(Id("override-unknown"), 0, unknown), "is not present in task queue");
    }

    internal static async Task AssertRefusedAsync(Task call, string reason)
    {
        var refused = await Assert.ThrowsAsync<RpcException>(() => call);
        Assert.Equal(RpcException.StatusCode.FailedPrecondition, refused.Code);
        Assert.Contains(reason, refused.Message, StringComparison.Ordinal);
    }
}

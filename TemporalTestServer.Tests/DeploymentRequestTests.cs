using Temporalio.Api.Enums.V1;
using Temporalio.Api.WorkflowService.V1;
using Temporalio.Exceptions;

namespace TemporalTestServer.Tests;

/// <summary>
/// The deployment RPCs with the request shapes the CLI sends (through the Go SDK: the deprecated
/// <c>version</c> string beside the build id, a conflict token read just before, an identity), and the
/// answers and refusals the real server gives them.
/// </summary>
public sealed class DeploymentRequestTests(ServerFixture fx) : IClassFixture<ServerFixture>
{
    [Fact]
    public async Task Set_current_takes_the_cli_request_and_guards_it_with_the_conflict_token()
    {
        await using var deployment = new DeploymentHarness(fx.Client);
        await deployment.StartAsync("v1");
        var read = await deployment.DescribeAsync();

        var set = await deployment.Service.SetWorkerDeploymentCurrentVersionAsync(CliSetCurrent(deployment, read.ConflictToken.ToByteArray(), "cli-alice"));

        Assert.NotEqual(read.ConflictToken, set.ConflictToken);
#pragma warning disable CS0612 // the deprecated fields the Go SDK (and so the CLI) falls back to
        Assert.Equal("__unversioned__", set.PreviousVersion);
        var after = await deployment.DescribeAsync();
        Assert.Equal($"{deployment.Name}.v1", after.WorkerDeploymentInfo.RoutingConfig.CurrentVersion);
#pragma warning restore CS0612
        Assert.Equal(deployment.WireVersion("v1"), after.WorkerDeploymentInfo.RoutingConfig.CurrentDeploymentVersion);
        Assert.Equal(set.ConflictToken, after.ConflictToken);
        Assert.Equal("cli-alice", after.WorkerDeploymentInfo.LastModifierIdentity);
        Assert.Equal(RoutingConfigUpdateState.Completed, after.WorkerDeploymentInfo.RoutingConfigUpdateState);
        // Repeating the same change succeeds with the current token, as on the server; another writer's stale token does not.
        var again = await deployment.Service.SetWorkerDeploymentCurrentVersionAsync(CliSetCurrent(deployment, read.ConflictToken.ToByteArray(), "cli-alice"));
        Assert.Equal(after.ConflictToken, again.ConflictToken);
        await VersioningTests.AssertRefusedAsync(
            deployment.Service.SetWorkerDeploymentCurrentVersionAsync(CliSetCurrent(deployment, read.ConflictToken.ToByteArray(), "cli-bob", build: null)),
            "conflict token mismatch");
    }

    [Fact]
    public async Task Ramping_to_and_back_from_the_unversioned_workers_uses_the_reserved_version_string()
    {
        await using var deployment = new DeploymentHarness(fx.Client);
        await deployment.StartAsync("v1");
        await deployment.SetCurrentAsync("v1");

        await deployment.Service.SetWorkerDeploymentRampingVersionAsync(CliSetRamping(deployment, 25));
        var ramped = (await deployment.DescribeAsync()).WorkerDeploymentInfo.RoutingConfig;
        await deployment.Service.SetWorkerDeploymentRampingVersionAsync(CliSetRamping(deployment, 0));
        var unset = (await deployment.DescribeAsync()).WorkerDeploymentInfo.RoutingConfig;

#pragma warning disable CS0612
        Assert.Equal("__unversioned__", ramped.RampingVersion);
        Assert.Equal("", unset.RampingVersion);
#pragma warning restore CS0612
        Assert.Null(ramped.RampingDeploymentVersion);
        Assert.Equal(25, ramped.RampingVersionPercentage);
        Assert.Equal(0, unset.RampingVersionPercentage);
        Assert.Equal(WorkerDeploymentVersionStatus.Current, (await deployment.DescribeVersionAsync("v1")).WorkerDeploymentVersionInfo.Status);
    }

    [Fact]
    public async Task Describe_version_and_list_answer_what_the_cli_prints()
    {
        await using var deployment = new DeploymentHarness(fx.Client);
        await deployment.StartAsync("v1");
        await deployment.SetCurrentAsync("v1");

        var version = await deployment.Service.DescribeWorkerDeploymentVersionAsync(new()
        {
            Namespace = deployment.Namespace,
            DeploymentVersion = deployment.WireVersion("v1"),
            ReportTaskQueueStats = true,
        });
        var listed = (await deployment.Service.ListWorkerDeploymentsAsync(new() { Namespace = deployment.Namespace }))
            .WorkerDeployments.Single(d => d.Name == deployment.Name);

        Assert.Equal(
            [(deployment.TaskQueue, TaskQueueType.Workflow), (deployment.TaskQueue, TaskQueueType.Activity)],
            version.VersionTaskQueues.Select(q => (q.Name, q.Type)).OrderBy(q => q.Type));
        Assert.All(version.VersionTaskQueues, q => Assert.NotNull(q.Stats));
        Assert.Equal(WorkerDeploymentVersionStatus.Current, version.WorkerDeploymentVersionInfo.Status);
        Assert.NotNull(version.WorkerDeploymentVersionInfo.CurrentSinceTime);
        Assert.Equal(deployment.WireVersion("v1"), listed.CurrentVersionSummary.DeploymentVersion);
        Assert.Equal(deployment.WireVersion("v1"), listed.LatestVersionSummary.DeploymentVersion);
        Assert.Null(listed.RampingVersionSummary);
    }

    [Fact]
    public async Task Unknown_deployments_versions_and_mismatched_names_are_refused_as_the_server_refuses_them()
    {
        await using var deployment = new DeploymentHarness(fx.Client);
        await deployment.StartAsync("v1");

        var unknown = await Assert.ThrowsAsync<RpcException>(() => deployment.Service.DescribeWorkerDeploymentAsync(
            new() { Namespace = deployment.Namespace, DeploymentName = "nobody-polls-this" }));
        var unknownBuild = await Assert.ThrowsAsync<RpcException>(() => deployment.Service.SetWorkerDeploymentCurrentVersionAsync(
            new() { Namespace = deployment.Namespace, DeploymentName = deployment.Name, BuildId = "v9" }));
#pragma warning disable CS0612
        var mismatch = await Assert.ThrowsAsync<RpcException>(() => deployment.Service.SetWorkerDeploymentCurrentVersionAsync(
            new() { Namespace = deployment.Namespace, DeploymentName = deployment.Name, Version = "other.v1" }));
#pragma warning restore CS0612
        await deployment.SetCurrentAsync("v1");

        Assert.Equal(RpcException.StatusCode.NotFound, unknown.Code);
        Assert.Contains("does your Worker Deployment have pollers?", unknown.Message, StringComparison.Ordinal);
        Assert.Equal(RpcException.StatusCode.NotFound, unknownBuild.Code);
        Assert.Contains($"build ID 'v9' not found in Worker Deployment '{deployment.Name}'", unknownBuild.Message, StringComparison.Ordinal);
        Assert.Equal(RpcException.StatusCode.InvalidArgument, mismatch.Code);
        await VersioningTests.AssertRefusedAsync(deployment.SetRampingAsync("v1", 10), "is already current");
        // Deleting what does not exist succeeds.
        await deployment.DeleteVersionAsync("v9");
        await deployment.Service.DeleteWorkerDeploymentAsync(new() { Namespace = deployment.Namespace, DeploymentName = "nobody-polls-this" });
    }

#pragma warning disable CS0612 // the CLI (through the Go SDK) still sends the deprecated version string
    private static SetWorkerDeploymentCurrentVersionRequest CliSetCurrent(DeploymentHarness deployment, byte[] token, string identity, string? build = "v1") => new()
    {
        Namespace = deployment.Namespace,
        DeploymentName = deployment.Name,
        Version = build is null ? "__unversioned__" : $"{deployment.Name}.{build}",
        BuildId = build ?? "",
        ConflictToken = Google.Protobuf.ByteString.CopyFrom(token),
        Identity = identity,
    };

    /// <summary><c>set-ramping-version --unversioned --percentage N</c> (0: <c>--delete</c>), as the Go SDK sends it.</summary>
    private static SetWorkerDeploymentRampingVersionRequest CliSetRamping(DeploymentHarness deployment, float percentage) => new()
    {
        Namespace = deployment.Namespace,
        DeploymentName = deployment.Name,
        Version = "__unversioned__",
        Percentage = percentage,
        Identity = "cli",
    };
#pragma warning restore CS0612
}

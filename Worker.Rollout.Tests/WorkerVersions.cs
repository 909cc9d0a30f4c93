using Temporalio.Api.Enums.V1;
using Temporalio.Client;

namespace Worker.Rollout.Tests;

/// <summary>
/// The Worker Deployment's routing, changed through the RPCs <c>temporal worker deployment set-current-version</c>
/// and <c>set-ramping-version</c> send (docs/rollouts.md), and what Temporal says about a version and an order.
/// </summary>
public sealed class WorkerVersions(TemporalClient client, string deploymentName)
{
    public const string Identity = "rollout-rehearsal";

    public static async Task<WorkerVersions> ConnectAsync(string address, string deploymentName) =>
        new(await TemporalClient.ConnectAsync(new(address)), deploymentName);

    /// <summary>Makes <paramref name="buildId"/> the version new workflows start on, as the CLI does: describe for the token, then set.</summary>
    public async Task SetCurrentAsync(string buildId) =>
        await client.WorkflowService.SetWorkerDeploymentCurrentVersionAsync(new()
        {
            Namespace = client.Options.Namespace,
            DeploymentName = deploymentName,
            BuildId = buildId,
            ConflictToken = await ConflictTokenAsync(),
            Identity = Identity,
        });

    /// <summary>Sends <paramref name="percentage"/> of new workflows to <paramref name="buildId"/>.</summary>
    public async Task SetRampingAsync(string buildId, float percentage) =>
        await client.WorkflowService.SetWorkerDeploymentRampingVersionAsync(new()
        {
            Namespace = client.Options.Namespace,
            DeploymentName = deploymentName,
            BuildId = buildId,
            Percentage = percentage,
            ConflictToken = await ConflictTokenAsync(),
            Identity = Identity,
        });

    /// <summary>Waits until a build's workers have polled, which registers its version (routing to it is refused before).</summary>
    public async Task WaitRegisteredAsync(string buildId, TimeSpan timeout)
    {
        var deadline = DateTime.UtcNow + timeout;
        while (true)
        {
            try
            {
                await DrainageAsync(buildId);
                return;
            }
            catch (Temporalio.Exceptions.RpcException e) when (e.Code == Temporalio.Exceptions.RpcException.StatusCode.NotFound && DateTime.UtcNow < deadline)
            {
                await Task.Delay(100);
            }
        }
    }

    /// <summary>Whether a version still has open pinned workflows (draining) or none (drained).</summary>
    public async Task<VersionDrainageStatus> DrainageAsync(string buildId) =>
        (await client.WorkflowService.DescribeWorkerDeploymentVersionAsync(new()
        {
            Namespace = client.Options.Namespace,
            DeploymentVersion = new() { DeploymentName = deploymentName, BuildId = buildId },
        })).WorkerDeploymentVersionInfo.DrainageInfo?.Status ?? VersionDrainageStatus.Unspecified;

    /// <summary>Removes a drained version whose workers are gone, as the controller does once it has scaled it down.</summary>
    public async Task DeleteVersionAsync(string buildId) =>
        await client.WorkflowService.DeleteWorkerDeploymentVersionAsync(new()
        {
            Namespace = client.Options.Namespace,
            DeploymentVersion = new() { DeploymentName = deploymentName, BuildId = buildId },
            SkipDrainage = false,
            Identity = Identity,
        });

    /// <summary>The build an order's workflow is pinned to (null before its first workflow task completed).</summary>
    public async Task<string?> PinnedBuildAsync(string orderId) =>
        (await client.WorkflowService.DescribeWorkflowExecutionAsync(new()
        {
            Namespace = client.Options.Namespace,
            Execution = new() { WorkflowId = $"order-{orderId}" },
        })).WorkflowExecutionInfo.VersioningInfo?.DeploymentVersion?.BuildId;

    private async Task<Google.Protobuf.ByteString> ConflictTokenAsync() =>
        (await client.WorkflowService.DescribeWorkerDeploymentAsync(new()
        {
            Namespace = client.Options.Namespace,
            DeploymentName = deploymentName,
        })).ConflictToken;
}

using Temporalio.Api.Enums.V1;
using Temporalio.Api.WorkflowService.V1;
using Temporalio.Client;
using Temporalio.Exceptions;
using Temporalio.Common;
using Temporalio.Worker;
using VersioningBehavior = Temporalio.Common.VersioningBehavior;

namespace TemporalTestServer.Tests;

/// <summary>
/// One Worker Deployment on one task queue of the test server: its builds run as workers (each until
/// stopped), and its routing is changed through the same RPCs the CLI uses.
/// </summary>
public sealed class DeploymentHarness(TemporalClient client) : IAsyncDisposable
{
    private readonly List<RunningWorker> workers = [];

    public string Name { get; } = $"deploy-{Guid.NewGuid():N}";

    public string TaskQueue { get; } = $"tq-{Guid.NewGuid():N}";

    public WorkflowService Service => client.WorkflowService;

    public string Namespace => client.Options.Namespace;

    public WorkerDeploymentVersion Version(string build) => new(Name, build);

    /// <summary>The version as the API messages carry it.</summary>
    public Temporalio.Api.Deployment.V1.WorkerDeploymentVersion WireVersion(string build) => new() { DeploymentName = Name, BuildId = build };

    /// <summary>
    /// Starts a worker of <paramref name="build"/> with workflows of <paramref name="behavior"/> (null: an
    /// unversioned worker), and waits until the server has registered its version. Without
    /// <paramref name="activities"/> it polls for workflow tasks only. With <paramref name="routedOnly"/>, every
    /// task reaches it through the server's routing: it keeps no sticky cache and takes no eager activities.
    /// </summary>
    public async Task<RunningWorker> StartAsync(
        string? build, VersioningBehavior behavior = VersioningBehavior.Pinned, bool activities = true, bool routedOnly = false)
    {
        var options = new TemporalWorkerOptions(TaskQueue)
        {
            DeploymentOptions = build is null ? null : new(Version(build), useWorkerVersioning: true) { DefaultVersioningBehavior = behavior },
            MaxCachedWorkflows = routedOnly ? 0 : 10_000,
            DisableEagerActivityExecution = routedOnly,
        }.AddWorkflow<BuildTrailWorkflow>();
        if (activities)
        {
            options.AddAllActivities(new BuildActivities(build ?? "unversioned"));
        }
        var worker = new RunningWorker(new TemporalWorker(client, options));
        workers.Add(worker);
        if (build is not null)
        {
            var types = activities ? 2 : 1;
            await WaitUntilAsync(async () => await TryDescribeAsync(build) is { } v
                && v.VersionTaskQueues.Count(q => q.Name == TaskQueue) == types, $"version {build} registered with its queue types");
        }
        return worker;
    }

    /// <summary>DescribeWorkflowExecution's execution info, where the run's versioning info is.</summary>
    public async Task<Temporalio.Api.Workflow.V1.WorkflowExecutionInfo> ExecutionInfoAsync(WorkflowHandle handle) =>
        (await Service.DescribeWorkflowExecutionAsync(new() { Namespace = Namespace, Execution = new() { WorkflowId = handle.Id } })).WorkflowExecutionInfo;

    public async Task<DescribeWorkerDeploymentResponse> DescribeAsync() =>
        await Service.DescribeWorkerDeploymentAsync(new() { Namespace = Namespace, DeploymentName = Name });

    public async Task<DescribeWorkerDeploymentVersionResponse?> TryDescribeAsync(string build)
    {
        try
        {
            return await DescribeVersionAsync(build);
        }
        catch (RpcException e) when (e.Code == RpcException.StatusCode.NotFound)
        {
            return null;
        }
    }

    public async Task<DescribeWorkerDeploymentVersionResponse> DescribeVersionAsync(string build) =>
        await Service.DescribeWorkerDeploymentVersionAsync(new()
        {
            Namespace = Namespace,
            DeploymentVersion = new() { DeploymentName = Name, BuildId = build },
        });

    /// <summary>As <c>temporal worker deployment set-current-version</c> does it: describe for the token, then set (null: unversioned).</summary>
    public async Task SetCurrentAsync(string? build)
    {
        var token = (await DescribeAsync()).ConflictToken;
        await Service.SetWorkerDeploymentCurrentVersionAsync(new()
        {
            Namespace = Namespace,
            DeploymentName = Name,
            BuildId = build ?? "",
            ConflictToken = token,
            Identity = "test",
        });
    }

    public async Task SetRampingAsync(string? build, float percentage)
    {
        var token = (await DescribeAsync()).ConflictToken;
        await Service.SetWorkerDeploymentRampingVersionAsync(new()
        {
            Namespace = Namespace,
            DeploymentName = Name,
            BuildId = build ?? "",
            Percentage = percentage,
            ConflictToken = token,
            Identity = "test",
        });
    }

    public async Task DeleteVersionAsync(string build) =>
        await Service.DeleteWorkerDeploymentVersionAsync(new()
        {
            Namespace = Namespace,
            DeploymentVersion = new() { DeploymentName = Name, BuildId = build },
            Identity = "test",
        });

    public async Task<VersionDrainageStatus> DrainageAsync(string build) =>
        (await DescribeVersionAsync(build)).WorkerDeploymentVersionInfo.DrainageInfo?.Status ?? VersionDrainageStatus.Unspecified;

    public async Task<WorkflowHandle<BuildTrailWorkflow, List<string>>> StartTrailAsync(string id, int stepsToWaitFor, VersioningOverride? versioningOverride = null) =>
        await client.StartWorkflowAsync((BuildTrailWorkflow wf) => wf.RunAsync(stepsToWaitFor),
            new(id, TaskQueue) { VersioningOverride = versioningOverride });

    /// <summary>Waits until the workflow has recorded <paramref name="entries"/> trail entries (its steps so far ran).</summary>
    public static async Task WaitForTrailAsync(WorkflowHandle<BuildTrailWorkflow, List<string>> handle, int entries) =>
        await WaitUntilAsync(async () => (await handle.QueryAsync(wf => wf.Trail())).Count >= entries, $"{handle.Id} to record {entries} entries");

    public static async Task WaitUntilAsync(Func<Task<bool>> condition, string what)
    {
        var deadline = DateTime.UtcNow + TimeSpan.FromSeconds(20);
        while (!await condition())
        {
            if (DateTime.UtcNow > deadline)
            {
                throw new TimeoutException($"Timed out waiting for {what}");
            }
            await Task.Delay(50);
        }
    }

    public async ValueTask DisposeAsync()
    {
        foreach (var worker in workers)
        {
            await worker.DisposeAsync();
        }
    }
}

/// <summary>A worker running in the background until stopped (gracefully: the SDK tells the server it shuts down).</summary>
public sealed class RunningWorker : IAsyncDisposable
{
    private readonly TemporalWorker worker;
    private readonly CancellationTokenSource stop = new();
    private readonly Task running;
    private bool stopped;

    public RunningWorker(TemporalWorker worker)
    {
        this.worker = worker;
        running = worker.ExecuteAsync(stop.Token);
    }

    public async Task StopAsync()
    {
        if (stopped)
        {
            return;
        }
        stopped = true;
        await stop.CancelAsync();
        try
        {
            await running;
        }
        catch (OperationCanceledException)
        {
        }
    }

    public async ValueTask DisposeAsync()
    {
        await StopAsync();
        worker.Dispose();
        stop.Dispose();
    }
}

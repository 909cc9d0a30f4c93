using Temporalio.Activities;
using Temporalio.Workflows;

namespace TemporalTestServer.Tests;

/// <summary>An activity that answers which build of the worker ran it.</summary>
public sealed class BuildActivities(string build)
{
    [Activity]
    public string Build() => build;
}

/// <summary>
/// Records which build ran each of its steps: the workflow task (the SDK's current deployment version, read
/// back from history on replay) and an activity. One step at start, one more per <c>Step</c> signal. Its
/// versioning behaviour is the worker's default, so one class serves pinned, auto-upgrade and unversioned workers.
/// </summary>
[Workflow]
public sealed class BuildTrailWorkflow
{
    private readonly List<string> trail = [];
    private int steps;

    [WorkflowRun]
    public async Task<List<string>> RunAsync(int stepsToWaitFor)
    {
        await RecordStepAsync();
        for (var step = 1; step <= stepsToWaitFor; step++)
        {
            var awaited = step;
            await Workflow.WaitConditionAsync(() => steps >= awaited);
            await RecordStepAsync();
        }
        return trail;
    }

    [WorkflowSignal]
    public Task StepAsync()
    {
        steps++;
        return Task.CompletedTask;
    }

    [WorkflowQuery]
    public List<string> Trail() => trail;

    private async Task RecordStepAsync()
    {
        // An unversioned worker has a build id too (the SDK makes one up), but no deployment.
        var version = Workflow.CurrentDeploymentVersion;
        trail.Add("task:" + (string.IsNullOrEmpty(version?.DeploymentName) ? "unversioned" : version.BuildId));
        trail.Add("activity:" + await Workflow.ExecuteActivityAsync(
            (BuildActivities a) => a.Build(), new() { StartToCloseTimeout = TimeSpan.FromSeconds(10) }));
    }
}

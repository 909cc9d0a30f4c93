using System.Diagnostics;
using Temporalio.Activities;
using Temporalio.Client;
using Temporalio.Exceptions;
using Temporalio.Workflows;

namespace TemporalTestServer.Tests;

/// <summary>
/// The server runs in its tests' process, beside their workers: when the process stands still, time passes
/// that neither the worker nor the server's clock could use, and it must not count against a worker's deadline.
/// A stall is made here as it happens in a loaded test run, by starving the thread pool; the class runs alone,
/// so that no other test stalls with it.
/// </summary>
[Collection(nameof(StallTests))]
[CollectionDefinition(nameof(StallTests), DisableParallelization = true)]
public sealed class StallTests(ServerFixture fx) : IClassFixture<ServerFixture>
{
    [Fact]
    public async Task A_stall_of_the_whole_process_does_not_time_out_an_activity_that_heartbeats_as_soon_as_it_runs_again()
    {
        var activities = new GatedActivities();
        await fx.WithWorkerAsync(o => o.AddWorkflow<GatedHeartbeatWorkflow>().AddAllActivities(activities), async tq =>
        {
            var handle = await fx.Client.StartWorkflowAsync((GatedHeartbeatWorkflow wf) => wf.RunAsync(), new($"stall-{Guid.NewGuid()}", tq));
            await activities.Started.Task.WaitAsync(TimeSpan.FromSeconds(30));

            // The attempt's heartbeat timeout is 1 s; the process stands still for 2 s, then the activity heartbeats
            // and completes at once. Before the fix the clock's first tick after the stall timed the attempt out.
            StallThreadPool(TimeSpan.FromSeconds(2));
            activities.Proceed.SetResult();

            Assert.Equal("completed", await handle.GetResultAsync());
        });
    }

    /// <summary>Occupies every thread-pool thread, and every thread the pool adds meanwhile, until <paramref name="length"/> has passed.</summary>
    private static void StallThreadPool(TimeSpan length)
    {
        var until = Stopwatch.GetTimestamp() + (long)(length.TotalSeconds * Stopwatch.Frequency);
        for (var i = 0; i < 200; i++)
        {
            ThreadPool.UnsafeQueueUserWorkItem(SleepUntil, until, preferLocal: false);
        }
        SleepUntil(until);

        static void SleepUntil(long timestamp)
        {
            while (Stopwatch.GetTimestamp() < timestamp)
            {
                Thread.Sleep(5);
            }
        }
    }
}

public sealed class GatedActivities
{
    public TaskCompletionSource Started { get; } = new(TaskCreationOptions.RunContinuationsAsynchronously);

    public TaskCompletionSource Proceed { get; } = new(TaskCreationOptions.RunContinuationsAsynchronously);

    /// <summary>Says it started, waits to be let go, heartbeats, and completes.</summary>
    [Activity]
    public async Task HeartbeatWhenLetGoAsync()
    {
        Started.TrySetResult();
        await Proceed.Task;
        ActivityExecutionContext.Current.Heartbeat();
    }
}

[Workflow]
public sealed class GatedHeartbeatWorkflow
{
    [WorkflowRun]
    public async Task<string> RunAsync()
    {
        try
        {
            await Workflow.ExecuteActivityAsync(
                (GatedActivities a) => a.HeartbeatWhenLetGoAsync(),
                new()
                {
                    StartToCloseTimeout = TimeSpan.FromSeconds(30),
                    HeartbeatTimeout = TimeSpan.FromSeconds(1),
                    RetryPolicy = new() { MaximumAttempts = 1 },
                });
            return "completed";
        }
        catch (ActivityFailureException e) when (e.InnerException is TimeoutFailureException t)
        {
            return $"timed out: {t.TimeoutType}";
        }
    }
}

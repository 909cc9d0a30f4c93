using Temporalio.Activities;
using Temporalio.Common;
using Temporalio.Exceptions;
using Temporalio.Workflows;

namespace TemporalTestServer.Tests;

public sealed class TestActivities
{
    private int failuresLeft;

    public TestActivities(int failuresBeforeSuccess = 0) => failuresLeft = failuresBeforeSuccess;

    public List<int> Attempts { get; } = [];

    [Activity]
    public string Echo(string input) => $"echo:{input}";

    [Activity]
    public string Flaky(string input)
    {
        lock (Attempts)
        {
            Attempts.Add(ActivityExecutionContext.Current.Info.Attempt);
        }
        if (Interlocked.Decrement(ref failuresLeft) >= 0)
        {
            throw new InvalidOperationException("transient failure");
        }
        return $"ok:{input}";
    }

    [Activity]
    public void Refuse() => throw new ApplicationFailureException("refused", "Refused", nonRetryable: false);

    [Activity]
    public async Task SleepAsync(TimeSpan duration) => await Task.Delay(duration, ActivityExecutionContext.Current.CancellationToken);

    /// <summary>First attempt heartbeats once then stalls; the retry returns the details it was given.</summary>
    [Activity]
    public async Task<int> HeartbeatThenStallAsync()
    {
        var context = ActivityExecutionContext.Current;
        if (context.Info.Attempt > 1)
        {
            // Without details no later attempt could succeed: say so at once rather than retry until the test times out.
            return context.Info.HeartbeatDetails.Count > 0
                ? await context.Info.HeartbeatDetailAtAsync<int>(0)
                : throw new ApplicationFailureException($"attempt {context.Info.Attempt} got no heartbeat details", "NoDetails", nonRetryable: true);
        }
        context.Heartbeat(42);
        await Task.Delay(TimeSpan.FromSeconds(30), context.CancellationToken);
        return 0;
    }

    [Activity]
    public async Task<string> HeartbeatUntilCancelledAsync()
    {
        var context = ActivityExecutionContext.Current;
        var beats = context.Info.HeartbeatDetails.Count > 0 ? await context.Info.HeartbeatDetailAtAsync<int>(0) : 0;
        try
        {
            while (true)
            {
                context.Heartbeat(++beats);
                await Task.Delay(50, context.CancellationToken);
            }
        }
        catch (OperationCanceledException)
        {
            throw;
        }
    }
}

[Workflow]
public sealed class EchoWorkflow
{
    [WorkflowRun]
    public Task<string> RunAsync(string input) =>
        Workflow.ExecuteActivityAsync((TestActivities a) => a.Echo(input), new() { StartToCloseTimeout = TimeSpan.FromSeconds(10) });
}

[Workflow]
public sealed class SignalQueryWorkflow
{
    private readonly List<string> received = [];
    private bool finish;

    [WorkflowRun]
    public async Task<string> RunAsync()
    {
        await Workflow.WaitConditionAsync(() => finish);
        return string.Join(',', received);
    }

    [WorkflowSignal]
    public Task AddAsync(string value)
    {
        received.Add(value);
        return Task.CompletedTask;
    }

    [WorkflowSignal]
    public Task FinishAsync()
    {
        finish = true;
        return Task.CompletedTask;
    }

    [WorkflowQuery]
    public int Count() => received.Count;
}

[Workflow]
public sealed class TimerWorkflow
{
    [WorkflowRun]
    public async Task<DateTime> RunAsync(TimeSpan delay)
    {
        await Workflow.DelayAsync(delay);
        return Workflow.UtcNow;
    }
}

[Workflow]
public sealed class RetryWorkflow
{
    [WorkflowRun]
    public async Task<string> RunAsync(string activity, RetryPolicy retry, TimeSpan startToClose, TimeSpan? heartbeat, TimeSpan? scheduleToClose)
    {
        var options = new ActivityOptions
        {
            StartToCloseTimeout = startToClose,
            HeartbeatTimeout = heartbeat,
            ScheduleToCloseTimeout = scheduleToClose,
            RetryPolicy = retry,
        };
        try
        {
            switch (activity)
            {
                case "Flaky":
                    return await Workflow.ExecuteActivityAsync((TestActivities a) => a.Flaky("x"), options);
                case "Refuse":
                    await Workflow.ExecuteActivityAsync((TestActivities a) => a.Refuse(), options);
                    return "refuse returned";
                default:
                    await Workflow.ExecuteActivityAsync((TestActivities a) => a.SleepAsync(TimeSpan.FromSeconds(30)), options);
                    return "sleep returned";
            }
        }
        catch (ActivityFailureException e)
        {
            return e.InnerException switch
            {
                TimeoutFailureException t => $"timeout:{t.TimeoutType}",
                ApplicationFailureException a => $"failed:{a.ErrorType}:{e.RetryState}",
                _ => $"other:{e.InnerException?.GetType().Name}",
            };
        }
    }
}

[Workflow]
public sealed class HeartbeatResumeWorkflow
{
    [WorkflowRun]
    public Task<int> RunAsync() => Workflow.ExecuteActivityAsync(
        (TestActivities a) => a.HeartbeatThenStallAsync(),
        new()
        {
            StartToCloseTimeout = TimeSpan.FromSeconds(10),
            HeartbeatTimeout = TimeSpan.FromMilliseconds(400),
            RetryPolicy = new() { InitialInterval = TimeSpan.FromMilliseconds(20) },
        });
}

[Workflow]
public sealed class CancelActivityWorkflow
{
    [WorkflowRun]
    public async Task<string> RunAsync(bool waitForActivityToStart)
    {
        using var cancel = new CancellationTokenSource();
        var activity = Workflow.ExecuteActivityAsync(
            (TestActivities a) => a.HeartbeatUntilCancelledAsync(),
            new()
            {
                StartToCloseTimeout = TimeSpan.FromMinutes(1),
                HeartbeatTimeout = TimeSpan.FromSeconds(5),
                CancellationToken = cancel.Token,
                CancellationType = ActivityCancellationType.WaitCancellationCompleted,
            });
        if (waitForActivityToStart)
        {
            await Workflow.DelayAsync(TimeSpan.FromMilliseconds(300));
        }
        cancel.Cancel();
        try
        {
            await activity;
            return "completed";
        }
        catch (ActivityFailureException e) when (e.InnerException is CanceledFailureException)
        {
            return "cancelled";
        }
    }
}

[Workflow]
public sealed class CancellableWorkflow
{
    [WorkflowRun]
    public async Task<string> RunAsync()
    {
        try
        {
            await Workflow.DelayAsync(TimeSpan.FromDays(30));
            return "slept";
        }
        catch (Exception e) when (TemporalException.IsCanceledException(e))
        {
            return "cancelled";
        }
    }
}

[Workflow]
public sealed class FailsFirstTaskWorkflow
{
    private static int runs;

    public static void Reset() => runs = 0;

    [WorkflowRun]
    public Task<int> RunAsync()
    {
        // A bug on the first attempt (not a Temporal failure) fails the workflow task; the server retries it.
        if (Interlocked.Increment(ref runs) == 1)
        {
            throw new InvalidOperationException("bug on first attempt");
        }
        return Task.FromResult(Workflow.Info.Attempt);
    }
}

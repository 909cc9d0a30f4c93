using System.Diagnostics;

namespace TemporalTestServer.Service;

/// <summary>
/// The server's clock: real time plus an offset that time skipping advances. Every 10 ms it fires due
/// timers, expires workflow and activity tasks, and re-queues activities whose retry interval ended.
/// Time skips only to durable timers, and only while nothing is runnable and some client waits for a
/// workflow result; activity retry intervals and timeouts always run in real time.
/// <para>
/// The server runs in its tests' process, beside their workers, on the same thread pool. When that process
/// stands still (thread-pool starvation, a GC pause, a starved CPU), neither the clock nor the workers'
/// calls run; afterwards the first tick would find deadlines passed that no worker had a chance to meet,
/// and time out an activity whose heartbeat or result was waiting to be read (issue 26, defect 11). So a
/// tick that comes late by more than <see cref="StallThreshold"/> moves the pending deadlines of workflow and
/// activity tasks on by the excess: time the whole process lost is not counted against a worker.
/// </para>
/// </summary>
public sealed partial class TestWorkflowService
{
    /// <summary>Ticks are due every 10 ms; one this much later means the process stood still.</summary>
    private static readonly TimeSpan StallThreshold = TimeSpan.FromMilliseconds(100);

    private readonly CancellationTokenSource stopping = new();
    private readonly Task clockLoop;
    private TimeSpan clockOffset;
    private long lastTick = Stopwatch.GetTimestamp();
    private TimeSpan stalled;

    /// <summary>Whether time skipping is on (see <see cref="TestServerOptions.TimeSkipping"/>).</summary>
    public bool TimeSkipping { get; set; }

    /// <summary>How far the server's clock is ahead of real time.</summary>
    public TimeSpan Skipped
    {
        get
        {
            lock (gate)
            {
                return clockOffset;
            }
        }
    }

    /// <summary>Moves the clock forward by hand (timers due by then fire on the next tick).</summary>
    public void Skip(TimeSpan time)
    {
        lock (gate)
        {
            clockOffset += time;
        }
    }

    private async Task RunClockAsync()
    {
        using var timer = new PeriodicTimer(TimeSpan.FromMilliseconds(10));
        try
        {
            while (await timer.WaitForNextTickAsync(stopping.Token))
            {
                lock (gate)
                {
                    try
                    {
                        Tick();
                    }
#pragma warning disable CA1031 // The clock must outlive a bad tick: if it stopped, no timer or timeout would fire again.
                    catch (Exception e)
#pragma warning restore CA1031
                    {
                        Console.Error.WriteLine($"Temporal test server: clock tick failed, continuing: {e}");
                    }
                }
            }
        }
        catch (OperationCanceledException)
        {
        }
    }

    private void Tick()
    {
        var sinceLastTick = Stopwatch.GetElapsedTime(lastTick);
        lastTick = Stopwatch.GetTimestamp();
        if (sinceLastTick > StallThreshold)
        {
            ExcuseStall(sinceLastTick - StallThreshold);
        }
        if (TimeSkipping && resultWaiters > 0 && !running.Any(IsBusy))
        {
            var next = running.SelectMany(r => r.Timers.Values).Select(t => (DateTime?)t.FireAt).Min();
            if (next is { } fireAt && fireAt > Now)
            {
                clockOffset += fireAt - Now;
            }
        }
        var now = Now;
        CheckDrainage(now);
        foreach (var run in running.ToList())
        {
            if (run.WorkflowTask is { Started: true } task && task.Deadline <= now)
            {
                TimeOutWorkflowTask(run, task);
            }
            else if (run.WorkflowTask is { Started: false, Sticky: true } sticky && sticky.StickyDeadline <= now)
            {
                TimeOutStickyWorkflowTask(run, sticky);
            }
            if (run.WorkflowTask is null && run.WorkflowTaskRetryAt <= now)
            {
                ScheduleWorkflowTask(run);
            }
            foreach (var activity in run.Activities.Values.ToList())
            {
                CheckActivity(run, activity, now);
            }
            foreach (var timer in run.Timers.Values.Where(t => t.FireAt <= now).OrderBy(t => t.FireAt).ToList())
            {
                run.Timers.Remove(timer.TimerId);
                AppendExternal(run, () => Append(run, EventType.TimerFired, e => e.TimerFiredEventAttributes = new()
                {
                    TimerId = timer.TimerId,
                    StartedEventId = timer.StartedEventId,
                }));
            }
        }
    }

    /// <summary>Moves every pending worker deadline on by <paramref name="stall"/>; durable timers and retry intervals keep theirs.</summary>
    private void ExcuseStall(TimeSpan stall)
    {
        stalled += stall;
        foreach (var run in running)
        {
            if (run.WorkflowTask is { } task)
            {
                task.Deadline += stall;
                task.StickyDeadline += stall;
            }
            foreach (var activity in run.Activities.Values)
            {
                activity.StartToCloseDeadline += stall;
                activity.HeartbeatDeadline += stall;
                activity.ScheduleToCloseDeadline += stall;
            }
        }
    }

    /// <summary>Something can happen without time passing: a workflow task, an activity, a query.</summary>
    private static bool IsBusy(WorkflowRun run) =>
        run.WorkflowTask is not null || run.WorkflowTaskRetryAt is not null || run.Activities.Count > 0
        || run.Buffered.Count > 0 || run.PendingQueries.Count > 0;
}

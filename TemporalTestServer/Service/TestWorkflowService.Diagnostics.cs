using System.Diagnostics;
using System.Globalization;
using System.Text;

namespace TemporalTestServer.Service;

/// <summary>
/// What the server holds right now, as text: for a test that waited too long to say what it was waiting
/// for (the clock, each open run's workflow task, activities and timers, and each queue's tasks and polls).
/// </summary>
public sealed partial class TestWorkflowService
{
    /// <summary>Polls waiting on the workflow and activity queues named <paramref name="taskQueue"/>, for a test that must act while a worker polls.</summary>
    public int PendingPolls(string taskQueue, string ns = "default")
    {
        lock (gate)
        {
            return (workflowQueues.TryGetValue((ns, taskQueue), out var workflows) ? workflows.WaitingPolls : 0)
                + (activityQueues.TryGetValue((ns, taskQueue), out var activities) ? activities.WaitingPolls : 0);
        }
    }

    /// <summary>The clock, every open run (its workflow task, activities, timers) and every queue where tasks or polls wait.</summary>
    public string DescribeState()
    {
        lock (gate)
        {
            var text = new StringBuilder();
            var now = Now;
            text.AppendLine(CultureInfo.InvariantCulture,
                $"clock: now {now:O} (skipped {clockOffset}), last tick {Stopwatch.GetElapsedTime(lastTick).TotalMilliseconds:F0} ms ago, loop {clockLoop.Status}, stalls excused {stalled.TotalMilliseconds:F0} ms, result waiters {resultWaiters}");
            foreach (var run in running)
            {
                text.AppendLine(CultureInfo.InvariantCulture,
                    $"run {run.Namespace}/{run.WorkflowId} on {run.TaskQueue}: {run.Events.Count} events (last {run.Events[^1].EventType}), buffered {run.Buffered.Count}, sticky {run.StickyQueue ?? "-"}, queries {run.PendingQueries.Count}");
                if (run.WorkflowTask is { } task)
                {
                    text.AppendLine(CultureInfo.InvariantCulture,
                        $"  workflow task {task.ScheduledEventId} attempt {task.Attempt}: {(task.Started ? $"started, due in {Ms(task.Deadline - now)}" : task.Sticky ? $"on the sticky queue, due in {Ms(task.StickyDeadline - now)}" : "queued")}");
                }
                if (run.WorkflowTaskRetryAt is { } retryAt)
                {
                    text.AppendLine(CultureInfo.InvariantCulture, $"  workflow task retry in {Ms(retryAt - now)}");
                }
                foreach (var a in run.Activities.Values)
                {
                    text.AppendLine(CultureInfo.InvariantCulture,
                        $"  activity {a.ScheduledEventId} {a.Attributes.ActivityType.Name} attempt {a.Attempt} {a.Phase}: start-to-close {Due(a.StartToCloseDeadline)}, heartbeat {Due(a.HeartbeatDeadline)}, schedule-to-close {Due(a.ScheduleToCloseDeadline)}, retry {Due(a.RetryAt)}, heartbeat details {(a.HeartbeatDetails is null ? "none" : "recorded")}, last failure: {a.LastFailure?.Message ?? "-"}");
                }
                foreach (var t in run.Timers.Values)
                {
                    text.AppendLine(CultureInfo.InvariantCulture, $"  timer {t.TimerId} fires in {Ms(t.FireAt - now)}");
                }
            }
            Queues("workflow", workflowQueues, item => item switch
            {
                WorkflowRun r => $"task of {r.WorkflowId}",
                StickyOffer o => $"sticky task of {o.Run.WorkflowId}",
                QueryState q => $"query of {q.Run.WorkflowId}",
                _ => item.ToString() ?? "",
            });
            Queues("activity", activityQueues, task => $"activity {task.ScheduledEventId} of {task.Run.WorkflowId} attempt {task.Attempt}");
            return text.ToString();

            void Queues<T>(string kind, Dictionary<(string, string), TaskDispatcher<T>> queues, Func<T, string> name) where T : class
            {
                foreach (var ((ns, queueName), queue) in queues.Where(q => !q.Value.Idle))
                {
                    text.AppendLine(CultureInfo.InvariantCulture, $"{kind} queue {ns}/{queueName}: {queue.Describe(name)}");
                }
            }

            string Due(DateTime? at) => at is { } t ? $"in {Ms(t - now)}" : "-";
        }
    }

    private static string Ms(TimeSpan span) => string.Create(CultureInfo.InvariantCulture, $"{span.TotalMilliseconds:F0} ms");
}

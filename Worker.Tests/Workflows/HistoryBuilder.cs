using Google.Protobuf.WellKnownTypes;
using Temporalio.Api.Common.V1;
using Temporalio.Api.Enums.V1;
using Temporalio.Api.Failure.V1;
using Temporalio.Api.History.V1;
using Temporalio.Api.Sdk.V1;
using Temporalio.Api.TaskQueue.V1;
using Temporalio.Common;
using Temporalio.Converters;

namespace Worker.Tests.Workflows;

/// <summary>
/// Builds a workflow history event by event, with the attributes the Temporal server writes, so that
/// <c>WorkflowReplayer</c> can check the workflow's command sequence against it offline. The first
/// workflow-task-completed event carries <c>coreUsedFlags: [1]</c>; without it replay does not compare
/// activity types, and a renamed or reordered activity would go unnoticed.
/// </summary>
public sealed class HistoryBuilder
{
    private const string TaskQueueName = "orders";
    private readonly History history = new();
    private readonly string workflowId;
    private DateTime clock = new(2026, 1, 1, 0, 0, 0, DateTimeKind.Utc);
    private long lastWorkflowTaskCompleted;
    private int activitySeq;
    private int timerSeq;

    public HistoryBuilder(string workflowType, string workflowId, params object?[] input)
    {
        this.workflowId = workflowId;
        Add(EventType.WorkflowExecutionStarted, e => e.WorkflowExecutionStartedEventAttributes = new()
        {
            WorkflowType = new WorkflowType { Name = workflowType },
            TaskQueue = new TaskQueue { Name = TaskQueueName, Kind = TaskQueueKind.Normal },
            Input = Payloads(input),
            WorkflowTaskTimeout = Duration.FromTimeSpan(TimeSpan.FromSeconds(10)),
            OriginalExecutionRunId = RunId,
            FirstExecutionRunId = RunId,
            Attempt = 1,
            Identity = "test",
        });
        WorkflowTask();
    }

    public static string RunId => "0f0e0d0c-0000-4000-8000-000000000001";

    /// <summary>Advances the clock (events carry timestamps; timers fire in history time).</summary>
    public HistoryBuilder Elapse(TimeSpan time)
    {
        clock += time;
        return this;
    }

    /// <summary>A workflow task: scheduled, started, completed.</summary>
    public HistoryBuilder WorkflowTask()
    {
        var scheduled = Add(EventType.WorkflowTaskScheduled, e => e.WorkflowTaskScheduledEventAttributes = new()
        {
            TaskQueue = new TaskQueue { Name = TaskQueueName, Kind = TaskQueueKind.Normal },
            StartToCloseTimeout = Duration.FromTimeSpan(TimeSpan.FromSeconds(10)),
            Attempt = 1,
        });
        var started = Add(EventType.WorkflowTaskStarted, e => e.WorkflowTaskStartedEventAttributes = new()
        {
            ScheduledEventId = scheduled,
            Identity = "test-worker",
            RequestId = Guid.NewGuid().ToString(),
        });
        var first = lastWorkflowTaskCompleted == 0;
        lastWorkflowTaskCompleted = Add(EventType.WorkflowTaskCompleted, e => e.WorkflowTaskCompletedEventAttributes = new()
        {
            ScheduledEventId = scheduled,
            StartedEventId = started,
            Identity = "test-worker",
            SdkMetadata = first ? new WorkflowTaskCompletedMetadata { CoreUsedFlags = { 1 } } : null,
        });
        return this;
    }

    /// <summary>An activity scheduled by the last workflow task; returns its scheduled event id.</summary>
    public long ScheduleActivity(string activityType)
    {
        var id = (++activitySeq).ToString(System.Globalization.CultureInfo.InvariantCulture);
        return Add(EventType.ActivityTaskScheduled, e => e.ActivityTaskScheduledEventAttributes = new()
        {
            ActivityId = id,
            ActivityType = new ActivityType { Name = activityType },
            TaskQueue = new TaskQueue { Name = TaskQueueName, Kind = TaskQueueKind.Normal },
            Input = new Payloads(),
            StartToCloseTimeout = Duration.FromTimeSpan(TimeSpan.FromSeconds(30)),
            ScheduleToCloseTimeout = Duration.FromTimeSpan(TimeSpan.FromDays(3650)),
            WorkflowTaskCompletedEventId = lastWorkflowTaskCompleted,
        });
    }

    /// <summary>Activity started then completed with <paramref name="result"/>, followed by a workflow task.</summary>
    public HistoryBuilder CompleteActivity(long scheduled, object? result = null)
    {
        var started = StartActivity(scheduled);
        Add(EventType.ActivityTaskCompleted, e => e.ActivityTaskCompletedEventAttributes = new()
        {
            ScheduledEventId = scheduled,
            StartedEventId = started,
            Result = result is null ? null : Payloads(result),
            Identity = "test-worker",
        });
        return WorkflowTask();
    }

    /// <summary>Schedules and completes an activity in one go (the common case).</summary>
    public HistoryBuilder Activity(string activityType, object? result = null) =>
        CompleteActivity(ScheduleActivity(activityType), result);

    /// <summary>
    /// Activity failed with an application error, followed by a workflow task: a non-retryable refusal, or
    /// (<paramref name="nonRetryable"/> false) the last attempt's error once the retries ran out.
    /// </summary>
    public HistoryBuilder FailActivity(string activityType, string errorType, string message, bool nonRetryable = true)
    {
        var scheduled = ScheduleActivity(activityType);
        var started = StartActivity(scheduled);
        Add(EventType.ActivityTaskFailed, e => e.ActivityTaskFailedEventAttributes = new()
        {
            ScheduledEventId = scheduled,
            StartedEventId = started,
            RetryState = nonRetryable ? RetryState.NonRetryableFailure : RetryState.MaximumAttemptsReached,
            Identity = "test-worker",
            Failure = new Failure
            {
                Message = message,
                ApplicationFailureInfo = new ApplicationFailureInfo { Type = errorType, NonRetryable = nonRetryable },
            },
        });
        return WorkflowTask();
    }

    /// <summary>Started event of an activity; returns its id.</summary>
    public long StartActivity(long scheduled) =>
        Add(EventType.ActivityTaskStarted, e => e.ActivityTaskStartedEventAttributes = new()
        {
            ScheduledEventId = scheduled,
            Attempt = 1,
            Identity = "test-worker",
            RequestId = Guid.NewGuid().ToString(),
        });

    /// <summary>The workflow asked to cancel the activity (command of the last workflow task).</summary>
    public long RequestCancelActivity(long scheduled) =>
        Add(EventType.ActivityTaskCancelRequested, e => e.ActivityTaskCancelRequestedEventAttributes = new()
        {
            ScheduledEventId = scheduled,
            WorkflowTaskCompletedEventId = lastWorkflowTaskCompleted,
        });

    /// <summary>The activity acknowledged cancellation, followed by a workflow task.</summary>
    public HistoryBuilder ActivityCanceled(long scheduled, long started, long cancelRequested)
    {
        Add(EventType.ActivityTaskCanceled, e => e.ActivityTaskCanceledEventAttributes = new()
        {
            ScheduledEventId = scheduled,
            StartedEventId = started,
            LatestCancelRequestedEventId = cancelRequested,
            Identity = "test-worker",
            Details = new Payloads(),
        });
        return WorkflowTask();
    }

    /// <summary>A timer started by the last workflow task; returns its started event id.</summary>
    public (string TimerId, long Started) StartTimer(TimeSpan duration)
    {
        var id = (++timerSeq).ToString(System.Globalization.CultureInfo.InvariantCulture);
        var started = Add(EventType.TimerStarted, e => e.TimerStartedEventAttributes = new()
        {
            TimerId = id,
            StartToFireTimeout = Duration.FromTimeSpan(duration),
            WorkflowTaskCompletedEventId = lastWorkflowTaskCompleted,
        });
        return (id, started);
    }

    /// <summary>The timer fired (after advancing the clock), followed by a workflow task.</summary>
    public HistoryBuilder FireTimer((string TimerId, long Started) timer, TimeSpan duration)
    {
        clock += duration;
        Add(EventType.TimerFired, e => e.TimerFiredEventAttributes = new() { TimerId = timer.TimerId, StartedEventId = timer.Started });
        return WorkflowTask();
    }

    /// <summary>The workflow cancelled a timer it had started (command of the last workflow task).</summary>
    public HistoryBuilder CancelTimer((string TimerId, long Started) timer)
    {
        Add(EventType.TimerCanceled, e => e.TimerCanceledEventAttributes = new()
        {
            TimerId = timer.TimerId,
            StartedEventId = timer.Started,
            WorkflowTaskCompletedEventId = lastWorkflowTaskCompleted,
            Identity = "test-worker",
        });
        return this;
    }

    /// <summary>A signal without arguments, followed by a workflow task.</summary>
    public HistoryBuilder Signal(string name)
    {
        Add(EventType.WorkflowExecutionSignaled, e => e.WorkflowExecutionSignaledEventAttributes = new()
        {
            SignalName = name,
            Input = new Payloads(),
            Identity = "test-client",
        });
        return WorkflowTask();
    }

    /// <summary>
    /// The workflow called <c>Workflow.Patched(id)</c> in the last workflow task. (Histories from a server also
    /// upsert the <c>TemporalChangeVersion</c> search attribute; the SDK does so only under a core flag these
    /// built histories do not set.)
    /// </summary>
    public HistoryBuilder Patch(string patchId)
    {
        Add(EventType.MarkerRecorded, e => e.MarkerRecordedEventAttributes = new()
        {
            MarkerName = "core_patch",
            Details = { ["patch-data"] = Payloads(new Dictionary<string, object> { ["id"] = patchId, ["deprecated"] = false }) },
            WorkflowTaskCompletedEventId = lastWorkflowTaskCompleted,
        });
        return this;
    }

    /// <summary>A workflow cancel request (Temporal UI, CLI, client), followed by a workflow task.</summary>
    public HistoryBuilder CancelWorkflow()
    {
        Add(EventType.WorkflowExecutionCancelRequested, e => e.WorkflowExecutionCancelRequestedEventAttributes = new()
        {
            Cause = "test",
            Identity = "test-client",
        });
        return WorkflowTask();
    }

    /// <summary>Closes the history: a replay of a history without a close event proves nothing.</summary>
    public WorkflowHistory Complete(object? result)
    {
        Add(EventType.WorkflowExecutionCompleted, e => e.WorkflowExecutionCompletedEventAttributes = new()
        {
            Result = Payloads(result),
            WorkflowTaskCompletedEventId = lastWorkflowTaskCompleted,
        });
        return new WorkflowHistory(workflowId, history.Events.ToList());
    }

    private long Add(EventType type, Action<HistoryEvent> attributes)
    {
        clock += TimeSpan.FromMilliseconds(10);
        var e = new HistoryEvent
        {
            EventId = history.Events.Count + 1,
            EventTime = Timestamp.FromDateTime(clock),
            EventType = type,
        };
        attributes(e);
        history.Events.Add(e);
        return e.EventId;
    }

    private static Payloads Payloads(params object?[] values)
    {
        var payloads = new Payloads();
        payloads.Payloads_.AddRange(values.Select(v => DataConverter.Default.PayloadConverter.ToPayload(v)));
        return payloads;
    }
}

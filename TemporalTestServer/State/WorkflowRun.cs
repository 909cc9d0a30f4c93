using Temporalio.Api.Query.V1;
using Temporalio.Api.Workflow.V1;

namespace TemporalTestServer.State;

/// <summary>One run of a workflow: its history and everything pending on it. Guarded by the service lock.</summary>
public sealed class WorkflowRun
{
    public required string Namespace { get; init; }
    public required string WorkflowId { get; init; }
    public required string RunId { get; init; }
    public required string WorkflowType { get; init; }
    public required string TaskQueue { get; init; }
    public required string? StartRequestId { get; init; }
    public required TimeSpan WorkflowTaskTimeout { get; init; }
    public required DateTime StartTime { get; init; }

    public List<HistoryEvent> Events { get; } = [];

    /// <summary>
    /// Events that arrived while a workflow task was running. As on the real server they are written
    /// after that task completes, never between its started and completed events.
    /// </summary>
    public List<Action> Buffered { get; } = [];

    public WorkflowExecutionStatus Status { get; set; } = WorkflowExecutionStatus.Running;
    public DateTime? CloseTime { get; set; }
    public bool IsRunning => Status == WorkflowExecutionStatus.Running;

    public WorkflowTaskState? WorkflowTask { get; set; }
    public int WorkflowTaskAttempt { get; set; } = 1;
    /// <summary>After a failed workflow task, when the retry is scheduled.</summary>
    public DateTime? WorkflowTaskRetryAt { get; set; }
    public long PreviousStartedEventId { get; set; }

    /// <summary>The worker's sticky queue: its next workflow tasks go there, with only the new events.</summary>
    public string? StickyQueue { get; set; }
    public TimeSpan StickyScheduleToStart { get; set; }

    /// <summary>What the worker that completed the last workflow task reported: its behaviour and, if versioned, its version.</summary>
    public VersioningBehavior Behavior { get; set; }
    public VersionKey? Version { get; set; }
    public string WorkerDeploymentName { get; set; } = "";

    /// <summary>The version of the worker that completed the last workflow task, as it polls (its sticky queue too).</summary>
    public VersionKey? LastWorkerVersion { get; set; }

    /// <summary>Given at start: takes precedence over what workers report.</summary>
    public VersioningOverride? Override { get; init; }

    /// <summary>
    /// An unpinned run on its way to another version (or to the unversioned workers): set when a workflow task
    /// or an activity of it starts elsewhere than its version. Its activities wait until a workflow task
    /// completes there, as on the real server, so that a workflow never runs on two versions at once.
    /// </summary>
    public VersionTransition? Transition { get; set; }

    public VersioningBehavior EffectiveBehavior => Override switch
    {
        { OverrideCase: VersioningOverride.OverrideOneofCase.Pinned } => VersioningBehavior.Pinned,
        { OverrideCase: VersioningOverride.OverrideOneofCase.AutoUpgrade } => VersioningBehavior.AutoUpgrade,
#pragma warning disable CS0612 // the deprecated form of an override, which older clients send
        { Behavior: not VersioningBehavior.Unspecified and var behavior } => behavior,
#pragma warning restore CS0612
        _ => Behavior,
    };

    public VersionKey? EffectiveVersion => OverridePinnedVersion(Override) ?? Version;

    public bool IsPinned => EffectiveBehavior == VersioningBehavior.Pinned && EffectiveVersion is not null;

    public static VersionKey? OverridePinnedVersion(VersioningOverride? o) => o switch
    {
        { OverrideCase: VersioningOverride.OverrideOneofCase.Pinned } => VersionKey.From(o.Pinned.Version),
#pragma warning disable CS0612
        { Behavior: VersioningBehavior.Pinned, PinnedVersion.Length: > 0 } => VersionKey.Parse(o.PinnedVersion),
#pragma warning restore CS0612
        _ => null,
    };

    public Dictionary<long, ActivityState> Activities { get; } = [];
    public Dictionary<string, TimerState> Timers { get; } = new(StringComparer.Ordinal);
    public List<QueryState> PendingQueries { get; } = [];

    /// <summary>Completed when the run closes: long polls for the close event wait on it.</summary>
    public TaskCompletionSource Closed { get; } = new(TaskCreationOptions.RunContinuationsAsynchronously);

    public HistoryEvent? CloseEvent => IsRunning ? null : Events[^1];
}

/// <summary>Where a run in transition is going; <paramref name="To"/> null: to the unversioned workers.</summary>
public sealed record VersionTransition(VersionKey? To);

/// <summary>The run's current workflow task (scheduled, then started by a poller).</summary>
public sealed class WorkflowTaskState
{
    public required long ScheduledEventId { get; init; }
    public required int Attempt { get; init; }

    /// <summary>Offered on the sticky queue; moved to the normal queue if not picked up in time.</summary>
    public bool Sticky { get; set; }
    public DateTime StickyDeadline { get; set; }
    public long StartedEventId { get; set; }
    public bool Started => StartedEventId != 0;
    public DateTime Deadline { get; set; }
}

public enum ActivityPhase
{
    /// <summary>In the task queue, waiting for a poller.</summary>
    Queued,

    /// <summary>Handed to a worker; deadlines run.</summary>
    Running,

    /// <summary>Failed and waiting for its retry interval.</summary>
    Backoff,
}

/// <summary>A scheduled activity until it closes.</summary>
public sealed class ActivityState
{
    public required long ScheduledEventId { get; init; }
    public required ActivityTaskScheduledEventAttributes Attributes { get; init; }
    public required DateTime FirstScheduledTime { get; init; }
    public DateTime AttemptScheduledTime { get; set; }
    public int Attempt { get; set; } = 1;
    public ActivityPhase Phase { get; set; } = ActivityPhase.Queued;
    public DateTime StartedTime { get; set; }
    public string Identity { get; set; } = "";
    public DateTime? StartToCloseDeadline { get; set; }
    public DateTime? HeartbeatDeadline { get; set; }
    public DateTime? ScheduleToCloseDeadline { get; set; }
    public DateTime? RetryAt { get; set; }
    public Payloads? HeartbeatDetails { get; set; }
    public Failure? LastFailure { get; set; }
    public long CancelRequestedEventId { get; set; }
    public bool CancelRequested => CancelRequestedEventId != 0;
}

/// <summary>A started durable timer.</summary>
public sealed record TimerState(string TimerId, long StartedEventId, DateTime FireAt);

/// <summary>A query waiting to be answered by a worker (delivered as a legacy query task).</summary>
public sealed class QueryState
{
    public required string Id { get; init; }
    public required WorkflowRun Run { get; init; }
    public required WorkflowQuery Query { get; init; }
    public bool Dispatched { get; set; }
    public TaskCompletionSource<RespondQueryTaskCompletedRequest> Answer { get; } = new(TaskCreationOptions.RunContinuationsAsynchronously);
}

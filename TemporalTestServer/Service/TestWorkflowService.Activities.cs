namespace TemporalTestServer.Service;

/// <summary>
/// Activity tasks: delivery, heartbeats (with cancel-requested), completion, failure with the retry policy,
/// cancellation, and the start-to-close, heartbeat and schedule-to-close timeouts. As on the real server,
/// an activity's started event is written only when it closes, carrying the final attempt.
/// </summary>
public sealed partial class TestWorkflowService
{
    private void MapActivityTasks(GrpcEndpoint endpoint)
    {
        endpoint.Map<PollActivityTaskQueueRequest>(Service + "PollActivityTaskQueue", (r, context) =>
        {
            var worker = WorkerKey(r.WorkerInstanceKey, r.Identity);
            TaskDispatcher<ActivityTask> queue;
            VersionKey? version;
            lock (gate)
            {
                RequireNamespace(r.Namespace);
                version = RegisterPoller(r.Namespace, r.TaskQueue, TaskQueueType.Activity, r.DeploymentOptions, worker);
                queue = ActivityQueue(r.Namespace, r.TaskQueue.Name);
            }
            return LongPollAsync(queue, r.Identity, worker, version, activityRoute, new PollActivityTaskQueueResponse(), context);
        });
        Map<RecordActivityTaskHeartbeatRequest>(endpoint, "RecordActivityTaskHeartbeat", r =>
        {
            var (_, activity) = FindRunningActivity(r.TaskToken);
            activity.HeartbeatDetails = r.Details;
            if (activity.Attributes.HeartbeatTimeout.ToTimeSpan() is { Ticks: > 0 } heartbeat)
            {
                activity.HeartbeatDeadline = Now + heartbeat;
            }
            return new RecordActivityTaskHeartbeatResponse { CancelRequested = activity.CancelRequested };
        });
        Map<RespondActivityTaskCompletedRequest>(endpoint, "RespondActivityTaskCompleted", r =>
        {
            var (run, activity) = FindRunningActivity(r.TaskToken);
            CloseActivity(run, activity, r.Identity, (e, started) =>
            {
                e.EventType = EventType.ActivityTaskCompleted;
                e.ActivityTaskCompletedEventAttributes = new()
                {
                    ScheduledEventId = activity.ScheduledEventId,
                    StartedEventId = started,
                    Result = r.Result,
                    Identity = r.Identity,
                };
            });
            return new RespondActivityTaskCompletedResponse();
        });
        Map<RespondActivityTaskFailedRequest>(endpoint, "RespondActivityTaskFailed", r =>
        {
            var (run, activity) = FindRunningActivity(r.TaskToken);
            if (r.LastHeartbeatDetails is not null)
            {
                activity.HeartbeatDetails = r.LastHeartbeatDetails;
            }
            FailAttempt(run, activity, r.Failure, r.Identity);
            return new RespondActivityTaskFailedResponse();
        });
        Map<RespondActivityTaskCanceledRequest>(endpoint, "RespondActivityTaskCanceled", r =>
        {
            var (run, activity) = FindRunningActivity(r.TaskToken);
            CloseActivity(run, activity, r.Identity, (e, started) => Canceled(e, activity, started, r.Details, r.Identity));
            return new RespondActivityTaskCanceledResponse();
        });
    }

    /// <summary>
    /// Schedules an activity. Asked for eager execution on the workflow's own task queue, it is started at
    /// once for the worker that completed the workflow task and returned in that answer, saving a poll
    /// (what the real server does when it can, whatever the worker's version).
    /// </summary>
    private PollActivityTaskQueueResponse? ScheduleActivity(
        WorkflowRun run, ScheduleActivityTaskCommandAttributes command, long completed, string identity, VersionKey? version)
    {
        // The server's defaults: start-to-close falls back to schedule-to-close, the retry policy to 1 s x2 up to 100 s.
        var startToClose = command.StartToCloseTimeout?.ToTimeSpan() is { Ticks: > 0 } s ? s
            : command.ScheduleToCloseTimeout?.ToTimeSpan() ?? TimeSpan.Zero;
        if (startToClose <= TimeSpan.Zero)
        {
            throw new GrpcStatusException(StatusCode.InvalidArgument, "An activity needs a start-to-close or schedule-to-close timeout.");
        }
        var retry = command.RetryPolicy?.Clone() ?? new RetryPolicy();
        if (retry.InitialInterval is null || retry.InitialInterval.ToTimeSpan() <= TimeSpan.Zero)
        {
            retry.InitialInterval = Duration.FromTimeSpan(TimeSpan.FromSeconds(1));
        }
        if (retry.BackoffCoefficient < 1)
        {
            retry.BackoffCoefficient = 2;
        }
        if (retry.MaximumInterval is null || retry.MaximumInterval.ToTimeSpan() <= TimeSpan.Zero)
        {
            retry.MaximumInterval = Duration.FromTimeSpan(retry.InitialInterval.ToTimeSpan() * 100);
        }
        var attributes = new ActivityTaskScheduledEventAttributes
        {
            ActivityId = command.ActivityId,
            ActivityType = command.ActivityType,
            TaskQueue = string.IsNullOrEmpty(command.TaskQueue?.Name) ? new() { Name = run.TaskQueue } : command.TaskQueue,
            Header = command.Header,
            Input = command.Input,
            ScheduleToCloseTimeout = command.ScheduleToCloseTimeout,
            ScheduleToStartTimeout = command.ScheduleToStartTimeout,
            StartToCloseTimeout = Duration.FromTimeSpan(startToClose),
            HeartbeatTimeout = command.HeartbeatTimeout,
            RetryPolicy = retry,
            WorkflowTaskCompletedEventId = completed,
        };
        var scheduled = Append(run, EventType.ActivityTaskScheduled, e => e.ActivityTaskScheduledEventAttributes = attributes);
        var scheduleToClose = command.ScheduleToCloseTimeout?.ToTimeSpan() ?? TimeSpan.Zero;
        var activity = new ActivityState
        {
            ScheduledEventId = scheduled.EventId,
            Attributes = attributes,
            FirstScheduledTime = Now,
            AttemptScheduledTime = Now,
            ScheduleToCloseDeadline = scheduleToClose > TimeSpan.Zero ? Now + scheduleToClose : null,
        };
        run.Activities[activity.ScheduledEventId] = activity;
        if (command.RequestEagerExecution && attributes.TaskQueue.Name == run.TaskQueue)
        {
            var worker = new TaskDispatcher<ActivityTask>.Poller(identity, identity, version, new());
            return StartActivity(new ActivityTask(run, activity.ScheduledEventId, activity.Attempt), worker);
        }
        Enqueue(run, activity);
        return null;
    }

    private void Enqueue(WorkflowRun run, ActivityState activity)
    {
        activity.Phase = ActivityPhase.Queued;
        activity.AttemptScheduledTime = Now;
        ActivityQueue(run.Namespace, activity.Attributes.TaskQueue.Name)
            .Offer(new ActivityTask(run, activity.ScheduledEventId, activity.Attempt), activityRoute);
    }

    private PollActivityTaskQueueResponse? StartActivity(ActivityTask task, TaskDispatcher<ActivityTask>.Poller poller)
    {
        if (!task.Run.Activities.TryGetValue(task.ScheduledEventId, out var activity)
            || activity.Phase != ActivityPhase.Queued || activity.Attempt != task.Attempt
            || !MayStartActivity(task.Run, poller.Version))
        {
            return null; // stale, or held while its run moves to another version (queued again after)
        }
        var a = activity.Attributes;
        activity.Phase = ActivityPhase.Running;
        activity.Identity = poller.Identity;
        activity.StartedTime = Now;
        activity.StartToCloseDeadline = Now + a.StartToCloseTimeout.ToTimeSpan();
        activity.HeartbeatDeadline = a.HeartbeatTimeout?.ToTimeSpan() is { Ticks: > 0 } h ? Now + h : null;
        var run = task.Run;
        return new PollActivityTaskQueueResponse
        {
            TaskToken = Token("act", run.Namespace, run.WorkflowId, run.RunId, activity.ScheduledEventId, activity.Attempt),
            WorkflowNamespace = run.Namespace,
            WorkflowType = new WorkflowType { Name = run.WorkflowType },
            WorkflowExecution = new WorkflowExecution { WorkflowId = run.WorkflowId, RunId = run.RunId },
            ActivityType = a.ActivityType,
            ActivityId = a.ActivityId,
            Header = a.Header,
            Input = a.Input,
            HeartbeatDetails = activity.HeartbeatDetails,
            ScheduledTime = Timestamp.FromDateTime(activity.FirstScheduledTime),
            CurrentAttemptScheduledTime = Timestamp.FromDateTime(activity.AttemptScheduledTime),
            StartedTime = Timestamp.FromDateTime(activity.StartedTime),
            Attempt = activity.Attempt,
            ScheduleToCloseTimeout = a.ScheduleToCloseTimeout,
            StartToCloseTimeout = a.StartToCloseTimeout,
            HeartbeatTimeout = a.HeartbeatTimeout,
            RetryPolicy = a.RetryPolicy,
        };
    }

    private (WorkflowRun Run, ActivityState Activity) FindRunningActivity(ByteString token)
    {
        var parts = ParseToken(token, "act");
        var run = FindRun(parts[1], parts[2], parts[3]);
        var scheduled = long.Parse(parts[4], System.Globalization.CultureInfo.InvariantCulture);
        var attempt = int.Parse(parts[5], System.Globalization.CultureInfo.InvariantCulture);
        return run.Activities.TryGetValue(scheduled, out var activity) && activity.Attempt == attempt && activity.Phase == ActivityPhase.Running
            ? (run, activity)
            : throw GrpcStatusException.NotFound("Activity task not found (timed out, retried, or the workflow closed).");
    }

    /// <summary>Closes the activity: its started event (final attempt) and the closing event, for the workflow to see.</summary>
    private void CloseActivity(WorkflowRun run, ActivityState activity, string identity, Action<HistoryEvent, long> closing)
    {
        run.Activities.Remove(activity.ScheduledEventId);
        AppendExternal(run, () =>
        {
            var started = Append(run, EventType.ActivityTaskStarted, e => e.ActivityTaskStartedEventAttributes = new()
            {
                ScheduledEventId = activity.ScheduledEventId,
                Identity = identity,
                RequestId = NewId(),
                Attempt = activity.Attempt,
                LastFailure = activity.Attempt > 1 ? activity.LastFailure : null,
            }).EventId;
            Append(run, EventType.Unspecified, e => closing(e, started));
        });
    }

    /// <summary>One attempt failed: retry after the backoff, or close the activity as failed when it may not retry.</summary>
    private void FailAttempt(WorkflowRun run, ActivityState activity, Failure failure, string identity, TimeoutType? timeout = null)
    {
        var policy = activity.Attributes.RetryPolicy;
        var info = failure.ApplicationFailureInfo;
        RetryState? final = null;
        if (info is not null && (info.NonRetryable || policy.NonRetryableErrorTypes.Contains(info.Type)))
        {
            final = RetryState.NonRetryableFailure;
        }
        else if (policy.MaximumAttempts > 0 && activity.Attempt >= policy.MaximumAttempts)
        {
            final = RetryState.MaximumAttemptsReached;
        }
        var delay = TimeSpan.FromTicks((long)Math.Min(
            policy.InitialInterval.ToTimeSpan().Ticks * Math.Pow(policy.BackoffCoefficient, activity.Attempt - 1),
            policy.MaximumInterval.ToTimeSpan().Ticks));
        if (final is null && activity.ScheduleToCloseDeadline is { } deadline && Now + delay >= deadline)
        {
            final = RetryState.Timeout;
        }
        if (final is { } retryState)
        {
            CloseActivity(run, activity, identity, (e, started) =>
            {
                if (timeout is { } type)
                {
                    e.EventType = EventType.ActivityTaskTimedOut;
                    e.ActivityTaskTimedOutEventAttributes = new()
                    {
                        ScheduledEventId = activity.ScheduledEventId,
                        StartedEventId = started,
                        Failure = failure,
                        RetryState = retryState,
                    };
                    return;
                }
                e.EventType = EventType.ActivityTaskFailed;
                e.ActivityTaskFailedEventAttributes = new()
                {
                    ScheduledEventId = activity.ScheduledEventId,
                    StartedEventId = started,
                    Failure = failure,
                    RetryState = retryState,
                    Identity = identity,
                };
            });
            return;
        }
        activity.LastFailure = failure;
        activity.Attempt++;
        activity.Phase = ActivityPhase.Backoff;
        activity.RetryAt = Now + delay;
        activity.StartToCloseDeadline = activity.HeartbeatDeadline = null;
    }

    /// <summary>The workflow asked to cancel an activity: at once when no worker has it, else through its next heartbeat.</summary>
    private bool RequestCancelActivity(WorkflowRun run, long scheduledEventId, long completed)
    {
        if (!run.Activities.TryGetValue(scheduledEventId, out var activity))
        {
            return false;
        }
        var requested = Append(run, EventType.ActivityTaskCancelRequested, e => e.ActivityTaskCancelRequestedEventAttributes = new()
        {
            ScheduledEventId = scheduledEventId,
            WorkflowTaskCompletedEventId = completed,
        }).EventId;
        activity.CancelRequestedEventId = requested;
        if (activity.Phase == ActivityPhase.Running)
        {
            return false;
        }
        run.Activities.Remove(scheduledEventId);
        Append(run, EventType.Unspecified, e => Canceled(e, activity, 0, null, ""));
        return true;
    }

    private static void Canceled(HistoryEvent e, ActivityState activity, long started, Payloads? details, string identity)
    {
        e.EventType = EventType.ActivityTaskCanceled;
        e.ActivityTaskCanceledEventAttributes = new()
        {
            ScheduledEventId = activity.ScheduledEventId,
            StartedEventId = started,
            LatestCancelRequestedEventId = activity.CancelRequestedEventId,
            Details = details,
            Identity = identity,
        };
    }

    /// <summary>Deadlines of one activity, checked by the clock.</summary>
    private void CheckActivity(WorkflowRun run, ActivityState activity, DateTime now)
    {
        if (activity.ScheduleToCloseDeadline is { } closeBy && now >= closeBy)
        {
            activity.Attempt = Math.Max(activity.Attempt, 1);
            CloseActivity(run, activity, activity.Identity, (e, started) =>
            {
                e.EventType = EventType.ActivityTaskTimedOut;
                e.ActivityTaskTimedOutEventAttributes = new()
                {
                    ScheduledEventId = activity.ScheduledEventId,
                    StartedEventId = started,
                    Failure = TimeoutFailure(TimeoutType.ScheduleToClose, activity.HeartbeatDetails),
                    RetryState = RetryState.Timeout,
                };
            });
            return;
        }
        switch (activity.Phase)
        {
            case ActivityPhase.Backoff when activity.RetryAt <= now:
                Enqueue(run, activity);
                break;
            case ActivityPhase.Running when activity.StartToCloseDeadline <= now:
                FailAttempt(run, activity, TimeoutFailure(TimeoutType.StartToClose, activity.HeartbeatDetails), activity.Identity, TimeoutType.StartToClose);
                break;
            case ActivityPhase.Running when activity.HeartbeatDeadline <= now:
                FailAttempt(run, activity, TimeoutFailure(TimeoutType.Heartbeat, activity.HeartbeatDetails), activity.Identity, TimeoutType.Heartbeat);
                break;
        }
    }

    private static Failure TimeoutFailure(TimeoutType type, Payloads? lastHeartbeat) => new()
    {
        Message = $"activity {type} timeout",
        Source = "temporal-test-server",
        TimeoutFailureInfo = new TimeoutFailureInfo { TimeoutType = type, LastHeartbeatDetails = lastHeartbeat },
    };
}

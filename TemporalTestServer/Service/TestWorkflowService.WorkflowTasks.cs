namespace TemporalTestServer.Service;

/// <summary>
/// Workflow tasks: scheduling, delivery, completion with commands, failure and retry. As on the real
/// server, a worker that asks for stickiness gets the run's next tasks on its own sticky queue with only
/// the events since its last task (it has the rest cached); tasks it does not pick up in time, and
/// every task after a failure, go to the normal queue with the full history.
/// </summary>
public sealed partial class TestWorkflowService
{
    private void MapWorkflowTasks(GrpcEndpoint endpoint)
    {
        endpoint.Map<PollWorkflowTaskQueueRequest>(Service + "PollWorkflowTaskQueue", (r, context) =>
        {
            var worker = WorkerKey(r.WorkerInstanceKey, r.Identity);
            TaskDispatcher<object> queue;
            VersionKey? version;
            lock (gate)
            {
                RequireNamespace(r.Namespace);
                version = RegisterPoller(r.Namespace, r.TaskQueue, TaskQueueType.Workflow, r.DeploymentOptions, worker);
                queue = WorkflowQueue(r.Namespace, r.TaskQueue.Kind == TaskQueueKind.Sticky ? StickyKey(r.TaskQueue.Name) : r.TaskQueue.Name);
            }
            return LongPollAsync(queue, r.Identity, worker, version, workflowRoute, new PollWorkflowTaskQueueResponse(), context);
        });
        Map<RespondWorkflowTaskCompletedRequest>(endpoint, "RespondWorkflowTaskCompleted", CompleteWorkflowTask);
        Map<RespondWorkflowTaskFailedRequest>(endpoint, "RespondWorkflowTaskFailed", r =>
        {
            var (run, task) = FindStartedWorkflowTask(r.TaskToken);
            FailWorkflowTask(run, task, r.Cause, r.Failure, r.Identity);
            RetryWorkflowTask(run, task);
            return new RespondWorkflowTaskFailedResponse();
        });
        Map<ShutdownWorkerRequest>(endpoint, "ShutdownWorker", r =>
        {
            // The worker's cache goes with it: its runs continue on the normal queue.
            foreach (var run in running.Where(run => run.StickyQueue == r.StickyTaskQueue).ToList())
            {
                ClearStickiness(run);
            }
            // The .NET SDK sends its instance key in the heartbeat it attaches here, not in the request.
            var worker = WorkerKey(string.IsNullOrEmpty(r.WorkerInstanceKey) ? r.WorkerHeartbeat?.WorkerInstanceKey : r.WorkerInstanceKey, r.Identity);
            foreach (var queue in workflowQueues.Values)
            {
                queue.ReleasePollers(worker);
            }
            foreach (var queue in activityQueues.Values)
            {
                queue.ReleasePollers(worker);
            }
            ForgetWorker(worker);
            return new ShutdownWorkerResponse();
        });
        // Newer SDKs report worker heartbeats; accepted and ignored.
        Map<RecordWorkerHeartbeatRequest>(endpoint, "RecordWorkerHeartbeat", _ => new RecordWorkerHeartbeatResponse());
    }

    private void ScheduleWorkflowTask(WorkflowRun run)
    {
        if (run.WorkflowTask is not null || !run.IsRunning)
        {
            return;
        }
        run.WorkflowTaskRetryAt = null;
        var scheduled = Append(run, EventType.WorkflowTaskScheduled, e => e.WorkflowTaskScheduledEventAttributes = new()
        {
            TaskQueue = new TaskQueue { Name = run.TaskQueue, Kind = TaskQueueKind.Normal },
            StartToCloseTimeout = Duration.FromTimeSpan(run.WorkflowTaskTimeout),
            Attempt = run.WorkflowTaskAttempt,
        });
        run.WorkflowTask = new WorkflowTaskState { ScheduledEventId = scheduled.EventId, Attempt = run.WorkflowTaskAttempt };
        OfferWorkflowTask(run);
    }

    private static string StickyKey(string name) => "sticky:" + name;

    /// <summary>A workflow task offered on a sticky queue (the queue item says which kind of offer it is).</summary>
    private sealed record StickyOffer(WorkflowRun Run);

    private void OfferWorkflowTask(WorkflowRun run)
    {
        var task = run.WorkflowTask!;
        if (run.StickyQueue is not null && !MayStaySticky(run))
        {
            run.StickyQueue = null;
        }
        task.Sticky = run.StickyQueue is not null;
        if (task.Sticky)
        {
            task.StickyDeadline = Now + run.StickyScheduleToStart;
            WorkflowQueue(run.Namespace, StickyKey(run.StickyQueue!)).Offer(new StickyOffer(run), workflowRoute);
        }
        else
        {
            WorkflowQueue(run.Namespace, run.TaskQueue).Offer(run, workflowRoute);
        }
    }

    /// <summary>Stops using the run's sticky queue; a task waiting there moves to the normal queue.</summary>
    private void ClearStickiness(WorkflowRun run)
    {
        run.StickyQueue = null;
        if (run.WorkflowTask is { Started: false, Sticky: true })
        {
            OfferWorkflowTask(run);
        }
    }

    /// <summary>Turns a queued workflow task or query into a poll response for <paramref name="poller"/>; null when stale.</summary>
    private PollWorkflowTaskQueueResponse? StartTask(object item, TaskDispatcher<object>.Poller poller)
    {
        if (item is QueryState query)
        {
            if (query.Answer.Task.IsCompleted)
            {
                return null;
            }
            if (query.Run.WorkflowTask is not null)
            {
                query.Dispatched = false; // delivered after the workflow task in flight
                return null;
            }
            var queryTask = NewTaskResponse(query.Run, Token("query", query.Id), 1);
            queryTask.Query = query.Query;
            return queryTask;
        }
        var sticky = item is StickyOffer;
        var run = item is StickyOffer offer ? offer.Run : (WorkflowRun)item;
        if (run.WorkflowTask is not { Started: false } task || task.Sticky != sticky)
        {
            return null;
        }
        if (sticky && !MayStaySticky(run))
        {
            ClearStickiness(run); // the routing changed while the task waited on the sticky queue
            return null;
        }
        NoteWorkflowTaskStart(run, poller.Version);
        var started = Append(run, EventType.WorkflowTaskStarted, e => e.WorkflowTaskStartedEventAttributes = new()
        {
            ScheduledEventId = task.ScheduledEventId,
            Identity = poller.Identity,
            RequestId = NewId(),
        });
        task.StartedEventId = started.EventId;
        task.Deadline = Now + run.WorkflowTaskTimeout;
        var response = NewTaskResponse(run, Token("wft", run.Namespace, run.WorkflowId, run.RunId, task.ScheduledEventId),
            sticky ? run.PreviousStartedEventId + 1 : 1);
        response.StartedEventId = task.StartedEventId;
        response.Attempt = task.Attempt;
        response.ScheduledTime = run.Events[(int)task.ScheduledEventId - 1].EventTime;
        response.StartedTime = started.EventTime;
        return response;
    }

    private static PollWorkflowTaskQueueResponse NewTaskResponse(WorkflowRun run, ByteString token, long firstEventId)
    {
        var response = new PollWorkflowTaskQueueResponse
        {
            TaskToken = token,
            WorkflowExecution = new WorkflowExecution { WorkflowId = run.WorkflowId, RunId = run.RunId },
            WorkflowType = new WorkflowType { Name = run.WorkflowType },
            PreviousStartedEventId = run.PreviousStartedEventId,
            History = new Temporalio.Api.History.V1.History(),
            WorkflowExecutionTaskQueue = new TaskQueue { Name = run.TaskQueue, Kind = TaskQueueKind.Normal },
            Attempt = 1,
        };
        // Events are never changed once written, so the response can share them.
        response.History.Events.AddRange(run.Events.Skip((int)firstEventId - 1));
        return response;
    }

    private (WorkflowRun Run, WorkflowTaskState Task) FindStartedWorkflowTask(ByteString token)
    {
        var parts = ParseToken(token, "wft");
        var run = FindRun(parts[1], parts[2], parts[3]);
        var scheduled = long.Parse(parts[4], System.Globalization.CultureInfo.InvariantCulture);
        return run.WorkflowTask is { Started: true } task && task.ScheduledEventId == scheduled
            ? (run, task)
            : throw GrpcStatusException.NotFound("Workflow task not found (timed out, or the workflow closed).");
    }

    private IMessage CompleteWorkflowTask(RespondWorkflowTaskCompletedRequest r)
    {
        var (run, task) = FindStartedWorkflowTask(r.TaskToken);
        var closes = r.Commands.Any(c => c.CommandType is CommandType.CompleteWorkflowExecution
            or CommandType.FailWorkflowExecution or CommandType.CancelWorkflowExecution);
        if (closes && run.Buffered.Count > 0)
        {
            // As the real server: a workflow may not close while events it has not seen are waiting.
            FailWorkflowTask(run, task, WorkflowTaskFailedCause.UnhandledCommand, null, r.Identity);
            RetryWorkflowTask(run, task, immediately: true);
            return new RespondWorkflowTaskCompletedResponse();
        }
        var attributes = new WorkflowTaskCompletedEventAttributes
        {
            ScheduledEventId = task.ScheduledEventId,
            StartedEventId = task.StartedEventId,
            Identity = r.Identity,
            // The SDK reads its flags back from here when it replays: dropping them would change replay.
            SdkMetadata = r.SdkMetadata,
            MeteringMetadata = r.MeteringMetadata,
#pragma warning disable CS0612 // deprecated, but written as the server writes them (the build id of a worker with versioning off)
            BinaryChecksum = r.BinaryChecksum,
            WorkerVersion = r.WorkerVersionStamp,
#pragma warning restore CS0612
        };
        // Also where the SDK reads, when it replays, which version ran each task.
        var transitionPending = RecordVersioning(run, r, attributes);
        var completed = Append(run, EventType.WorkflowTaskCompleted, e => e.WorkflowTaskCompletedEventAttributes = attributes).EventId;
        run.WorkflowTask = null;
        run.WorkflowTaskAttempt = 1;
        run.PreviousStartedEventId = task.StartedEventId;
        run.StickyQueue = string.IsNullOrEmpty(r.StickyAttributes?.WorkerTaskQueue?.Name) ? null : r.StickyAttributes.WorkerTaskQueue.Name;
        run.StickyScheduleToStart = r.StickyAttributes?.ScheduleToStartTimeout?.ToTimeSpan() is { Ticks: > 0 } wait ? wait : TimeSpan.FromSeconds(5);

        var needsTask = r.ForceCreateNewWorkflowTask || transitionPending;
        var response = new RespondWorkflowTaskCompletedResponse();
        foreach (var command in r.Commands)
        {
            needsTask |= ApplyCommand(run, command, completed, r.Identity, response);
        }
        if (run.IsRunning)
        {
            needsTask |= FlushBuffered(run);
            if (needsTask)
            {
                ScheduleWorkflowTask(run);
            }
        }
        DispatchQueries(run);
        return response;
    }

    /// <summary>Applies one command; true when it produced an event the workflow must see in a new task.</summary>
    private bool ApplyCommand(WorkflowRun run, Command command, long completed, string identity, RespondWorkflowTaskCompletedResponse response)
    {
        switch (command.CommandType)
        {
            case CommandType.ScheduleActivityTask:
                var eager = ScheduleActivity(run, command.ScheduleActivityTaskCommandAttributes, completed, identity, run.LastWorkerVersion);
                if (eager is not null)
                {
                    response.ActivityTasks.Add(eager);
                }
                return false;
            case CommandType.RequestCancelActivityTask:
                return RequestCancelActivity(run, command.RequestCancelActivityTaskCommandAttributes.ScheduledEventId, completed);
            case CommandType.StartTimer:
                var timer = command.StartTimerCommandAttributes;
                var started = Append(run, EventType.TimerStarted, e => e.TimerStartedEventAttributes = new()
                {
                    TimerId = timer.TimerId,
                    StartToFireTimeout = timer.StartToFireTimeout,
                    WorkflowTaskCompletedEventId = completed,
                });
                run.Timers[timer.TimerId] = new TimerState(timer.TimerId, started.EventId, Now + timer.StartToFireTimeout.ToTimeSpan());
                return false;
            case CommandType.CancelTimer:
                var timerId = command.CancelTimerCommandAttributes.TimerId;
                if (run.Timers.Remove(timerId, out var cancelled))
                {
                    Append(run, EventType.TimerCanceled, e => e.TimerCanceledEventAttributes = new()
                    {
                        TimerId = timerId,
                        StartedEventId = cancelled.StartedEventId,
                        WorkflowTaskCompletedEventId = completed,
                        Identity = identity,
                    });
                }
                return false;
            case CommandType.RecordMarker:
                var marker = command.RecordMarkerCommandAttributes;
                Append(run, EventType.MarkerRecorded, e => e.MarkerRecordedEventAttributes = new()
                {
                    MarkerName = marker.MarkerName,
                    Details = { marker.Details },
                    Header = marker.Header,
                    Failure = marker.Failure,
                    WorkflowTaskCompletedEventId = completed,
                });
                return false;
            case CommandType.UpsertWorkflowSearchAttributes:
                Append(run, EventType.UpsertWorkflowSearchAttributes, e => e.UpsertWorkflowSearchAttributesEventAttributes = new()
                {
                    SearchAttributes = command.UpsertWorkflowSearchAttributesCommandAttributes.SearchAttributes,
                    WorkflowTaskCompletedEventId = completed,
                });
                return false;
            case CommandType.CompleteWorkflowExecution:
                Append(run, EventType.WorkflowExecutionCompleted, e => e.WorkflowExecutionCompletedEventAttributes = new()
                {
                    Result = command.CompleteWorkflowExecutionCommandAttributes.Result,
                    WorkflowTaskCompletedEventId = completed,
                });
                Close(run, WorkflowExecutionStatus.Completed);
                return false;
            case CommandType.FailWorkflowExecution:
                Append(run, EventType.WorkflowExecutionFailed, e => e.WorkflowExecutionFailedEventAttributes = new()
                {
                    Failure = command.FailWorkflowExecutionCommandAttributes.Failure,
                    RetryState = RetryState.RetryPolicyNotSet,
                    WorkflowTaskCompletedEventId = completed,
                });
                Close(run, WorkflowExecutionStatus.Failed);
                return false;
            case CommandType.CancelWorkflowExecution:
                Append(run, EventType.WorkflowExecutionCanceled, e => e.WorkflowExecutionCanceledEventAttributes = new()
                {
                    Details = command.CancelWorkflowExecutionCommandAttributes.Details,
                    WorkflowTaskCompletedEventId = completed,
                });
                Close(run, WorkflowExecutionStatus.Canceled);
                return false;
            default:
                throw new GrpcStatusException(StatusCode.Unimplemented,
                    $"Command {command.CommandType} is not supported by the Temporal test server.");
        }
    }

    private static bool FlushBuffered(WorkflowRun run)
    {
        if (run.Buffered.Count == 0)
        {
            return false;
        }
        foreach (var append in run.Buffered)
        {
            append();
        }
        run.Buffered.Clear();
        return true;
    }

    private void FailWorkflowTask(WorkflowRun run, WorkflowTaskState task, WorkflowTaskFailedCause cause, Failure? failure, string identity) =>
        Append(run, EventType.WorkflowTaskFailed, e => e.WorkflowTaskFailedEventAttributes = new()
        {
            ScheduledEventId = task.ScheduledEventId,
            StartedEventId = task.StartedEventId,
            Cause = cause,
            Failure = failure,
            Identity = identity,
        });

    /// <summary>After a failed or timed-out workflow task: the next attempt, at once for the first retry, then with backoff.</summary>
    private void RetryWorkflowTask(WorkflowRun run, WorkflowTaskState task, bool immediately = false)
    {
        run.WorkflowTask = null;
        run.StickyQueue = null; // the worker's cached state is suspect after a failure

        run.WorkflowTaskAttempt = immediately ? 1 : task.Attempt + 1;
        FlushBuffered(run);
        if (immediately || run.WorkflowTaskAttempt <= 2)
        {
            ScheduleWorkflowTask(run);
        }
        else
        {
            var delay = TimeSpan.FromMilliseconds(Math.Min(10_000, 500 * Math.Pow(2, run.WorkflowTaskAttempt - 3)));
            run.WorkflowTaskRetryAt = Now + delay;
        }
    }

    /// <summary>A sticky task nobody picked up in time: as the real server, time it out and go to the normal queue.</summary>
    private void TimeOutStickyWorkflowTask(WorkflowRun run, WorkflowTaskState task)
    {
        Append(run, EventType.WorkflowTaskTimedOut, e => e.WorkflowTaskTimedOutEventAttributes = new()
        {
            ScheduledEventId = task.ScheduledEventId,
            TimeoutType = TimeoutType.ScheduleToStart,
        });
        run.WorkflowTask = null;
        run.StickyQueue = null;
        ScheduleWorkflowTask(run);
    }

    private void TimeOutWorkflowTask(WorkflowRun run, WorkflowTaskState task)
    {
        Append(run, EventType.WorkflowTaskTimedOut, e => e.WorkflowTaskTimedOutEventAttributes = new()
        {
            ScheduledEventId = task.ScheduledEventId,
            StartedEventId = task.StartedEventId,
            TimeoutType = TimeoutType.StartToClose,
        });
        RetryWorkflowTask(run, task);
    }
}

using Temporalio.Api.ErrorDetails.V1;
using Temporalio.Api.Namespace.V1;
using Temporalio.Api.Workflow.V1;

namespace TemporalTestServer.Service;

/// <summary>Workflow executions: start (with id conflict rules), signal, cancel, terminate, describe, history.</summary>
public sealed partial class TestWorkflowService
{
    private const string Service = "/temporal.api.workflowservice.v1.WorkflowService/";
    private static readonly TimeSpan DefaultWorkflowTaskTimeout = TimeSpan.FromSeconds(10);

    /// <summary>Time-skipping waits only while somebody waits for a result (see <see cref="TestServerOptions.TimeSkipping"/>).</summary>
    private int resultWaiters;

    private void Map<TRequest>(GrpcEndpoint endpoint, string method, Func<TRequest, IMessage> handler)
        where TRequest : IMessage<TRequest>, new() =>
        endpoint.Map<TRequest>(Service + method, (request, _) =>
        {
            lock (gate)
            {
                return Task.FromResult(handler(request));
            }
        });

    private void MapExecutions(GrpcEndpoint endpoint)
    {
        // The SDK's CheckHealthAsync: grpc.health.v1.Health/Check; the answer is HealthCheckResponse{status: SERVING},
        // a message Temporalio does not ship, so it is written as its two bytes (field 1, varint 1).
        endpoint.Map<Empty>("/grpc.health.v1.Health/Check", (_, _) => Task.FromResult<IMessage>(new ServingResponse()));
        Map<GetSystemInfoRequest>(endpoint, "GetSystemInfo", _ => new GetSystemInfoResponse
        {
            ServerVersion = "temporal-test-server",
            Capabilities = new()
            {
                SignalAndQueryHeader = true,
                InternalErrorDifferentiation = true,
                ActivityFailureIncludeHeartbeat = true,
                EncodedFailureAttributes = true,
                SdkMetadata = true,
                UpsertMemo = true,
            },
        });
        Map<DescribeNamespaceRequest>(endpoint, "DescribeNamespace", r =>
        {
            RequireNamespace(r.Namespace);
            return new DescribeNamespaceResponse
            {
                NamespaceInfo = new NamespaceInfo { Name = r.Namespace, Id = r.Namespace, State = NamespaceState.Registered },
                Config = new NamespaceConfig { WorkflowExecutionRetentionTtl = Duration.FromTimeSpan(TimeSpan.FromDays(1)) },
            };
        });
        Map<RegisterNamespaceRequest>(endpoint, "RegisterNamespace", r =>
            namespaces.Add(r.Namespace)
                ? new RegisterNamespaceResponse()
                : throw new GrpcStatusException(StatusCode.AlreadyExists, $"Namespace {r.Namespace} already exists."));
        Map<StartWorkflowExecutionRequest>(endpoint, "StartWorkflowExecution", StartWorkflow);
        Map<SignalWorkflowExecutionRequest>(endpoint, "SignalWorkflowExecution", r =>
        {
            Signal(FindRunning(r.Namespace, r.WorkflowExecution.WorkflowId, r.WorkflowExecution.RunId), r.SignalName, r.Input, r.Header, r.Identity);
            return new SignalWorkflowExecutionResponse();
        });
        Map<SignalWithStartWorkflowExecutionRequest>(endpoint, "SignalWithStartWorkflowExecution", SignalWithStart);
        Map<RequestCancelWorkflowExecutionRequest>(endpoint, "RequestCancelWorkflowExecution", r =>
        {
            var run = FindRunning(r.Namespace, r.WorkflowExecution.WorkflowId, r.WorkflowExecution.RunId);
            AppendExternal(run, () => Append(run, EventType.WorkflowExecutionCancelRequested, e =>
                e.WorkflowExecutionCancelRequestedEventAttributes = new() { Cause = r.Reason, Identity = r.Identity }));
            return new RequestCancelWorkflowExecutionResponse();
        });
        Map<TerminateWorkflowExecutionRequest>(endpoint, "TerminateWorkflowExecution", r =>
        {
            var run = FindRunning(r.Namespace, r.WorkflowExecution.WorkflowId, r.WorkflowExecution.RunId);
            Append(run, EventType.WorkflowExecutionTerminated, e => e.WorkflowExecutionTerminatedEventAttributes = new()
            {
                Reason = r.Reason,
                Details = r.Details,
                Identity = r.Identity,
            });
            Close(run, WorkflowExecutionStatus.Terminated);
            return new TerminateWorkflowExecutionResponse();
        });
        Map<DescribeWorkflowExecutionRequest>(endpoint, "DescribeWorkflowExecution", r =>
            Describe(FindRun(r.Namespace, r.Execution.WorkflowId, r.Execution.RunId)));
        endpoint.Map<GetWorkflowExecutionHistoryRequest>(Service + "GetWorkflowExecutionHistory", GetHistoryAsync);
    }

    private IMessage StartWorkflow(StartWorkflowExecutionRequest r)
    {
        var (run, started) = StartOrReuse(r.Namespace, r.WorkflowId, r.RequestId, r.WorkflowIdReusePolicy, r.WorkflowIdConflictPolicy, () => NewRun(
            r.Namespace, r.WorkflowId, r.RequestId, r.WorkflowType.Name, r.TaskQueue.Name, r.WorkflowTaskTimeout, r.Identity, r.VersioningOverride,
            e =>
            {
                e.Input = r.Input;
                e.Header = r.Header;
                e.Memo = r.Memo;
                e.SearchAttributes = r.SearchAttributes;
                e.WorkflowExecutionTimeout = r.WorkflowExecutionTimeout;
                e.WorkflowRunTimeout = r.WorkflowRunTimeout;
            }, r.CronSchedule, r.WorkflowStartDelay));
        if (started)
        {
            ScheduleWorkflowTask(run);
        }
        return new StartWorkflowExecutionResponse { RunId = run.RunId, Started = started, Status = run.Status };
    }

    private IMessage SignalWithStart(SignalWithStartWorkflowExecutionRequest r)
    {
        var (run, started) = StartOrReuse(r.Namespace, r.WorkflowId, r.RequestId, r.WorkflowIdReusePolicy,
            WorkflowIdConflictPolicy.UseExisting, () => NewRun(
                r.Namespace, r.WorkflowId, r.RequestId, r.WorkflowType.Name, r.TaskQueue.Name, r.WorkflowTaskTimeout, r.Identity, r.VersioningOverride,
                e =>
                {
                    e.Input = r.Input;
                    e.Header = r.Header;
                    e.Memo = r.Memo;
                    e.SearchAttributes = r.SearchAttributes;
                }, r.CronSchedule, r.WorkflowStartDelay));
        Signal(run, r.SignalName, r.SignalInput, r.Header, r.Identity);
        return new SignalWithStartWorkflowExecutionResponse { RunId = run.RunId, Started = started };
    }

    /// <summary>
    /// The workflow-id rules of the real server: a retried request (same request id) gets the same run; a
    /// running workflow with the id is a conflict unless the policy says use or terminate it; a closed one
    /// is reused according to the reuse policy.
    /// </summary>
    private (WorkflowRun Run, bool Started) StartOrReuse(
        string ns, string workflowId, string requestId, WorkflowIdReusePolicy reuse, WorkflowIdConflictPolicy conflict,
        Func<WorkflowRun> create)
    {
        RequireNamespace(ns);
        if (!runs.TryGetValue((ns, workflowId), out var list))
        {
            runs[(ns, workflowId)] = list = [];
        }
        if (!string.IsNullOrEmpty(requestId) && list.Find(r => r.StartRequestId == requestId) is { } same)
        {
            return (same, false);
        }
        var latest = list.Count > 0 ? list[^1] : null;
        if (latest is { IsRunning: true })
        {
            if (conflict == WorkflowIdConflictPolicy.UseExisting)
            {
                return (latest, false);
            }
            if (conflict == WorkflowIdConflictPolicy.TerminateExisting)
            {
                Append(latest, EventType.WorkflowExecutionTerminated, e =>
                    e.WorkflowExecutionTerminatedEventAttributes = new() { Reason = "terminated by a new start with the same workflow id" });
                Close(latest, WorkflowExecutionStatus.Terminated);
            }
            else
            {
                throw AlreadyStarted(latest, "Workflow execution is already running.");
            }
        }
        else if (latest is not null)
        {
            var failedBefore = latest.Status is not WorkflowExecutionStatus.Completed;
            if (reuse == WorkflowIdReusePolicy.RejectDuplicate
                || (reuse == WorkflowIdReusePolicy.AllowDuplicateFailedOnly && !failedBefore))
            {
                throw AlreadyStarted(latest, $"Workflow execution already finished ({latest.Status}) and the reuse policy is {reuse}.");
            }
        }
        var run = create();
        list.Add(run);
        running.Add(run);
        return (run, true);
    }

    private static GrpcStatusException AlreadyStarted(WorkflowRun run, string message) =>
        new(StatusCode.AlreadyExists, message, new WorkflowExecutionAlreadyStartedFailure
        {
            StartRequestId = run.StartRequestId ?? "",
            RunId = run.RunId,
        });

    private WorkflowRun NewRun(
        string ns, string workflowId, string requestId, string type, string taskQueue, Duration? workflowTaskTimeout,
        string identity, VersioningOverride? versioningOverride, Action<WorkflowExecutionStartedEventAttributes> more, string cron, Duration? startDelay)
    {
        if (!string.IsNullOrEmpty(cron) || startDelay is { Seconds: > 0 } or { Nanos: > 0 })
        {
            throw new GrpcStatusException(StatusCode.Unimplemented, "Cron schedules and start delays are not supported by the Temporal test server.");
        }
        ValidateOverride(ns, versioningOverride, taskQueue);
        var timeout = workflowTaskTimeout is null || workflowTaskTimeout.ToTimeSpan() <= TimeSpan.Zero
            ? DefaultWorkflowTaskTimeout : workflowTaskTimeout.ToTimeSpan();
        var run = new WorkflowRun
        {
            Namespace = ns,
            WorkflowId = workflowId,
            RunId = NewId(),
            WorkflowType = type,
            TaskQueue = taskQueue,
            StartRequestId = requestId,
            WorkflowTaskTimeout = timeout,
            StartTime = Now,
            Override = versioningOverride,
        };
        Append(run, EventType.WorkflowExecutionStarted, e =>
        {
            e.WorkflowExecutionStartedEventAttributes = new()
            {
                WorkflowType = new WorkflowType { Name = type },
                TaskQueue = new TaskQueue { Name = taskQueue, Kind = TaskQueueKind.Normal },
                WorkflowTaskTimeout = Duration.FromTimeSpan(timeout),
                OriginalExecutionRunId = run.RunId,
                FirstExecutionRunId = run.RunId,
                Identity = identity,
                Attempt = 1,
                VersioningOverride = versioningOverride,
            };
            more(e.WorkflowExecutionStartedEventAttributes);
        });
        return run;
    }

    private void Signal(WorkflowRun run, string name, Payloads? input, Header? header, string identity) =>
        AppendExternal(run, () => Append(run, EventType.WorkflowExecutionSignaled, e =>
            e.WorkflowExecutionSignaledEventAttributes = new()
            {
                SignalName = name,
                Input = input ?? new Payloads(),
                Header = header,
                Identity = identity,
            }));

    private static DescribeWorkflowExecutionResponse Describe(WorkflowRun run)
    {
        var response = new DescribeWorkflowExecutionResponse
        {
            ExecutionConfig = new WorkflowExecutionConfig
            {
                TaskQueue = new TaskQueue { Name = run.TaskQueue, Kind = TaskQueueKind.Normal },
                DefaultWorkflowTaskTimeout = Duration.FromTimeSpan(run.WorkflowTaskTimeout),
            },
            WorkflowExecutionInfo = new WorkflowExecutionInfo
            {
                Execution = new WorkflowExecution { WorkflowId = run.WorkflowId, RunId = run.RunId },
                Type = new WorkflowType { Name = run.WorkflowType },
                StartTime = Timestamp.FromDateTime(run.StartTime),
                ExecutionTime = Timestamp.FromDateTime(run.StartTime),
                CloseTime = run.CloseTime is { } closed ? Timestamp.FromDateTime(closed) : null,
                Status = run.Status,
                HistoryLength = run.Events.Count,
                TaskQueue = run.TaskQueue,
                VersioningInfo = VersioningInfo(run),
                WorkerDeploymentName = run.WorkerDeploymentName,
            },
        };
        foreach (var activity in run.Activities.Values)
        {
            response.PendingActivities.Add(new PendingActivityInfo
            {
                ActivityId = activity.Attributes.ActivityId,
                ActivityType = activity.Attributes.ActivityType,
                State = activity.CancelRequested ? PendingActivityState.CancelRequested
                    : activity.Phase == ActivityPhase.Running ? PendingActivityState.Started : PendingActivityState.Scheduled,
                Attempt = activity.Attempt,
                MaximumAttempts = activity.Attributes.RetryPolicy.MaximumAttempts,
                HeartbeatDetails = activity.HeartbeatDetails,
                LastFailure = activity.LastFailure,
                LastWorkerIdentity = activity.Identity,
            });
        }
        return response;
    }

    /// <summary>
    /// History of a run; with <c>wait_new_event</c> and the close-event filter this is the long poll the SDK
    /// uses for a workflow's result. An open run answers empty with a page token, and the SDK asks again.
    /// </summary>
    private async Task<IMessage> GetHistoryAsync(GetWorkflowExecutionHistoryRequest r, CallContext context)
    {
        var closeOnly = r.HistoryEventFilterType == HistoryEventFilterType.CloseEvent;
        WorkflowRun run;
        bool wait;
        lock (gate)
        {
            run = FindRun(r.Namespace, r.Execution.WorkflowId, r.Execution.RunId);
            // Decided once, under the lock: a run that closed after it was released would otherwise leave a
            // result waiter counted for ever (and time skipping on while nobody waits).
            wait = r.WaitNewEvent && run.IsRunning;
            if (wait && closeOnly)
            {
                resultWaiters++;
            }
        }
        if (wait)
        {
            try
            {
                var waitFor = closeOnly ? run.Closed.Task : WaitForEventsAsync(run, r.NextPageToken);
                await waitFor.WaitAsync(context.LongPollBudget(longPollCap), context.Aborted);
            }
            catch (TimeoutException)
            {
            }
            finally
            {
                if (closeOnly)
                {
                    lock (gate)
                    {
                        resultWaiters--;
                    }
                }
            }
        }
        lock (gate)
        {
            var history = new Temporalio.Api.History.V1.History();
            var response = new GetWorkflowExecutionHistoryResponse { History = history };
            if (closeOnly)
            {
                if (run.CloseEvent is { } close)
                {
                    history.Events.Add(close);
                }
                else
                {
                    response.NextPageToken = ByteString.CopyFromUtf8("wait");
                }
                return response;
            }
            var from = EventCountFromToken(r.NextPageToken);
            history.Events.AddRange(run.Events.Skip(from));
            if (r.WaitNewEvent && run.IsRunning)
            {
                response.NextPageToken = ByteString.CopyFromUtf8(run.Events.Count.ToString(System.Globalization.CultureInfo.InvariantCulture));
            }
            return response;
        }
    }

    private static int EventCountFromToken(ByteString token) =>
        int.TryParse(token.ToStringUtf8(), out var count) ? count : 0;

    private async Task WaitForEventsAsync(WorkflowRun run, ByteString token)
    {
        var seen = EventCountFromToken(token);
        while (true)
        {
            lock (gate)
            {
                if (run.Events.Count > seen || !run.IsRunning)
                {
                    return;
                }
            }
            await Task.Delay(20);
        }
    }

    /// <summary>grpc.health.v1.HealthCheckResponse{status: SERVING}, serialized by hand.</summary>
    private sealed class ServingResponse : IMessage
    {
        public Google.Protobuf.Reflection.MessageDescriptor Descriptor => throw new NotSupportedException();

        public int CalculateSize() => 2;

        public void MergeFrom(CodedInputStream input) => throw new NotSupportedException();

        public void WriteTo(CodedOutputStream output)
        {
            ArgumentNullException.ThrowIfNull(output);
            output.WriteTag(1, WireFormat.WireType.Varint);
            output.WriteEnum(1);
        }
    }
}

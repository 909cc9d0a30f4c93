namespace TemporalTestServer.Service;

/// <summary>
/// The in-memory WorkflowService. All state sits behind one lock: simple and, at test scale, fast enough.
/// Split by concern: executions (start, signal, cancel, describe, history), queries, workflow tasks and
/// their commands, activity tasks, the clock (timers, timeouts, time skipping), and Worker Deployment
/// Versioning (routing, deployments, drainage).
/// </summary>
public sealed partial class TestWorkflowService : IDisposable
{
    private readonly object gate = new();
    private readonly HashSet<string> namespaces = new(StringComparer.Ordinal) { "default" };
    private readonly Dictionary<(string Namespace, string WorkflowId), List<WorkflowRun>> runs = [];

    // Indexes, so that the clock and answers do not scan every run ever started.
    private readonly HashSet<WorkflowRun> running = [];
    private readonly Dictionary<string, QueryState> queries = new(StringComparer.Ordinal);
    private readonly Dictionary<(string Namespace, string Queue), TaskDispatcher<object>> workflowQueues = [];
    private readonly Dictionary<(string Namespace, string Queue), TaskDispatcher<ActivityTask>> activityQueues = [];
    private readonly TimeSpan longPollCap;

    public TestWorkflowService(TestServerOptions options)
    {
        ArgumentNullException.ThrowIfNull(options);
        TimeSkipping = options.TimeSkipping;
        longPollCap = options.LongPollTimeout;
        drainageGrace = options.DrainageGracePeriod;
        drainageRefresh = options.DrainageRefreshInterval;
        workflowRoute = new(StartTask, WorkflowItemTarget);
        activityRoute = new(StartActivity, ActivityTarget);
        foreach (var ns in options.Namespaces)
        {
            namespaces.Add(ns);
        }
        clockLoop = Task.Run(RunClockAsync);
    }

    /// <summary>An activity task in a queue: the run and the activity's scheduled event.</summary>
    private sealed record ActivityTask(WorkflowRun Run, long ScheduledEventId, int Attempt);

    /// <summary>Registers every implemented method on the gRPC endpoint.</summary>
    public void MapTo(GrpcEndpoint endpoint)
    {
        ArgumentNullException.ThrowIfNull(endpoint);
        MapExecutions(endpoint);
        MapQueries(endpoint);
        MapWorkflowTasks(endpoint);
        MapActivityTasks(endpoint);
        MapDeployments(endpoint);
    }

    private DateTime Now => DateTime.UtcNow + clockOffset;

    private static string NewId() => Guid.NewGuid().ToString();

    private void RequireNamespace(string ns)
    {
        if (!namespaces.Contains(ns))
        {
            throw GrpcStatusException.NotFound($"Namespace {ns} is not found.");
        }
    }

    /// <summary>The given run, or the latest run of the workflow id when no run id is given.</summary>
    private WorkflowRun FindRun(string ns, string workflowId, string? runId)
    {
        RequireNamespace(ns);
        if (runs.TryGetValue((ns, workflowId), out var list))
        {
            var run = string.IsNullOrEmpty(runId) ? list[^1] : list.Find(r => r.RunId == runId);
            if (run is not null)
            {
                return run;
            }
        }
        throw GrpcStatusException.NotFound($"Workflow execution {workflowId} {runId} not found.");
    }

    private WorkflowRun FindRunning(string ns, string workflowId, string? runId)
    {
        var run = FindRun(ns, workflowId, runId);
        return run.IsRunning ? run : throw GrpcStatusException.NotFound("Workflow execution already completed.");
    }

    /// <summary>Appends an event with the next id and the server's current time.</summary>
    private HistoryEvent Append(WorkflowRun run, EventType type, Action<HistoryEvent> attributes)
    {
        var e = new HistoryEvent { EventId = run.Events.Count + 1, EventTime = Timestamp.FromDateTime(Now), EventType = type };
        attributes(e);
        run.Events.Add(e);
        return e;
    }

    /// <summary>
    /// Records events that come from outside the workflow (signal, activity result, timer): buffered while a
    /// workflow task runs, otherwise written at once, and in both cases followed by a workflow task.
    /// </summary>
    private void AppendExternal(WorkflowRun run, Action append)
    {
        if (run.WorkflowTask is { Started: true })
        {
            run.Buffered.Add(append);
            return;
        }
        append();
        ScheduleWorkflowTask(run);
    }

    private void Close(WorkflowRun run, WorkflowExecutionStatus status)
    {
        running.Remove(run);
        run.Status = status;
        run.CloseTime = Now;
        run.WorkflowTask = null;
        run.WorkflowTaskRetryAt = null;
        run.Buffered.Clear();
        run.Activities.Clear();
        run.Timers.Clear();
        run.Closed.TrySetResult();
        DispatchQueries(run);
    }

    private TaskDispatcher<object> WorkflowQueue(string ns, string name) => QueueFor(workflowQueues, ns, name);

    private TaskDispatcher<ActivityTask> ActivityQueue(string ns, string name) => QueueFor(activityQueues, ns, name);

    private static TaskDispatcher<T> QueueFor<T>(Dictionary<(string, string), TaskDispatcher<T>> queues, string ns, string name) where T : class
    {
        if (!queues.TryGetValue((ns, name), out var queue))
        {
            queues[(ns, name)] = queue = new TaskDispatcher<T>();
        }
        return queue;
    }

    /// <summary>
    /// Long poll: a task now, or wait for one until the caller's budget runs out (then an empty answer).
    /// The worker polls as <c>version</c>, null when it is unversioned.
    /// </summary>
    private async Task<IMessage> LongPollAsync<TTask>(
        TaskDispatcher<TTask> queue, string identity, string worker, VersionKey? version, TaskRoute<TTask> route,
        IMessage empty, CallContext context)
        where TTask : class
    {
        TaskDispatcher<TTask>.Poller? waiter;
        lock (gate)
        {
            var (response, registered) = queue.Poll(identity, worker, version, route);
            if (response is not null)
            {
                return response;
            }
            waiter = registered!;
        }
        try
        {
            var answer = await waiter.Response.Task.WaitAsync(context.LongPollBudget(longPollCap), context.Aborted);
            return answer ?? empty;
        }
        catch (TimeoutException)
        {
        }
        finally
        {
            lock (gate)
            {
                queue.Remove(waiter);
            }
        }
        // A task may have been handed over in the instant the wait ended: it must not be lost.
        return waiter.Response.Task.IsCompletedSuccessfully ? waiter.Response.Task.Result ?? empty : empty;
    }

    /// <summary>Names a worker: its instance key, which newer SDKs send (several workers of one process share an identity).</summary>
    private static string WorkerKey(string? instanceKey, string identity) => string.IsNullOrEmpty(instanceKey) ? identity : instanceKey;

    private static ByteString Token(params object[] parts) => ByteString.CopyFromUtf8(string.Join('|', parts));

    private static string[] ParseToken(ByteString token, string kind)
    {
        var parts = token.ToStringUtf8().Split('|');
        return parts.Length > 1 && parts[0] == kind ? parts : throw new GrpcStatusException(StatusCode.InvalidArgument, "Malformed task token.");
    }

    public void Dispose()
    {
        stopping.Cancel();
        try
        {
            clockLoop.Wait(TimeSpan.FromSeconds(5));
        }
        catch (AggregateException)
        {
        }
        stopping.Dispose();
    }
}

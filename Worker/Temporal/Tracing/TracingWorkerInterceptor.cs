using System.Diagnostics;
using Temporalio.Activities;
using Temporalio.Exceptions;
using Temporalio.Worker.Interceptors;
using Temporalio.Workflows;

namespace Worker.Temporal.Tracing;

/// <summary>
/// Worker side of <see cref="TemporalTracing"/>: replay-safe workflow spans whose context travels in the headers
/// of what the workflow schedules, and one span per activity attempt, child of that context. Every activity
/// attempt also runs inside a logger scope naming its workflow, run, activity and trace, so each log line written
/// during the attempt (by the activity, a store, an HTTP client) carries them; that scope stays when tracing is
/// switched off.
/// </summary>
/// <param name="traced">False: no spans, no header propagation; only the activity logger scope.</param>
/// <param name="runs">Where RunWorkflow span contexts outlive a workflow instance evicted from the cache.</param>
/// <param name="logger">Any logger of the host's factory: a scope begun on it applies to all its loggers.</param>
public sealed class TracingWorkerInterceptor(bool traced, WorkflowRunContexts runs, ILogger logger) : IWorkerInterceptor
{
    public WorkflowInboundInterceptor InterceptWorkflow(WorkflowInboundInterceptor nextInterceptor) =>
        traced ? new WorkflowInbound(nextInterceptor, runs) : nextInterceptor;

    public ActivityInboundInterceptor InterceptActivity(ActivityInboundInterceptor nextInterceptor) =>
        new ActivityInbound(nextInterceptor, traced, logger);

    private sealed class WorkflowInbound(WorkflowInboundInterceptor next, WorkflowRunContexts runs) : WorkflowInboundInterceptor(next)
    {
        private ActivityContext? parent;

        /// <summary>
        /// What this workflow's outbound calls carry: its RunWorkflow span (this instance's, or the one an earlier
        /// instance of the run made in this process), else the client's start span from the start headers.
        /// </summary>
        internal ActivityContext Parent => parent ??= runs.Get(Workflow.Info.RunId) ?? TemporalTracing.Extract(Workflow.Info.Headers);

        public override void Init(WorkflowOutboundInterceptor outbound) => base.Init(new WorkflowOutbound(outbound, this));

        public override async Task<object?> ExecuteWorkflowAsync(ExecuteWorkflowInput input)
        {
            var info = Workflow.Info;
            if (!Workflow.Unsafe.IsReplaying
                && Emit($"RunWorkflow:{info.WorkflowType}", ActivityKind.Server, TemporalTracing.Extract(info.Headers)) is { } run)
            {
                parent = run;
                runs.Set(info.RunId, run);
            }
            try
            {
                var result = await base.ExecuteWorkflowAsync(input);
                Complete(null);
                return result;
            }
            catch (Exception e)
            {
                Complete(e);
                throw;
            }
        }

        public override Task HandleSignalAsync(HandleSignalInput input)
        {
            if (!Workflow.Unsafe.IsReplaying)
            {
                EmitHandler($"HandleSignal:{input.Signal}", input.Headers);
            }
            return base.HandleSignalAsync(input);
        }

        // Queries are never in history, so never replayed: one span per query. The SDK's own (__stack_trace,
        // the UI's metadata) are left out.
        public override object? HandleQuery(HandleQueryInput input)
        {
            if (!input.Query.StartsWith("__", StringComparison.Ordinal))
            {
                EmitHandler($"HandleQuery:{input.Query}", input.Headers);
            }
            return base.HandleQuery(input);
        }

        public override Task<object?> HandleUpdateAsync(HandleUpdateInput input)
        {
            if (!Workflow.Unsafe.IsReplaying)
            {
                EmitHandler($"HandleUpdate:{input.Update}", input.Headers);
            }
            return base.HandleUpdateAsync(input);
        }

        /// <summary>
        /// A handler span is the child of its sender's span (the approve request's signal call, say), so it
        /// shows in the trace that caused it, and links to the workflow run.
        /// </summary>
        private void EmitHandler(string name, IReadOnlyDictionary<string, Temporalio.Api.Common.V1.Payload>? headers)
        {
            var sender = TemporalTracing.Extract(headers);
            var run = Parent;
            Emit(name, ActivityKind.Server, sender == default ? run : sender,
                links: sender == default || run == default ? null : [new ActivityLink(run)]);
        }

        private void Complete(Exception? error)
        {
            var info = Workflow.Info;
            if (error is not null && error is not (FailureException or OperationCanceledException or ContinueAsNewException))
            {
                // Any other exception fails the workflow task, which the server retries: the run goes on.
                if (!Workflow.Unsafe.IsReplaying)
                {
                    Emit($"WorkflowTaskFailed:{info.WorkflowType}", ActivityKind.Internal, Parent, span => TemporalTracing.RecordError(span, error));
                }
                return;
            }
            runs.Remove(info.RunId);
            if (Workflow.Unsafe.IsReplaying)
            {
                return;
            }
            Emit($"CompleteWorkflow:{info.WorkflowType}", ActivityKind.Internal, Parent, span =>
            {
                switch (error)
                {
                    case null:
                        span.SetTag(TemporalTracing.Tags.Outcome, "ok");
                        break;
                    case ContinueAsNewException:
                        span.SetTag(TemporalTracing.Tags.Outcome, "continued-as-new");
                        break;
                    case var e when TemporalException.IsCanceledException(e):
                        span.SetTag(TemporalTracing.Tags.Outcome, "cancelled");
                        break;
                    default:
                        TemporalTracing.RecordError(span, error);
                        break;
                }
            });
        }

        /// <summary>
        /// Starts and stops a span at once (it cannot outlive this workflow task) under <paramref name="parentContext"/>,
        /// never under whatever span the worker's thread happens to have; returns its context, or null when no listener
        /// records it.
        /// </summary>
        private static ActivityContext? Emit(
            string name, ActivityKind kind, ActivityContext parentContext, Action<Activity>? describe = null, IEnumerable<ActivityLink>? links = null)
        {
            var ambient = Activity.Current;
            Activity.Current = null;
            try
            {
                return Describe(name, kind, parentContext, describe, links);
            }
            catch (Exception e) when (e is not OperationCanceledException)
            {
                // Tracing must never fail a workflow task: a failing listener or processor costs the span only.
                return null;
            }
            finally
            {
                Activity.Current = ambient;
            }
        }

        private static ActivityContext? Describe(
            string name, ActivityKind kind, ActivityContext parentContext, Action<Activity>? describe, IEnumerable<ActivityLink>? links)
        {
            var info = Workflow.Info;
            using var span = TemporalTracing.WorkflowSource.StartActivity(name, kind, parentContext, links: links);
            if (span is null)
            {
                return null;
            }
            span.SetTag(TemporalTracing.Tags.WorkflowId, info.WorkflowId)
                .SetTag(TemporalTracing.Tags.RunId, info.RunId)
                .SetTag(TemporalTracing.Tags.WorkflowType, info.WorkflowType)
                .SetTag(TemporalTracing.Tags.TaskQueue, info.TaskQueue);
            describe?.Invoke(span);
            return span.Context;
        }
    }

    /// <summary>Puts the workflow's span context into the headers of everything it schedules.</summary>
    private sealed class WorkflowOutbound(WorkflowOutboundInterceptor next, WorkflowInbound workflow) : WorkflowOutboundInterceptor(next)
    {
        public override Task<TResult> ScheduleActivityAsync<TResult>(ScheduleActivityInput input) =>
            base.ScheduleActivityAsync<TResult>(input with { Headers = TemporalTracing.Inject(input.Headers, workflow.Parent) });

        public override Task<TResult> ScheduleLocalActivityAsync<TResult>(ScheduleLocalActivityInput input) =>
            base.ScheduleLocalActivityAsync<TResult>(input with { Headers = TemporalTracing.Inject(input.Headers, workflow.Parent) });

        public override Task<ChildWorkflowHandle<TWorkflow, TResult>> StartChildWorkflowAsync<TWorkflow, TResult>(StartChildWorkflowInput input) =>
            base.StartChildWorkflowAsync<TWorkflow, TResult>(input with { Headers = TemporalTracing.Inject(input.Headers, workflow.Parent) });

        public override Task SignalChildWorkflowAsync(SignalChildWorkflowInput input) =>
            base.SignalChildWorkflowAsync(input with { Headers = TemporalTracing.Inject(input.Headers, workflow.Parent) });

        public override Task SignalExternalWorkflowAsync(SignalExternalWorkflowInput input) =>
            base.SignalExternalWorkflowAsync(input with { Headers = TemporalTracing.Inject(input.Headers, workflow.Parent) });

        public override ContinueAsNewException CreateContinueAsNewException(CreateContinueAsNewExceptionInput input) =>
            base.CreateContinueAsNewException(input with { Headers = TemporalTracing.Inject(input.Headers, workflow.Parent) });
    }

    /// <summary>One span per attempt, child of the workflow's context from the activity's headers.</summary>
    private sealed class ActivityInbound(ActivityInboundInterceptor next, bool traced, ILogger logger) : ActivityInboundInterceptor(next)
    {
        public override async Task<object?> ExecuteActivityAsync(ExecuteActivityInput input)
        {
            var info = ActivityExecutionContext.Current.Info;
            var parent = traced ? TemporalTracing.Extract(input.Headers) : default;
            // Without a context in the headers the attempt is a root, never a child of whatever the thread carries.
            Activity.Current = null;
            using var span = traced
                ? TemporalTracing.ActivitySource.StartActivity($"RunActivity:{info.ActivityType}", ActivityKind.Server, parent)
                : null;
            span?.SetTag(TemporalTracing.Tags.ActivityType, info.ActivityType)
                .SetTag(TemporalTracing.Tags.Attempt, info.Attempt)
                .SetTag(TemporalTracing.Tags.ActivityId, info.ActivityId)
                .SetTag(TemporalTracing.Tags.WorkflowId, info.WorkflowId)
                .SetTag(TemporalTracing.Tags.RunId, info.WorkflowRunId)
                .SetTag(TemporalTracing.Tags.WorkflowType, info.WorkflowType)
                .SetTag(TemporalTracing.Tags.TaskQueue, info.TaskQueue);
            var traceId = span?.TraceId ?? parent.TraceId;
            using var scope = logger.BeginScope(new ActivityLogScope(info, traceId == default ? null : traceId.ToHexString()));
            try
            {
                var result = await base.ExecuteActivityAsync(input);
                span?.SetTag(TemporalTracing.Tags.Outcome, "ok");
                return result;
            }
            catch (CompleteAsyncException)
            {
                span?.SetTag(TemporalTracing.Tags.Outcome, "async");
                throw;
            }
            catch (Exception e) when (IsCancellation(e))
            {
                // A cancelled attempt (a cancelled order, a worker shutting down) is not a failure, as in the metrics.
                span?.SetTag(TemporalTracing.Tags.Outcome, "cancelled");
                throw;
            }
            catch (Exception e)
            {
                TemporalTracing.RecordError(span, e);
                throw;
            }
        }

        // As the activity-failure metric counts it (Orders/Telemetry): the attempt's own cancellation.
        private static bool IsCancellation(Exception e) =>
            e is OperationCanceledException && ActivityExecutionContext.Current.CancellationToken.IsCancellationRequested;
    }
}

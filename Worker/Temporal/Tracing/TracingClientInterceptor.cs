using System.Diagnostics;
using Temporalio.Client;
using Temporalio.Client.Interceptors;

namespace Worker.Temporal.Tracing;

/// <summary>
/// A client span around start (and signal-with-start), signal, query, update and cancel, child of the current span
/// (an API request's, say), whose context travels to the worker in the call's Temporal headers. When no listener
/// records the span, the current span's context travels instead, so the worker still logs the request's trace id.
/// </summary>
public sealed class TracingClientInterceptor : IClientInterceptor
{
    public ClientOutboundInterceptor InterceptClient(ClientOutboundInterceptor nextInterceptor) => new Outbound(nextInterceptor);

    private static Activity? Start(string name, string workflowId) =>
        TemporalTracing.ClientSource.StartActivity(name, ActivityKind.Client)?.SetTag(TemporalTracing.Tags.WorkflowId, workflowId);

    private static ActivityContext Propagated(Activity? span) => (span ?? Activity.Current)?.Context ?? default;

    private sealed class Outbound(ClientOutboundInterceptor next) : ClientOutboundInterceptor(next)
    {
        public override async Task<WorkflowHandle<TWorkflow, TResult>> StartWorkflowAsync<TWorkflow, TResult>(StartWorkflowInput input)
        {
            var verb = input.Options.StartSignal is null ? "StartWorkflow" : "SignalWithStartWorkflow";
            using var span = Start($"{verb}:{input.Workflow}", input.Options.Id ?? "");
            span?.SetTag(TemporalTracing.Tags.WorkflowType, input.Workflow).SetTag(TemporalTracing.Tags.TaskQueue, input.Options.TaskQueue);
            try
            {
                var handle = await base.StartWorkflowAsync<TWorkflow, TResult>(
                    input with { Headers = TemporalTracing.Inject(input.Headers, Propagated(span)) });
                span?.SetTag(TemporalTracing.Tags.RunId, handle.ResultRunId);
                return handle;
            }
            catch (Exception e)
            {
                TemporalTracing.RecordError(span, e);
                throw;
            }
        }

        public override async Task SignalWorkflowAsync(SignalWorkflowInput input)
        {
            using var span = Start($"SignalWorkflow:{input.Signal}", input.Id);
            try
            {
                await base.SignalWorkflowAsync(input with { Headers = TemporalTracing.Inject(input.Headers, Propagated(span)) });
            }
            catch (Exception e)
            {
                TemporalTracing.RecordError(span, e);
                throw;
            }
        }

        public override async Task<TResult> QueryWorkflowAsync<TResult>(QueryWorkflowInput input)
        {
            using var span = Start($"QueryWorkflow:{input.Query}", input.Id);
            try
            {
                return await base.QueryWorkflowAsync<TResult>(input with { Headers = TemporalTracing.Inject(input.Headers, Propagated(span)) });
            }
            catch (Exception e)
            {
                TemporalTracing.RecordError(span, e);
                throw;
            }
        }

        public override async Task<WorkflowUpdateHandle<TUpdateResult>> StartWorkflowUpdateAsync<TUpdateResult>(StartWorkflowUpdateInput input)
        {
            using var span = Start($"UpdateWorkflow:{input.Update}", input.Id);
            try
            {
                return await base.StartWorkflowUpdateAsync<TUpdateResult>(
                    input with { Headers = TemporalTracing.Inject(input.Headers, Propagated(span)) });
            }
            catch (Exception e)
            {
                TemporalTracing.RecordError(span, e);
                throw;
            }
        }

        // A cancel request carries no headers: the span records the call, the workflow sees its cancellation.
        public override async Task CancelWorkflowAsync(CancelWorkflowInput input)
        {
            using var span = Start("CancelWorkflow", input.Id);
            try
            {
                await base.CancelWorkflowAsync(input);
            }
            catch (Exception e)
            {
                TemporalTracing.RecordError(span, e);
                throw;
            }
        }
    }
}

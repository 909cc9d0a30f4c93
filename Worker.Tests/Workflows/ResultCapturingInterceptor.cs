using System.Collections.Concurrent;
using Temporalio.Worker.Interceptors;
using Temporalio.Workflows;

namespace Worker.Tests.Workflows;

/// <summary>
/// Replay does not compare results with the history, so this interceptor records what the workflow code
/// returned during replay, keyed by workflow id, for the test to assert on.
/// </summary>
public sealed class ResultCapturingInterceptor : IWorkerInterceptor
{
    public ConcurrentDictionary<string, object?> Results { get; } = new();

    public WorkflowInboundInterceptor InterceptWorkflow(WorkflowInboundInterceptor nextInterceptor) => new Inbound(nextInterceptor, this);

    private sealed class Inbound(WorkflowInboundInterceptor next, ResultCapturingInterceptor owner) : WorkflowInboundInterceptor(next)
    {
        public override async Task<object?> ExecuteWorkflowAsync(ExecuteWorkflowInput input)
        {
            var result = await base.ExecuteWorkflowAsync(input);
            owner.Results[Workflow.Info.WorkflowId] = result;
            return result;
        }
    }
}

using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Options;
using Temporalio.Client;
using Worker.Temporal;
using Worker.Temporal.Tracing;

namespace Worker.Tests.Tracing;

/// <summary>
/// A worker without a workflow cache: every workflow task rebuilds the workflow by replaying its history from the
/// start. Workflow spans and workflow log lines must still appear once each.
/// </summary>
public sealed class ReplayTracingTests(ReplayingTracingEnvironment env) : IClassFixture<ReplayingTracingEnvironment>
{
    [Fact]
    public async Task Replayed_workflow_makes_one_run_span_one_span_per_signal_and_keeps_its_activities_under_the_run()
    {
        var id = $"replay-{Guid.NewGuid():N}"[..30];
        var workflowId = OrderEndpoints.WorkflowId(id);
        await env.PlaceOrderAsync(id, "tok_visa", new OrderLine("ROASTER-PRO", 1));
        await env.WaitForStatusAsync(id, OrderStatus.AwaitingApproval);

        Assert.Equal(HttpStatusCode.Accepted, (await env.Api.PostAsync($"/api/orders/{id}/approve", null)).StatusCode);
        Assert.Equal(OrderStatus.Completed, (await env.ResultAsync(id, "traced-replay")).Status);

        var spans = await env.WaitForSpansAsync(workflowId, s => s.Any(x => x.DisplayName == "CompleteWorkflow:OrderWorkflow"));
        Assert.True(env.Replays.GetValueOrDefault(workflowId) >= 3, $"replays: {env.Replays.GetValueOrDefault(workflowId)}");
        var run = Assert.Single(spans, s => s.DisplayName == "RunWorkflow:OrderWorkflow");
        Assert.Single(spans, s => s.DisplayName == "CompleteWorkflow:OrderWorkflow");
        var signal = Assert.Single(spans, s => s.DisplayName == "HandleSignal:Approve");
        var sent = Assert.Single(spans, s => s.DisplayName == "SignalWorkflow:Approve");
        Assert.Equal(sent.SpanId, signal.ParentSpanId);
        Assert.Equal(run.SpanId, Assert.Single(signal.Links).Context.SpanId);
        var attempts = spans.Where(s => s.Source.Name == TemporalTracing.ActivitySource.Name).ToArray();
        Assert.Contains(attempts, a => a.DisplayName == "RunActivity:ShipOrder");
        Assert.All(attempts, a => Assert.Equal(run.SpanId, a.ParentSpanId));
        Assert.DoesNotContain(spans, s => s.DisplayName.StartsWith("WorkflowTaskFailed", StringComparison.Ordinal));
    }

    [Fact]
    public async Task Workflow_logger_writes_each_line_once_through_replays_with_workflow_and_run_ids()
    {
        var workflowId = $"log-probe-{Guid.NewGuid():N}";
        var taskQueue = env.Factory.Services.GetRequiredService<IOptions<TemporalSettings>>().Value.TaskQueue;

        var handle = await env.Temporal.StartWorkflowAsync((LoggingProbeWorkflow wf) => wf.RunAsync(), new WorkflowOptions(workflowId, taskQueue));
        await handle.GetResultAsync().WaitAsync(TimeSpan.FromSeconds(30));

        Assert.True(env.Replays.GetValueOrDefault(workflowId) >= 1, "the timer's task should have replayed the workflow");
        var lines = env.Logs.Entries.Where(e => e.Message.StartsWith("probe ", StringComparison.Ordinal) && e.Field("WorkflowId") == workflowId).ToArray();
        Assert.Equal(["probe before timer", "probe after timer"], lines.Select(l => l.Message));
        Assert.All(lines, l => Assert.Contains(handle.ResultRunId!, l.Fields.Values.Select(v => v?.ToString())));
    }
}

using System.Diagnostics;
using Worker.Temporal.Tracing;

namespace Worker.Tests.Tracing;

/// <summary>
/// One order end to end (HTTP API → Temporal test server → worker → PostgreSQL, Redis, payment gateway) and the
/// trace it leaves: one trace from the API request down to each database call of each activity attempt, and the log
/// lines written inside activities carrying the workflow, the run, the activity and the trace.
/// </summary>
public sealed class SpanTreeTests(TracingEnvironment env) : IClassFixture<TracingEnvironment>
{
    private static readonly string[] ForwardSteps = ["ReserveInventory", "ChargePayment", "ShipOrder"];

    [Fact]
    public async Task Order_is_one_trace_from_the_api_request_through_the_workflow_run_to_every_activity_attempt_and_its_queries()
    {
        var id = $"trace-{Guid.NewGuid():N}"[..30];
        var workflowId = OrderEndpoints.WorkflowId(id);

        Assert.Equal(HttpStatusCode.Accepted, (await env.PlaceOrderAsync(id)).StatusCode);
        Assert.Equal(OrderStatus.Completed, (await env.ResultAsync(id, "traced")).Status);

        var spans = await env.WaitForSpansAsync(workflowId, s =>
            s.Any(x => x.DisplayName == "CompleteWorkflow:OrderWorkflow") && ForwardSteps.All(step => s.Any(x => x.DisplayName == $"RunActivity:{step}")));
        var all = env.Spans.Snapshot();
        var start = Assert.Single(spans, s => s.DisplayName == "StartWorkflow:OrderWorkflow");
        var run = Assert.Single(spans, s => s.DisplayName == "RunWorkflow:OrderWorkflow");
        var http = Assert.Single(all, s => s.SpanId == start.ParentSpanId);
        var attempts = spans.Where(s => s.Source.Name == TemporalTracing.ActivitySource.Name).ToArray();

        Assert.Equal(ActivityKind.Server, http.Kind);
        Assert.Equal("POST", http.GetTagItem("http.request.method"));
        Assert.Equal("/api/orders", http.GetTagItem("url.path"));
        Assert.Equal(ActivityKind.Client, start.Kind);
        Assert.Equal(start.SpanId, run.ParentSpanId);
        Assert.Equal(run.GetTagItem(TemporalTracing.Tags.RunId), start.GetTagItem(TemporalTracing.Tags.RunId));
        Assert.All(ForwardSteps, step => Assert.Contains(attempts, a => a.DisplayName == $"RunActivity:{step}"));
        Assert.All(attempts, attempt =>
        {
            Assert.Equal(run.SpanId, attempt.ParentSpanId);
            Assert.Equal(ActivityKind.Server, attempt.Kind);
            Assert.Equal(1, attempt.GetTagItem(TemporalTracing.Tags.Attempt));
            Assert.Equal(attempt.DisplayName["RunActivity:".Length..], attempt.GetTagItem(TemporalTracing.Tags.ActivityType));
            Assert.Equal(run.GetTagItem(TemporalTracing.Tags.RunId), attempt.GetTagItem(TemporalTracing.Tags.RunId));
            Assert.Equal(run.GetTagItem(TemporalTracing.Tags.TaskQueue), attempt.GetTagItem(TemporalTracing.Tags.TaskQueue));
            Assert.Equal("ok", attempt.GetTagItem(TemporalTracing.Tags.Outcome));
            Assert.Equal(ActivityStatusCode.Unset, attempt.Status);
        });
        var queries = all.Where(s => s.Source.Name == TracingHostingExtensions.NpgsqlSource && attempts.Any(a => a.SpanId == s.ParentSpanId)).ToArray();
        Assert.NotEmpty(queries);
        Assert.Contains(queries, q => attempts.Single(a => a.SpanId == q.ParentSpanId).DisplayName == "RunActivity:ReserveInventory");
        Assert.All(new[] { http, start, run }.Concat(attempts).Concat(queries), s => Assert.Equal(http.TraceId, s.TraceId));
    }

    [Fact]
    public async Task Log_lines_written_inside_an_activity_carry_workflow_run_activity_and_trace()
    {
        var id = $"logs-{Guid.NewGuid():N}"[..30];
        var workflowId = OrderEndpoints.WorkflowId(id);

        await env.PlaceOrderAsync(id);
        Assert.Equal(OrderStatus.Completed, (await env.ResultAsync(id, "traced-logs")).Status);

        var spans = await env.WaitForSpansAsync(workflowId, s => s.Any(x => x.DisplayName == "RunActivity:ChargePayment"));
        var charge = Assert.Single(spans, s => s.DisplayName == "RunActivity:ChargePayment");
        // The payment gateway's HTTP client logs each request: written by library code, inside the ChargePayment attempt.
        var lines = env.Logs.Entries.Where(e => e.Field("WorkflowId") == workflowId && e.Category.StartsWith("System.Net.Http.HttpClient", StringComparison.Ordinal)).ToArray();
        Assert.NotEmpty(lines);
        Assert.All(lines, line =>
        {
            Assert.Equal("ChargePayment", line.Field("ActivityType"));
            Assert.Equal(charge.GetTagItem(TemporalTracing.Tags.RunId), line.Field("WorkflowRunId"));
            Assert.Equal(charge.TraceId.ToHexString(), line.Field("TraceId"));
        });
    }

    [Fact]
    public async Task Failed_attempt_span_is_an_error_with_the_error_type()
    {
        var id = $"declined-{Guid.NewGuid():N}"[..30];
        var workflowId = OrderEndpoints.WorkflowId(id);
        env.Gateway.ChargeStatus = HttpStatusCode.PaymentRequired;
        try
        {
            await env.PlaceOrderAsync(id);
            Assert.Equal(OrderStatus.Failed, (await env.ResultAsync(id, "traced-declined")).Status);
        }
        finally
        {
            env.Gateway.ChargeStatus = HttpStatusCode.OK;
        }

        var spans = await env.WaitForSpansAsync(workflowId, s => s.Any(x => x.DisplayName == "CompleteWorkflow:OrderWorkflow"));
        var charge = Assert.Single(spans, s => s.DisplayName == "RunActivity:ChargePayment");
        Assert.Equal(ActivityStatusCode.Error, charge.Status);
        Assert.Equal("error", charge.GetTagItem(TemporalTracing.Tags.Outcome));
        Assert.Equal(Worker.Orders.OrderErrors.PaymentDeclined, charge.GetTagItem(TemporalTracing.Tags.ErrorType));
    }
}

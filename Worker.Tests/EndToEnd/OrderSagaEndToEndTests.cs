using Temporalio.Api.Enums.V1;
using Worker.Orders.Payments;

namespace Worker.Tests.EndToEnd;

/// <summary>The saga end to end: HTTP API → Temporal → worker → PostgreSQL and Redis, each path of the workflow.</summary>
public sealed class OrderSagaEndToEndTests(EndToEndEnvironment env) : IClassFixture<EndToEndEnvironment>
{
    private static string NewId(string prefix) => $"{prefix}-{Guid.NewGuid():N}"[..30];

    [Fact]
    public async Task Happy_path_completes_with_stock_payment_and_shipment_recorded_and_reads_from_cache()
    {
        var id = NewId("happy");
        var stockBefore = await env.Database.StockAsync("GRINDER");

        var response = await env.PlaceOrderAsync(id, "tok_visa", new OrderLine("GRINDER", 2));

        Assert.Equal(HttpStatusCode.Accepted, response.StatusCode);
        Assert.Equal($"/api/orders/{id}", response.Headers.Location!.OriginalString);
        var result = await env.ResultAsync(id, "happy-path");
        Assert.Equal(OrderStatus.Completed, result.Status);
        Assert.Equal(stockBefore - 2, await env.Database.StockAsync("GRINDER"));
        Assert.Equal(298m, await env.Database.ScalarAsync<decimal>("SELECT amount FROM payments WHERE order_id = @p0 AND kind = 'charge'", id));
        Assert.Equal("Shipped", await env.Database.ScalarAsync<string>("SELECT status FROM shipments WHERE order_id = @p0", id));
        var read = await env.Api.GetAsync($"/api/orders/{id}");
        Assert.Equal("hit", read.Headers.GetValues("X-Cache").Single());
        Assert.Equal(OrderStatus.Completed, (await read.Content.ReadFromJsonAsync<OrderView>())!.Status);
    }

    [Fact]
    public async Task Declined_payment_is_compensated_stock_restored_and_nothing_charged()
    {
        var id = NewId("decline");
        var stockBefore = await env.Database.StockAsync("TAMPER");

        await env.PlaceOrderAsync(id, LedgerPaymentGateway.DeclinedPaymentToken, new OrderLine("TAMPER", 3));

        var result = await env.ResultAsync(id, "payment-declined");
        Assert.Equal(OrderStatus.Failed, result.Status);
        Assert.Contains("declined", result.FailureReason, StringComparison.OrdinalIgnoreCase);
        Assert.Equal(stockBefore, await env.Database.StockAsync("TAMPER"));
        Assert.Equal(0L, await env.Database.ScalarAsync<long>("SELECT count(*) FROM payments WHERE order_id = @p0", id));
        Assert.Equal(OrderStatus.Failed, (await env.GetOrderAsync(id)).Status);
    }

    [Fact]
    public async Task Out_of_stock_fails_without_touching_stock()
    {
        var id = NewId("oos");
        var stockBefore = await env.Database.StockAsync("ROASTER-PRO");

        await env.PlaceOrderAsync(id, "tok_visa", new OrderLine("ROASTER-PRO", 1000));

        var result = await env.ResultAsync(id, "out-of-stock");
        Assert.Equal(OrderStatus.Failed, result.Status);
        // Failed because of the stock, not any failure: the reservation was refused as OutOfStock, naming the line,
        // and nothing after it ran.
        Assert.Equal("Out of stock: ROASTER-PRO x1000", result.FailureReason);
        Assert.Equal(result.FailureReason, (await env.GetOrderAsync(id)).FailureReason);
        var events = (await env.Temporal.GetWorkflowHandle(OrderEndpoints.WorkflowId(id)).FetchHistoryAsync()).Events.ToList();
        var refusal = Assert.Single(events, e => e.EventType == EventType.ActivityTaskFailed).ActivityTaskFailedEventAttributes.Failure;
        Assert.Equal(OrderErrors.OutOfStock, refusal.ApplicationFailureInfo.Type);
        Assert.DoesNotContain(events, e => e.ActivityTaskScheduledEventAttributes?.ActivityType.Name == OrderActivities.Names.ChargePayment);
        Assert.Equal(stockBefore, await env.Database.StockAsync("ROASTER-PRO"));
    }

    [Fact]
    public async Task Large_order_waits_for_approval_then_ships()
    {
        var id = NewId("approve");
        await env.PlaceOrderAsync(id, "tok_visa", new OrderLine("ROASTER-PRO", 1));
        await env.WaitForStatusAsync(id, OrderStatus.AwaitingApproval);
        var progress = await env.Temporal.GetWorkflowHandle<OrderWorkflow>(OrderEndpoints.WorkflowId(id)).QueryAsync(wf => wf.GetStatus());
        Assert.Equal("AwaitingApproval", progress.Step);

        var approve = await env.Api.PostAsync($"/api/orders/{id}/approve", null);

        Assert.Equal(HttpStatusCode.Accepted, approve.StatusCode);
        Assert.Equal(OrderStatus.Completed, (await env.ResultAsync(id, "approved")).Status);
        Assert.Equal(4999m, await env.Database.ScalarAsync<decimal>("SELECT amount FROM payments WHERE order_id = @p0", id));
    }

    [Fact]
    public async Task Rejected_order_is_compensated()
    {
        var id = NewId("reject");
        var stockBefore = await env.Database.StockAsync("ROASTER-PRO");
        await env.PlaceOrderAsync(id, "tok_visa", new OrderLine("ROASTER-PRO", 1));
        await env.WaitForStatusAsync(id, OrderStatus.AwaitingApproval);

        await env.Api.PostAsync($"/api/orders/{id}/reject", null);

        Assert.Equal(OrderStatus.Rejected, (await env.ResultAsync(id, "rejected")).Status);
        Assert.Equal(stockBefore, await env.Database.StockAsync("ROASTER-PRO"));
        var late = await env.Api.PostAsync($"/api/orders/{id}/approve", null);
        Assert.Equal(HttpStatusCode.Conflict, late.StatusCode);
    }

    [TimeSkippingFact]
    public async Task Unanswered_approval_times_out_after_24_hours_of_skipped_time_and_is_compensated()
    {
        var id = NewId("timeout");
        var stockBefore = await env.Database.StockAsync("ROASTER-PRO");
        await env.PlaceOrderAsync(id, "tok_visa", new OrderLine("ROASTER-PRO", 1));
        await env.WaitForStatusAsync(id, OrderStatus.AwaitingApproval);

        var result = await env.ResultAsync(id, "approval-timeout");

        Assert.Equal(OrderStatus.Cancelled, result.Status);
        Assert.StartsWith("Approval timed out", result.FailureReason);
        Assert.Equal(stockBefore, await env.Database.StockAsync("ROASTER-PRO"));
    }

    [Fact]
    public async Task Same_post_twice_is_one_workflow_and_one_reservation_and_another_body_is_409()
    {
        var id = NewId("idem");

        var first = await env.PlaceOrderAsync(id, "tok_visa", new OrderLine("MILK-FROTHER", 1));
        var second = await env.PlaceOrderAsync(id, "tok_visa", new OrderLine("MILK-FROTHER", 1));
        var conflict = await env.PlaceOrderAsync(id, "tok_visa", new OrderLine("MILK-FROTHER", 2));

        Assert.Equal(HttpStatusCode.Accepted, first.StatusCode);
        Assert.Equal(HttpStatusCode.Accepted, second.StatusCode);
        var (firstBody, secondBody) = (await first.Content.ReadFromJsonAsync<OrderAccepted>(), await second.Content.ReadFromJsonAsync<OrderAccepted>());
        Assert.Equal(OrderStatus.Pending, firstBody!.Status);
        Assert.Equal(firstBody with { Status = secondBody!.Status }, secondBody);
        Assert.Equal(HttpStatusCode.Conflict, conflict.StatusCode);
        await env.ResultAsync(id, "idempotent-post");
        var after = await env.PlaceOrderAsync(id, "tok_visa", new OrderLine("MILK-FROTHER", 1));
        Assert.Equal(HttpStatusCode.Accepted, after.StatusCode);
        Assert.Equal(OrderStatus.Completed, (await after.Content.ReadFromJsonAsync<OrderAccepted>())!.Status);
        Assert.Equal(1L, await env.Database.ScalarAsync<long>("SELECT count(*) FROM reservations WHERE order_id = @p0", id));
        var history = await env.Temporal.GetWorkflowHandle(OrderEndpoints.WorkflowId(id)).FetchHistoryAsync();
        Assert.Single(history.Events, e => e.EventType == EventType.WorkflowExecutionStarted);
    }

    [Fact]
    public async Task Readiness_is_healthy_and_temporal_sdk_metrics_are_scraped()
    {
        var health = await env.Api.GetAsync("/health");
        // The worker's first poll (and its metrics) may follow the first healthy answer by a moment.
        var metrics = "";
        await Wait.UntilAsync(async () => (metrics = await env.Api.GetStringAsync("/metrics")).Contains("poll", StringComparison.Ordinal));

        Assert.Equal(HttpStatusCode.OK, health.StatusCode);
        Assert.Contains("temporal_", metrics, StringComparison.Ordinal);
        Assert.Contains("poll", metrics, StringComparison.Ordinal);
    }
}

namespace Worker.Tests.EndToEnd;

public sealed class CancelDuringShippingTests(SlowShippingEnvironment env) : IClassFixture<SlowShippingEnvironment>
{
    [Fact]
    public async Task Cancel_while_shipping_reaches_the_activity_through_its_heartbeat_and_everything_is_compensated()
    {
        var id = $"ship-cancel-{Guid.NewGuid():N}"[..30];
        var stockBefore = await env.Database.StockAsync("ESPRESSO-MACHINE");
        await env.PlaceOrderAsync(id, "tok_visa", new OrderLine("ESPRESSO-MACHINE", 1));
        await env.WaitForStatusAsync(id, OrderStatus.Shipping);

        var cancel = await env.Api.PostAsync($"/api/orders/{id}/cancel", null);

        Assert.Equal(HttpStatusCode.Accepted, cancel.StatusCode);
        var result = await env.ResultAsync(id, "cancel-during-shipping");
        Assert.Equal(OrderStatus.Cancelled, result.Status);
        Assert.Equal("Cancelled", await env.Database.ScalarAsync<string>("SELECT status FROM shipments WHERE order_id = @p0", id));
        Assert.Equal(0m, await env.Database.ScalarAsync<decimal>("SELECT sum(amount) FROM payments WHERE order_id = @p0", id));
        Assert.Equal(stockBefore, await env.Database.StockAsync("ESPRESSO-MACHINE"));
        Assert.Equal(HttpStatusCode.Conflict, (await env.Api.PostAsync($"/api/orders/{id}/cancel", null)).StatusCode);
    }

    [Fact]
    public async Task Workflow_cancel_while_shipping_cancels_the_shipment_and_compensates_like_the_signal()
    {
        var id = $"wf-ship-cancel-{Guid.NewGuid():N}"[..30];
        var stockBefore = await env.Database.StockAsync("GRINDER");
        await env.PlaceOrderAsync(id, "tok_visa", new OrderLine("GRINDER", 1));
        await env.WaitForStatusAsync(id, OrderStatus.Shipping);

        await env.Temporal.GetWorkflowHandle(OrderEndpoints.WorkflowId(id)).CancelAsync();

        var result = await env.ResultAsync(id, "workflow-cancel-during-shipping");
        Assert.Equal(OrderStatus.Cancelled, result.Status);
        Assert.Equal("Cancelled", await env.Database.ScalarAsync<string>("SELECT status FROM shipments WHERE order_id = @p0", id));
        Assert.Equal(0m, await env.Database.ScalarAsync<decimal>("SELECT sum(amount) FROM payments WHERE order_id = @p0", id));
        Assert.Equal(stockBefore, await env.Database.StockAsync("GRINDER"));
        Assert.Equal(OrderStatus.Cancelled, (await env.GetOrderAsync(id)).Status);
    }

    [Fact]
    public async Task Terminated_while_shipping_a_repeated_post_finishes_the_order_charging_and_reserving_once()
    {
        var id = $"terminated-{Guid.NewGuid():N}"[..30];
        var stockBefore = await env.Database.StockAsync("BEANS-1KG");
        await env.PlaceOrderAsync(id, "tok_visa", new OrderLine("BEANS-1KG", 2));
        await env.WaitForStatusAsync(id, OrderStatus.Shipping);
        await env.Temporal.GetWorkflowHandle(OrderEndpoints.WorkflowId(id)).TerminateAsync("operator");

        var repeat = await env.PlaceOrderAsync(id, "tok_visa", new OrderLine("BEANS-1KG", 2));

        Assert.Equal(HttpStatusCode.Accepted, repeat.StatusCode);
        Assert.Equal(OrderStatus.Completed, (await env.ResultAsync(id, "terminated-then-reposted")).Status);
        Assert.Equal(1L, await env.Database.ScalarAsync<long>("SELECT count(*) FROM payments WHERE order_id = @p0", id));
        Assert.Equal(stockBefore - 2, await env.Database.StockAsync("BEANS-1KG"));
        Assert.Equal("Shipped", await env.Database.ScalarAsync<string>("SELECT status FROM shipments WHERE order_id = @p0", id));
    }

    [Fact]
    public async Task Terminated_after_approval_a_repeated_post_finishes_the_order_without_asking_again()
    {
        var id = $"terminated-big-{Guid.NewGuid():N}"[..30];
        await env.PlaceOrderAsync(id, "tok_visa", new OrderLine("ROASTER-PRO", 1));
        await env.WaitForStatusAsync(id, OrderStatus.AwaitingApproval);
        await env.Api.PostAsync($"/api/orders/{id}/approve", null);
        await env.WaitForStatusAsync(id, OrderStatus.Shipping);
        await env.Temporal.GetWorkflowHandle(OrderEndpoints.WorkflowId(id)).TerminateAsync("operator");

        await env.PlaceOrderAsync(id, "tok_visa", new OrderLine("ROASTER-PRO", 1));

        Assert.Equal(OrderStatus.Completed, (await env.ResultAsync(id, "terminated-after-approval-then-reposted")).Status);
        Assert.Equal(4999m, await env.Database.ScalarAsync<decimal>("SELECT sum(amount) FROM payments WHERE order_id = @p0", id));
    }
}

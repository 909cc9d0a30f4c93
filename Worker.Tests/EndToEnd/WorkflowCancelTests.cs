using Npgsql;
using Temporalio.Client;
using Worker.Orders.Payments;

namespace Worker.Tests.EndToEnd;

/// <summary>
/// A workflow cancel (the Temporal UI's Cancel button, <c>temporal workflow cancel</c>) during each step: the
/// step reaches its real outcome, the workflow compensates what actually happened, and nothing moves the
/// order after it is cancelled.
/// </summary>
public sealed class WorkflowCancelTests(EndToEndEnvironment env) : IClassFixture<EndToEndEnvironment>
{
    [Fact]
    public async Task Cancel_during_reserve_waits_for_the_reservation_and_releases_it()
    {
        var id = $"cancel-reserve-{Guid.NewGuid():N}"[..30];
        var sku = await env.Database.AddProductAsync(10m, 5);
        // Hold the product row so ReserveInventory blocks inside its transaction, then cancel the workflow.
        await using var blocker = await env.Database.DataSource.OpenConnectionAsync();
        await using var hold = await blocker.BeginTransactionAsync();
        await new NpgsqlCommand($"SELECT 1 FROM products WHERE sku = '{sku}' FOR UPDATE", blocker, hold).ExecuteNonQueryAsync();
        await env.PlaceOrderAsync(id, "tok_visa", new OrderLine(sku, 2));
        await Wait.UntilAsync(async () => await env.Database.ScalarAsync<long>(
            "SELECT count(*) FROM pg_stat_activity WHERE datname = current_database() AND wait_event_type = 'Lock'") > 0);

        await env.Temporal.GetWorkflowHandle(OrderEndpoints.WorkflowId(id)).CancelAsync();
        await Task.Delay(300);
        await hold.CommitAsync();

        var result = await env.ResultAsync(id, "workflow-cancel-during-reserve");
        Assert.Equal(OrderStatus.Cancelled, result.Status);
        Assert.Equal(5, await env.Database.StockAsync(sku));
        Assert.Equal(1L, await env.Database.ScalarAsync<long>(
            "SELECT count(*) FROM reservations WHERE order_id = @p0 AND released_at IS NOT NULL", id));
        Assert.Equal(0L, await env.Database.ScalarAsync<long>("SELECT count(*) FROM payments WHERE order_id = @p0", id));
        Assert.Equal(OrderStatus.Cancelled, (await env.GetOrderAsync(id)).Status);
    }
}

/// <summary>A workflow cancel while a slow payment gateway is charging: the charge finishes and is refunded.</summary>
public sealed class WorkflowCancelDuringChargeTests(SlowGatewayEnvironment env) : IClassFixture<SlowGatewayEnvironment>
{
    [Fact]
    public async Task Cancel_during_a_slow_charge_refunds_it_records_compensating_and_the_order_stays_cancelled()
    {
        var id = $"cancel-charge-{Guid.NewGuid():N}"[..30];
        var stockBefore = await env.Database.StockAsync("MILK-FROTHER");
        await env.PlaceOrderAsync(id, "tok_visa", new OrderLine("MILK-FROTHER", 1));
        await Wait.UntilAsync(() => Task.FromResult(env.Gateway.CallsTo("/charges").Any(c => c.IdempotencyKey == $"charge-{id}")));
        var handle = env.Temporal.GetWorkflowHandle<OrderWorkflow>(OrderEndpoints.WorkflowId(id));

        await handle.CancelAsync();

        // The refund takes as long as the charge: while it runs, the database and the query say Compensating.
        await Wait.UntilAsync(() => Task.FromResult(env.Gateway.CallsTo("/refunds").Any(c => c.IdempotencyKey == HttpPaymentGateway.RefundIdempotencyKey(id))));
        Assert.Equal(OrderStatus.Compensating, (await env.GetOrderAsync(id)).Status);
        var progress = await handle.QueryAsync(wf => wf.GetStatus());
        Assert.Equal(("Compensating", OrderStatus.Compensating, "Cancelled by request"), (progress.Step, progress.Status, progress.FailureReason));

        var result = await env.ResultAsync(id, "workflow-cancel-during-charge");
        Assert.Equal(OrderStatus.Cancelled, result.Status);
        var charge = Assert.Single(env.Gateway.CallsTo("/charges"), c => c.IdempotencyKey == $"charge-{id}");
        var refund = Assert.Single(env.Gateway.CallsTo("/refunds"), c => c.IdempotencyKey == HttpPaymentGateway.RefundIdempotencyKey(id));
        Assert.Equal(charge.IdempotencyKey, refund.Body.GetProperty("chargeIdempotencyKey").GetString());
        Assert.Equal(id, charge.Body.GetProperty("orderId").GetString());
        Assert.Equal(0m, await env.Database.ScalarAsync<decimal>("SELECT sum(amount) FROM payments WHERE order_id = @p0", id));
        Assert.Equal(stockBefore, await env.Database.StockAsync("MILK-FROTHER"));
        // Nothing that was still running moves the order afterwards.
        await Task.Delay(SlowGatewayEnvironment.GatewayDelay);
        Assert.Equal("Cancelled", await env.Database.ScalarAsync<string>("SELECT status FROM orders WHERE id = @p0", id));
        Assert.Equal(OrderStatus.Cancelled, (await env.GetOrderAsync(id)).Status);
    }

    [Fact]
    public async Task Cancel_signal_during_a_slow_charge_behaves_the_same()
    {
        var id = $"signal-charge-{Guid.NewGuid():N}"[..30];
        await env.PlaceOrderAsync(id, "tok_visa", new OrderLine("MILK-FROTHER", 1));
        await Wait.UntilAsync(() => Task.FromResult(env.Gateway.CallsTo("/charges").Any(c => c.IdempotencyKey == $"charge-{id}")));

        var cancel = await env.Api.PostAsync($"/api/orders/{id}/cancel", null);

        Assert.Equal(HttpStatusCode.Accepted, cancel.StatusCode);
        Assert.Equal(OrderStatus.Cancelled, (await env.ResultAsync(id, "cancel-signal-during-charge")).Status);
        Assert.Equal(0m, await env.Database.ScalarAsync<decimal>("SELECT sum(amount) FROM payments WHERE order_id = @p0", id));
        Assert.Single(env.Gateway.CallsTo("/refunds"), c => c.IdempotencyKey == HttpPaymentGateway.RefundIdempotencyKey(id));
    }

    [Fact]
    public async Task Terminated_while_compensating_a_repeated_post_finishes_the_compensation()
    {
        var id = $"term-comp-{Guid.NewGuid():N}"[..30];
        var stockBefore = await env.Database.StockAsync("GRINDER");
        await env.PlaceOrderAsync(id, "tok_visa", new OrderLine("GRINDER", 1));
        await Wait.UntilAsync(() => Task.FromResult(env.Gateway.CallsTo("/charges").Any(c => c.IdempotencyKey == $"charge-{id}")));
        var handle = env.Temporal.GetWorkflowHandle(OrderEndpoints.WorkflowId(id));
        await handle.CancelAsync();
        await Wait.UntilAsync(async () =>
            await env.Database.ScalarAsync<string>("SELECT status FROM orders WHERE id = @p0", id) == "Compensating");
        await handle.TerminateAsync("operator");

        var repeat = await env.PlaceOrderAsync(id, "tok_visa", new OrderLine("GRINDER", 1));

        Assert.Equal(OrderStatus.Compensating, (await repeat.Content.ReadFromJsonAsync<OrderAccepted>())!.Status);
        Assert.Equal(OrderStatus.Cancelled, (await env.ResultAsync(id, "terminated-while-compensating-then-reposted")).Status);
        Assert.Equal(stockBefore, await env.Database.StockAsync("GRINDER"));
        Assert.Equal(0m, await env.Database.ScalarAsync<decimal>("SELECT sum(amount) FROM payments WHERE order_id = @p0", id));
        Assert.Equal("Cancelled by request", await env.Database.ScalarAsync<string>("SELECT failure_reason FROM orders WHERE id = @p0", id));
    }
}

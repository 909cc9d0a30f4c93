using Temporalio.Exceptions;
using Temporalio.Testing;

namespace Worker.Tests.Activities;

/// <summary>The status rules every saga step obeys: a finished order stays finished, a compensation is never undone.</summary>
public sealed class OrderStatusGuardTests(OrdersDatabase db) : IClassFixture<OrdersDatabase>
{
    private readonly ActivityEnvironment env = new();

    [Theory]
    [InlineData(OrderStatus.Completed, OrderStatus.Cancelled)]
    [InlineData(OrderStatus.Cancelled, OrderStatus.AwaitingApproval)]
    [InlineData(OrderStatus.Failed, OrderStatus.Compensating)]
    [InlineData(OrderStatus.Compensating, OrderStatus.AwaitingApproval)]
    public async Task A_status_record_that_would_move_the_order_back_changes_nothing(OrderStatus current, OrderStatus recorded)
    {
        await using var harness = await ActivityHarness.CreateAsync(db, null);
        var order = await db.AddOrderAsync([new("TAMPER", 1)], current);

        await env.RunAsync(() => harness.Activities.RecordOrderStatusAsync(new(order, recorded, "late")));

        Assert.Equal(current.ToString(), await db.ScalarAsync<string>("SELECT status FROM orders WHERE id = @p0", order));
    }

    [Fact]
    public async Task A_final_status_ends_compensating_and_deletes_the_payment_token()
    {
        await using var harness = await ActivityHarness.CreateAsync(db, null);
        var order = await db.AddOrderAsync([new("TAMPER", 1)], OrderStatus.Compensating);
        Assert.Equal(1L, await db.ScalarAsync<long>("SELECT count(*) FROM payment_tokens WHERE order_id = @p0", order));

        await env.RunAsync(() => harness.Activities.RecordOrderStatusAsync(new(order, OrderStatus.Cancelled, "Cancelled by request")));

        Assert.Equal("Cancelled", await db.ScalarAsync<string>("SELECT status FROM orders WHERE id = @p0", order));
        Assert.Equal(0L, await db.ScalarAsync<long>("SELECT count(*) FROM payment_tokens WHERE order_id = @p0", order));
    }

    [Theory]
    [InlineData(OrderStatus.Compensating)]
    [InlineData(OrderStatus.Cancelled)]
    public async Task Forward_steps_are_refused_on_an_order_that_is_compensated_or_finished(OrderStatus status)
    {
        await using var harness = await ActivityHarness.CreateAsync(db, null);
        var sku = await db.AddProductAsync(5m, 10);
        var order = await db.AddOrderAsync([new(sku, 1)], status);

        var reserve = await Assert.ThrowsAsync<ApplicationFailureException>(() =>
            env.RunAsync(() => harness.Activities.ReserveInventoryAsync(new(order, [new(sku, 1)]))));
        var charge = await Assert.ThrowsAsync<ApplicationFailureException>(() =>
            env.RunAsync(() => harness.Activities.ChargePaymentAsync(new(order, null, 5m))));
        var ship = await Assert.ThrowsAsync<ApplicationFailureException>(() =>
            env.RunAsync(() => harness.Activities.ShipOrderAsync(order)));

        Assert.All([reserve, charge, ship], f => Assert.Equal(OrderErrors.OrderClosed, f.ErrorType));
        Assert.All([reserve, charge, ship], f => Assert.True(f.NonRetryable));
        Assert.Equal(10, await db.StockAsync(sku));
        Assert.Equal(0L, await db.ScalarAsync<long>("SELECT count(*) FROM payments WHERE order_id = @p0", order));
        Assert.Equal(0L, await db.ScalarAsync<long>("SELECT count(*) FROM shipments WHERE order_id = @p0", order));
        Assert.Equal(status.ToString(), await db.ScalarAsync<string>("SELECT status FROM orders WHERE id = @p0", order));
    }

    [Fact]
    public async Task Every_change_of_an_order_raises_its_version()
    {
        await using var harness = await ActivityHarness.CreateAsync(db, null);
        var sku = await db.AddProductAsync(5m, 10);
        var order = await db.AddOrderAsync([new(sku, 1)]);
        var versions = new List<long> { await db.ScalarAsync<long>("SELECT version FROM orders WHERE id = @p0", order) };

        await env.RunAsync(() => harness.Activities.ReserveInventoryAsync(new(order, [new(sku, 1)])));
        versions.Add(await db.ScalarAsync<long>("SELECT version FROM orders WHERE id = @p0", order));
        await env.RunAsync(() => harness.Activities.ChargePaymentAsync(new(order, null, 5m)));
        versions.Add(await db.ScalarAsync<long>("SELECT version FROM orders WHERE id = @p0", order));
        await env.RunAsync(() => harness.Activities.RefundPaymentAsync(order));
        versions.Add(await db.ScalarAsync<long>("SELECT version FROM orders WHERE id = @p0", order));

        Assert.Equal(versions.Order(), versions);
        Assert.Equal(versions.Count, versions.Distinct().Count());
    }

    [Theory]
    [InlineData(OrderStatus.Charged, OrderStatus.AwaitingApproval)]
    [InlineData(OrderStatus.Shipping, OrderStatus.AwaitingApproval)]
    [InlineData(OrderStatus.Shipping, OrderStatus.Reserved)]
    public async Task A_forward_status_never_moves_an_order_back_along_the_saga(OrderStatus current, OrderStatus recorded)
    {
        await using var harness = await ActivityHarness.CreateAsync(db, null);
        var order = await db.AddOrderAsync([new("TAMPER", 1)], current);

        var after = await env.RunAsync(() => harness.Activities.RecordOrderStatusAsync(new(order, recorded, null)));

        Assert.Equal(current, after);
        Assert.Equal(current.ToString(), await db.ScalarAsync<string>("SELECT status FROM orders WHERE id = @p0", order));
    }

    [Fact]
    public async Task A_repeated_charge_of_a_shipping_order_returns_the_charge_and_leaves_it_shipping()
    {
        await using var harness = await ActivityHarness.CreateAsync(db, null);
        var order = await db.AddOrderAsync([new("TAMPER", 1)]);
        var first = await env.RunAsync(() => harness.Activities.ChargePaymentAsync(new(order, null, 5m)));
        await db.ExecuteAsync("UPDATE orders SET status = 'Shipping' WHERE id = @p0", order);

        var again = await env.RunAsync(() => harness.Activities.ChargePaymentAsync(new(order, null, 5m)));

        Assert.Equal(first, again);
        Assert.Equal("Shipping", await db.ScalarAsync<string>("SELECT status FROM orders WHERE id = @p0", order));
    }

    [Fact]
    public async Task Compensations_that_arrive_after_the_order_completed_undo_nothing()
    {
        // A cancel from the Temporal UI while a ShipOrder retry waits, after the first attempt had shipped.
        await using var harness = await ActivityHarness.CreateAsync(db, null);
        var sku = await db.AddProductAsync(5m, 10);
        var order = await db.AddOrderAsync([new(sku, 2)]);
        await env.RunAsync(() => harness.Activities.ReserveInventoryAsync(new(order, [new(sku, 2)])));
        await env.RunAsync(() => harness.Activities.ChargePaymentAsync(new(order, null, 10m)));
        await env.RunAsync(() => harness.Activities.ShipOrderAsync(order));

        var after = await env.RunAsync(() => harness.Activities.RecordOrderStatusAsync(new(order, OrderStatus.Compensating, "Cancelled by request")));
        await env.RunAsync(() => harness.Activities.RefundPaymentAsync(order));
        await env.RunAsync(() => harness.Activities.ReleaseInventoryAsync(order));

        Assert.Equal(OrderStatus.Completed, after);
        Assert.Equal(10m, await db.ScalarAsync<decimal>("SELECT sum(amount) FROM payments WHERE order_id = @p0", order));
        Assert.Equal(8, await db.StockAsync(sku));
    }
}

using Temporalio.Exceptions;
using Temporalio.Testing;

namespace Worker.Tests.Activities;

public sealed class InventoryActivityTests(OrdersDatabase db) : IClassFixture<OrdersDatabase>
{
    private readonly ActivityEnvironment env = new();

    [Fact]
    public async Task Reserve_takes_stock_for_every_line_and_returns_the_total()
    {
        await using var harness = await ActivityHarness.CreateAsync(db, TestSettings.RedisConnection);
        var a = await db.AddProductAsync(10.50m, 5);
        var b = await db.AddProductAsync(2m, 100);
        var order = await db.AddOrderAsync([new(a, 2), new(b, 3)]);

        var reservation = await env.RunAsync(() => harness.Activities.ReserveInventoryAsync(new(order, [new(a, 2), new(b, 3)])));

        Assert.Equal(27m, reservation.Total);
        Assert.Equal(3, await db.StockAsync(a));
        Assert.Equal(97, await db.StockAsync(b));
        Assert.Equal(2L, await db.ScalarAsync<long>("SELECT count(*) FROM reservations WHERE order_id = @p0", order));
        Assert.Equal("Reserved", await db.ScalarAsync<string>("SELECT status FROM orders WHERE id = @p0", order));
    }

    [Fact]
    public async Task Reserve_twice_takes_stock_once()
    {
        await using var harness = await ActivityHarness.CreateAsync(db, null);
        var sku = await db.AddProductAsync(1m, 10);
        var order = await db.AddOrderAsync([new(sku, 4)]);

        var first = await env.RunAsync(() => harness.Activities.ReserveInventoryAsync(new(order, [new(sku, 4)])));
        var second = await env.RunAsync(() => harness.Activities.ReserveInventoryAsync(new(order, [new(sku, 4)])));

        Assert.Equal(first, second);
        Assert.Equal(6, await db.StockAsync(sku));
    }

    [Fact]
    public async Task Reserve_after_a_release_closes_the_order_as_Compensating_and_takes_nothing()
    {
        // A saga run again over an order whose stock an earlier run released (a run of a build before the
        // compensation was recorded, terminated between the release and its final status, then re-POSTed) must not
        // hold stock and go on to ship: the refund may already have happened. It records Compensating and refuses, so
        // that the run finishes the compensation instead.
        await using var harness = await ActivityHarness.CreateAsync(db, null);
        var sku = await db.AddProductAsync(2m, 10);
        var order = await db.AddOrderAsync([new(sku, 4)]);
        await env.RunAsync(() => harness.Activities.ReserveInventoryAsync(new(order, [new(sku, 4)])));
        await env.RunAsync(() => harness.Activities.ReleaseInventoryAsync(order));
        Assert.Equal(10, await db.StockAsync(sku));

        var refused = await Assert.ThrowsAsync<ApplicationFailureException>(() =>
            env.RunAsync(() => harness.Activities.ReserveInventoryAsync(new(order, [new(sku, 4)]))));

        Assert.Equal(OrderErrors.OrderClosed, refused.ErrorType);
        Assert.True(refused.NonRetryable);
        Assert.Equal(10, await db.StockAsync(sku));
        Assert.Equal(nameof(OrderStatus.Compensating), await db.ScalarAsync<string>("SELECT status FROM orders WHERE id = @p0", order));
        Assert.Equal(0L, await db.ScalarAsync<long>("SELECT count(*) FROM reservations WHERE order_id = @p0 AND released_at IS NULL", order));
    }

    [Fact]
    public async Task Reserve_out_of_stock_is_non_retryable_and_reserves_nothing()
    {
        await using var harness = await ActivityHarness.CreateAsync(db, null);
        var plenty = await db.AddProductAsync(1m, 100);
        var scarce = await db.AddProductAsync(1m, 1);
        var order = await db.AddOrderAsync([new(plenty, 5), new(scarce, 2)]);

        var failure = await Assert.ThrowsAsync<ApplicationFailureException>(() =>
            env.RunAsync(() => harness.Activities.ReserveInventoryAsync(new(order, [new(plenty, 5), new(scarce, 2)]))));

        Assert.Equal(OrderErrors.OutOfStock, failure.ErrorType);
        Assert.True(failure.NonRetryable);
        Assert.Equal(100, await db.StockAsync(plenty));
        Assert.Equal(1, await db.StockAsync(scarce));
        Assert.Equal(0L, await db.ScalarAsync<long>("SELECT count(*) FROM reservations WHERE order_id = @p0", order));
    }

    [Fact]
    public async Task Reserve_for_an_unknown_order_is_non_retryable()
    {
        await using var harness = await ActivityHarness.CreateAsync(db, null);
        var sku = await db.AddProductAsync(1m, 10);

        var failure = await Assert.ThrowsAsync<ApplicationFailureException>(() =>
            env.RunAsync(() => harness.Activities.ReserveInventoryAsync(new("no-such-order", [new(sku, 1)]))));

        Assert.Equal(OrderErrors.UnknownOrder, failure.ErrorType);
        Assert.True(failure.NonRetryable);
        Assert.Equal(10, await db.StockAsync(sku));
    }

    [Fact]
    public async Task Release_returns_the_stock_once_even_when_run_twice()
    {
        await using var harness = await ActivityHarness.CreateAsync(db, null);
        var sku = await db.AddProductAsync(1m, 10);
        var order = await db.AddOrderAsync([new(sku, 7)]);
        await env.RunAsync(() => harness.Activities.ReserveInventoryAsync(new(order, [new(sku, 7)])));

        await env.RunAsync(() => harness.Activities.ReleaseInventoryAsync(order));
        await env.RunAsync(() => harness.Activities.ReleaseInventoryAsync(order));

        Assert.Equal(10, await db.StockAsync(sku));
    }

    [Fact]
    public async Task Concurrent_reservations_never_oversell()
    {
        await using var harness = await ActivityHarness.CreateAsync(db, null);
        var sku = await db.AddProductAsync(1m, 10);
        var orders = new List<string>();
        for (var i = 0; i < 8; i++)
        {
            orders.Add(await db.AddOrderAsync([new(sku, 3)]));
        }

        var outcomes = await Task.WhenAll(orders.Select(async o =>
        {
            try
            {
                await new ActivityEnvironment().RunAsync(() => harness.Activities.ReserveInventoryAsync(new(o, [new(sku, 3)])));
                return true;
            }
            catch (ApplicationFailureException e) when (e.ErrorType == OrderErrors.OutOfStock)
            {
                return false;
            }
        }));

        Assert.Equal(3, outcomes.Count(ok => ok));
        Assert.Equal(1, await db.StockAsync(sku));
    }
}

using Temporalio.Converters;
using Temporalio.Testing;

namespace Worker.Tests.Activities;

public sealed class ShippingActivityTests(OrdersDatabase db) : IClassFixture<OrdersDatabase>
{
    [Fact]
    public async Task Ship_heartbeats_the_finished_stages_before_each_slice_and_none_after_the_last_one()
    {
        await using var harness = await ActivityHarness.CreateAsync(db, null);
        var order = await db.AddOrderAsync([new("TAMPER", 1)], OrderStatus.Charged);
        var heartbeats = new List<int>();
        var env = new ActivityEnvironment { Heartbeater = details => heartbeats.Add((int)details[0]!) };

        var shipment = await env.RunAsync(() => harness.Activities.ShipOrderAsync(order));

        Assert.Equal($"TRK-{order}", shipment.TrackingNumber);
        // 3 stages of 30 ms in 200 ms slices: one heartbeat before each stage's only slice, saying how many
        // stages are finished. None after the last stage: the completion would overtake it.
        Assert.Equal([0, 1, 2], heartbeats);
        Assert.Equal("Shipped", await db.ScalarAsync<string>("SELECT status FROM shipments WHERE order_id = @p0", order));
        Assert.Equal(3, await db.ScalarAsync<int>("SELECT stage FROM shipments WHERE order_id = @p0", order));
        Assert.Equal("Completed", await db.ScalarAsync<string>("SELECT status FROM orders WHERE id = @p0", order));
    }

    [Fact]
    public async Task Ship_twice_creates_one_shipment_with_the_same_tracking_number()
    {
        await using var harness = await ActivityHarness.CreateAsync(db, null);
        var order = await db.AddOrderAsync([new("TAMPER", 1)], OrderStatus.Charged);
        var env = new ActivityEnvironment();

        var first = await env.RunAsync(() => harness.Activities.ShipOrderAsync(order));
        var heartbeats = 0;
        var second = await new ActivityEnvironment { Heartbeater = _ => heartbeats++ }
            .RunAsync(() => harness.Activities.ShipOrderAsync(order));

        Assert.Equal(first, second);
        Assert.Equal(0, heartbeats);
        Assert.Equal(1L, await db.ScalarAsync<long>("SELECT count(*) FROM shipments WHERE order_id = @p0", order));
    }

    [Fact]
    public async Task Ship_resumes_after_the_stage_recorded_in_the_last_heartbeat()
    {
        await using var harness = await ActivityHarness.CreateAsync(db, null);
        var order = await db.AddOrderAsync([new("TAMPER", 1)], OrderStatus.Charged);
        var heartbeats = new List<int>();
        var env = new ActivityEnvironment
        {
            Info = ActivityEnvironment.DefaultInfo with
            {
                Attempt = 2,
                HeartbeatDetails = [DataConverter.Default.PayloadConverter.ToPayload(2)],
            },
            Heartbeater = details => heartbeats.Add((int)details[0]!),
        };

        await env.RunAsync(() => harness.Activities.ShipOrderAsync(order));

        Assert.Equal([2], heartbeats);
    }

    [Fact]
    public async Task Cancellation_reaches_shipping_through_its_heartbeat_and_marks_the_shipment_cancelled()
    {
        await using var harness = await ActivityHarness.CreateAsync(db, null,
            new OrdersOptions { ShippingStageDuration = TimeSpan.FromSeconds(30) });
        var order = await db.AddOrderAsync([new("TAMPER", 1)], OrderStatus.Charged);
        ActivityEnvironment? env = null;
        env = new ActivityEnvironment { Heartbeater = _ => env!.Cancel() };

        await Assert.ThrowsAnyAsync<OperationCanceledException>(() =>
            env.RunAsync(() => harness.Activities.ShipOrderAsync(order)).WaitAsync(TimeSpan.FromSeconds(10)));

        Assert.Equal("Cancelled", await db.ScalarAsync<string>("SELECT status FROM shipments WHERE order_id = @p0", order));
        Assert.Equal("Shipping", await db.ScalarAsync<string>("SELECT status FROM orders WHERE id = @p0", order));
    }
}

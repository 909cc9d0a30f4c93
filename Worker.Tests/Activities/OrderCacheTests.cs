using System.Diagnostics;
using System.Text.Json;
using Temporalio.Testing;
using Worker.Orders;
using Worker.Tests.Infrastructure;

namespace Worker.Tests.Activities;

public sealed class OrderCacheTests(OrdersDatabase db) : IClassFixture<OrdersDatabase>
{
    private readonly ActivityEnvironment env = new();

    [Fact]
    public async Task Each_step_mirrors_the_order_into_redis_with_a_ttl()
    {
        await using var harness = await ActivityHarness.CreateAsync(db, TestServers.RedisConnection,
            new OrdersOptions { CacheTtl = TimeSpan.FromMinutes(3) });
        var sku = await db.AddProductAsync(5m, 10);
        var order = await db.AddOrderAsync([new(sku, 2)]);

        await env.RunAsync(() => harness.Activities.ReserveInventoryAsync(new(order, [new(sku, 2)])));

        var cached = JsonSerializer.Deserialize<OrderView>((await harness.Redis!.StringGetAsync(RedisOrderCache.Key(order))).ToString())!;
        Assert.Equal(OrderStatus.Reserved, cached.Status);
        Assert.Equal(10m, cached.Total);
        var ttl = await harness.Redis.KeyTimeToLiveAsync(RedisOrderCache.Key(order));
        Assert.InRange(ttl!.Value, TimeSpan.FromMinutes(2), TimeSpan.FromMinutes(3));
    }

    [Fact]
    public async Task Record_status_writes_status_and_reason_to_database_and_cache()
    {
        await using var harness = await ActivityHarness.CreateAsync(db, TestServers.RedisConnection);
        var order = await db.AddOrderAsync([new("TAMPER", 1)]);

        await env.RunAsync(() => harness.Activities.RecordOrderStatusAsync(new(order, OrderStatus.Failed, "Payment declined")));

        Assert.Equal("Failed", await db.ScalarAsync<string>("SELECT status FROM orders WHERE id = @p0", order));
        Assert.Equal("Payment declined", await db.ScalarAsync<string>("SELECT failure_reason FROM orders WHERE id = @p0", order));
        var cached = await harness.Cache.GetAsync(order);
        Assert.Equal(OrderStatus.Failed, cached!.Status);
        Assert.Equal("Payment declined", cached.FailureReason);
    }

    [Fact]
    public async Task With_redis_down_activities_still_succeed_and_reads_miss_fast()
    {
        await using var harness = await ActivityHarness.CreateAsync(db, TestServers.DeadRedisConnection);
        var sku = await db.AddProductAsync(5m, 10);
        var order = await db.AddOrderAsync([new(sku, 1)]);

        await env.RunAsync(() => harness.Activities.ReserveInventoryAsync(new(order, [new(sku, 1)])));
        var clock = Stopwatch.StartNew();
        var cached = await harness.Cache.GetAsync(order);

        Assert.Null(cached);
        Assert.True(clock.Elapsed < TimeSpan.FromSeconds(1), $"cache read took {clock.Elapsed}");
        Assert.Equal(9, await db.StockAsync(sku));
    }
}

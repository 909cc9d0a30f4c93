using System.Diagnostics;
using Temporalio.Testing;
using Worker.Orders.Cache;
using Worker.Orders.Persistence;

namespace Worker.Tests.Activities;

/// <summary>
/// The order cache against Redis, and against Garnet where the saga's Lua script (a fill never overwrites a newer
/// status) and its TTLs must behave the same: process mode runs Garnet where no redis-server is installed.
/// </summary>
public sealed class OrderCacheTests(OrdersDatabase db, GarnetCache garnet) : IClassFixture<OrdersDatabase>, IClassFixture<GarnetCache>
{
    private readonly ActivityEnvironment env = new();

    public static TheoryData<string> Servers => ["redis", "garnet"];

    private string Cache(string server) => server == "garnet" ? garnet.Connection : TestSettings.RedisConnection;

    [Theory]
    [MemberData(nameof(Servers))]
    public async Task Each_step_mirrors_the_order_into_redis_briefly_while_it_moves_and_longer_once_finished(string server)
    {
        await using var harness = await ActivityHarness.CreateAsync(db, Cache(server),
            new OrdersOptions { CacheTtl = TimeSpan.FromMinutes(3), InFlightCacheTtl = TimeSpan.FromSeconds(20) });
        var sku = await db.AddProductAsync(5m, 10);
        var order = await db.AddOrderAsync([new(sku, 2)]);

        await env.RunAsync(() => harness.Activities.ReserveInventoryAsync(new(order, [new(sku, 2)])));

        var cached = JsonSerializer.Deserialize<OrderView>((await harness.Redis!.HashGetAsync(RedisOrderCache.Key(order), "view")).ToString())!;
        Assert.Equal(OrderStatus.Reserved, cached.Status);
        Assert.Equal(10m, cached.Total);
        Assert.InRange((await harness.Redis.KeyTimeToLiveAsync(RedisOrderCache.Key(order)))!.Value, TimeSpan.FromSeconds(10), TimeSpan.FromSeconds(20));

        await env.RunAsync(() => harness.Activities.RecordOrderStatusAsync(new(order, OrderStatus.Failed, "test")));

        Assert.Equal(OrderStatus.Failed, (await harness.Cache.GetAsync(order))!.Status);
        Assert.InRange((await harness.Redis.KeyTimeToLiveAsync(RedisOrderCache.Key(order)))!.Value, TimeSpan.FromMinutes(2), TimeSpan.FromMinutes(3));
    }

    [Theory]
    [MemberData(nameof(Servers))]
    public async Task A_fill_from_an_older_database_read_never_overwrites_a_newer_status(string server)
    {
        // The race: a GET reads the order from PostgreSQL, an activity commits a newer status and caches it,
        // then the GET's cache fill arrives with what it read.
        await using var harness = await ActivityHarness.CreateAsync(db, Cache(server));
        var sku = await db.AddProductAsync(5m, 10);
        var order = await db.AddOrderAsync([new(sku, 1)]);
        var readBeforeTheStep = (await new OrderStore(db.DataSource).FindAsync(order, CancellationToken.None))!;
        await env.RunAsync(() => harness.Activities.ReserveInventoryAsync(new(order, [new(sku, 1)])));

        await harness.Cache.SetAsync(readBeforeTheStep);

        var cached = (await harness.Cache.GetAsync(order))!;
        Assert.Equal(OrderStatus.Reserved, cached.Status);
        Assert.True(cached.Version > readBeforeTheStep.Version);
    }

    [Theory]
    [MemberData(nameof(Servers))]
    public async Task A_fill_of_an_absent_entry_is_stored(string server)
    {
        await using var harness = await ActivityHarness.CreateAsync(db, Cache(server));
        var order = await db.AddOrderAsync([new("TAMPER", 1)]);
        var view = (await new OrderStore(db.DataSource).FindAsync(order, CancellationToken.None))!;

        await harness.Cache.SetAsync(view);

        Assert.Equal(view, (await harness.Cache.GetAsync(order))! with { Lines = view.Lines });
    }

    [Theory]
    [MemberData(nameof(Servers))]
    public async Task Record_status_writes_status_and_reason_to_database_and_cache(string server)
    {
        await using var harness = await ActivityHarness.CreateAsync(db, Cache(server));
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
        await using var harness = await ActivityHarness.CreateAsync(db, WorkerFactory.UnreachableRedis);
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

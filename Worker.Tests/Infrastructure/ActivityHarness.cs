using Microsoft.Extensions.Logging.Abstractions;
using Microsoft.Extensions.Options;
using StackExchange.Redis;
using Worker.Orders.Cache;
using Worker.Orders.Payments;
using Worker.Orders.Persistence;

namespace Worker.Tests.Infrastructure;

/// <summary>The real activities wired to a test database and a real Redis (or a Redis that is down).</summary>
public sealed class ActivityHarness : IAsyncDisposable
{
    private readonly IConnectionMultiplexer? redis;

    private ActivityHarness(OrdersDatabase database, IConnectionMultiplexer? redis, OrdersOptions options, IPaymentGateway gateway)
    {
        this.redis = redis;
        Options = options;
        IOrderCache cache = redis is null
            ? new NoOrderCache()
            : new RedisOrderCache(redis, Microsoft.Extensions.Options.Options.Create(options), NullLogger<RedisOrderCache>.Instance);
        Cache = cache;
        Activities = new OrderActivities(
            new FulfilmentStore(database.DataSource, Metrics), new PaymentLedger(database.DataSource), cache, gateway,
            Microsoft.Extensions.Options.Options.Create(options));
    }

    public OrderActivities Activities { get; }

    /// <summary>The order instruments the stores record into, on a meter of this harness's own.</summary>
    public Worker.Orders.Telemetry.OrderMetrics Metrics { get; } = TestMetrics.Create();

    public IOrderCache Cache { get; }

    public OrdersOptions Options { get; }

    public IDatabase? Redis => redis?.GetDatabase();

    public static async Task<ActivityHarness> CreateAsync(
        OrdersDatabase database, string? redisConnection, OrdersOptions? options = null, PaymentsOptions? payments = null)
    {
        var redis = redisConnection is null ? null : await ConnectionMultiplexer.ConnectAsync(redisConnection + ",abortConnect=false");
        options ??= new OrdersOptions { ShippingStageDuration = TimeSpan.FromMilliseconds(30) };
        IPaymentGateway gateway = payments?.Endpoint is null
            ? new LedgerPaymentGateway()
            : new HttpPaymentGateway(new HttpClient(), Microsoft.Extensions.Options.Options.Create(payments));
        return new ActivityHarness(database, redis, options, gateway);
    }

    public async ValueTask DisposeAsync()
    {
        if (redis is not null)
        {
            await redis.DisposeAsync();
        }
    }
}

using System.Text.Json;
using StackExchange.Redis;

namespace Worker.Orders;

/// <summary>Best-effort cache of order views. Never the source of truth and never a reason for a request to fail.</summary>
public interface IOrderCache
{
    /// <summary>The cached view, or null on a miss or when the cache is unavailable.</summary>
    Task<OrderView?> GetAsync(string orderId);

    /// <summary>Stores the view; failures are logged, not thrown.</summary>
    Task SetAsync(OrderView order);
}

/// <summary>Used when no Redis connection string is configured.</summary>
public sealed class NoOrderCache : IOrderCache
{
    public Task<OrderView?> GetAsync(string orderId) => Task.FromResult<OrderView?>(null);

    public Task SetAsync(OrderView order) => Task.CompletedTask;
}

/// <summary>Redis-backed cache: one JSON string per order, with a TTL.</summary>
public sealed partial class RedisOrderCache(
    IConnectionMultiplexer redis, Microsoft.Extensions.Options.IOptions<OrdersOptions> options, ILogger<RedisOrderCache> logger)
    : IOrderCache
{
    public static string Key(string orderId) => $"order:{orderId}";

    public async Task<OrderView?> GetAsync(string orderId)
    {
        // A disconnected multiplexer would queue the command until its timeout; skip straight to the database.
        if (!redis.IsConnected)
        {
            return null;
        }
        try
        {
            var value = await redis.GetDatabase().StringGetAsync(Key(orderId));
            return value.IsNullOrEmpty ? null : JsonSerializer.Deserialize<OrderView>(value.ToString());
        }
        catch (Exception e) when (e is RedisException or TimeoutException or JsonException)
        {
            LogCacheFailure(logger, "read", orderId, e.Message);
            return null;
        }
    }

    public async Task SetAsync(OrderView order)
    {
        ArgumentNullException.ThrowIfNull(order);
        if (!redis.IsConnected)
        {
            return;
        }
        try
        {
            // Best effort by design: nothing waits for Redis to acknowledge.
            await redis.GetDatabase().StringSetAsync(Key(order.OrderId), JsonSerializer.Serialize(order), options.Value.CacheTtl,
                flags: CommandFlags.FireAndForget);
        }
        catch (Exception e) when (e is RedisException or TimeoutException)
        {
            LogCacheFailure(logger, "write", order.OrderId, e.Message);
        }
    }

    [LoggerMessage(Level = LogLevel.Warning, Message = "Order cache {Operation} failed for {OrderId}: {Error}")]
    private static partial void LogCacheFailure(ILogger logger, string operation, string orderId, string error);
}

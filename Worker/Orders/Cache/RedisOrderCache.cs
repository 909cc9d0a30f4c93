using System.Text.Json;
using StackExchange.Redis;

namespace Worker.Orders.Cache;

/// <summary>
/// Redis-backed cache: one hash per order holding the view and its <see cref="OrderView.Version"/>.
/// A write replaces the entry only with a newer version (compared atomically in Redis), so a fill from an
/// older database read can never overwrite what a later saga step wrote. Finished orders live for
/// <see cref="OrdersOptions.CacheTtl"/>; orders still moving only for <see cref="OrdersOptions.InFlightCacheTtl"/>,
/// which bounds how long a value can stay stale when a replica cut off from Redis could not write a newer one.
/// </summary>
public sealed partial class RedisOrderCache(
    IConnectionMultiplexer redis, Microsoft.Extensions.Options.IOptions<OrdersOptions> options, ILogger<RedisOrderCache> logger)
    : IOrderCache
{
    private static readonly LuaScript SetIfNewer = LuaScript.Prepare("""
        local current = redis.call('HGET', @key, 'version')
        if current and tonumber(current) >= tonumber(@version) then
          return 0
        end
        redis.call('HSET', @key, 'version', @version, 'view', @view)
        redis.call('PEXPIRE', @key, @ttl)
        return 1
        """);

    public static string Key(string orderId) => $"order-view:{orderId}";

    /// <summary>The entry builds before schema migration 2 keep an order's view in (see <see cref="OrdersOptions.KeepLegacyFormats"/>).</summary>
    public static string LegacyKey(string orderId) => $"order:{orderId}";

    public async Task<OrderView?> GetAsync(string orderId)
    {
        // A disconnected multiplexer would queue the command until its timeout; skip straight to the database.
        if (!redis.IsConnected)
        {
            return null;
        }
        try
        {
            var value = await redis.GetDatabase().HashGetAsync(Key(orderId), "view");
            return value.IsNullOrEmpty ? null : JsonSerializer.Deserialize<OrderView>(value.ToString());
        }
        catch (Exception e) when (e is RedisException or TimeoutException or JsonException)
        {
            LogCacheFailure(logger, "read", orderId, e.Message);
            return null;
        }
    }

    public Task SetAsync(OrderView order)
    {
        ArgumentNullException.ThrowIfNull(order);
        if (redis.IsConnected)
        {
            // Nothing waits for Redis (a saga step would pay a round trip for a mirror): the version makes the
            // order in which writes land irrelevant, and a lost write costs a cache miss, logged below.
            _ = WriteAsync(order);
        }
        return Task.CompletedTask;
    }

    private async Task WriteAsync(OrderView order)
    {
        var settings = options.Value;
        var ttl = order.Status.IsTerminal() || settings.InFlightCacheTtl > settings.CacheTtl ? settings.CacheTtl : settings.InFlightCacheTtl;
        try
        {
            var database = redis.GetDatabase();
            await SetIfNewer.EvaluateAsync(database, new
            {
                key = (RedisKey)Key(order.OrderId),
                version = order.Version,
                view = JsonSerializer.Serialize(order),
                ttl = (long)ttl.TotalMilliseconds,
            });
            if (settings.KeepLegacyFormats)
            {
                // As builds before schema migration 2 wrote it (they ignore Version), so that their API, which reads
                // only this entry and caches what it reads for CacheTtl, sees each change this build makes.
                await database.StringSetAsync(LegacyKey(order.OrderId), JsonSerializer.Serialize(order), settings.CacheTtl);
            }
        }
        catch (Exception e) when (e is RedisException or TimeoutException or ObjectDisposedException)
        {
            LogCacheFailure(logger, "write", order.OrderId, e.Message);
        }
    }

    [LoggerMessage(Level = LogLevel.Warning, Message = "Order cache {Operation} failed for {OrderId}: {Error}")]
    private static partial void LogCacheFailure(ILogger logger, string operation, string orderId, string error);
}

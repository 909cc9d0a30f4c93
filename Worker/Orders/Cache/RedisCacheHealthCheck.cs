using Microsoft.Extensions.Diagnostics.HealthChecks;
using StackExchange.Redis;

namespace Worker.Orders.Cache;

/// <summary>Redis answers a PING; reported as Degraded (not Unhealthy) when it does not.</summary>
public sealed class RedisCacheHealthCheck(IConnectionMultiplexer redis) : IHealthCheck
{
    public async Task<HealthCheckResult> CheckHealthAsync(HealthCheckContext context, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(context);
        if (!redis.IsConnected)
        {
            return new HealthCheckResult(context.Registration.FailureStatus, "Redis cache not connected; serving from PostgreSQL");
        }
        try
        {
            await redis.GetDatabase().PingAsync().WaitAsync(TimeSpan.FromSeconds(2), cancellationToken);
            return HealthCheckResult.Healthy();
        }
        catch (Exception e) when (e is RedisException or TimeoutException)
        {
            return new HealthCheckResult(context.Registration.FailureStatus, "Redis cache not answering; serving from PostgreSQL", e);
        }
    }
}

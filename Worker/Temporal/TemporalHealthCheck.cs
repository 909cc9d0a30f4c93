using Microsoft.Extensions.Diagnostics.HealthChecks;
using Temporalio.Client;

namespace Worker.Temporal;

/// <summary>
/// "Temporal answers": a gRPC health call on the process's existing connection (no new connection per
/// probe). Readiness only: a Temporal outage must take replicas out of rotation, never get them killed.
/// Descriptions are fixed: /health is anonymous, and the SDK's errors name addresses and transport internals.
/// </summary>
public sealed class TemporalHealthCheck(ITemporalClient client, TemporalConnectionKeeper connection) : IHealthCheck
{
    public async Task<HealthCheckResult> CheckHealthAsync(HealthCheckContext context, CancellationToken cancellationToken = default)
    {
        if (!connection.IsConnected)
        {
            return HealthCheckResult.Unhealthy("Not connected to Temporal", connection.LastError);
        }
        try
        {
            var healthy = await client.Connection.CheckHealthAsync(
                null, new RpcOptions { Timeout = TimeSpan.FromSeconds(3), CancellationToken = cancellationToken });
            return healthy ? HealthCheckResult.Healthy() : HealthCheckResult.Unhealthy("Temporal reports not serving");
        }
#pragma warning disable CA1031 // Any failure of the probe call means "not ready".
        catch (Exception e)
#pragma warning restore CA1031
        {
            return HealthCheckResult.Unhealthy("Temporal health call failed", e);
        }
    }
}

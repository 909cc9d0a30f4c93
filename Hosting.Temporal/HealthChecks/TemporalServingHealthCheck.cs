using Microsoft.Extensions.Diagnostics.HealthChecks;
using Temporalio.Client;

namespace Aspire.Hosting.Temporal.HealthChecks;

/// <summary>Serving means the frontend answers the gRPC health call, not merely that its port is open.</summary>
internal sealed class TemporalServingHealthCheck(TemporalFrontendConnection frontend) : IHealthCheck
{
    public async Task<HealthCheckResult> CheckHealthAsync(HealthCheckContext context, CancellationToken cancellationToken = default)
    {
        try
        {
            var connection = await frontend.GetAsync(cancellationToken);
            return await connection.CheckHealthAsync(null, new RpcOptions { Timeout = TimeSpan.FromSeconds(3), CancellationToken = cancellationToken })
                ? HealthCheckResult.Healthy()
                : HealthCheckResult.Unhealthy("Temporal frontend is not serving yet");
        }
#pragma warning disable CA1031 // Any failure means "not serving yet".
        catch (Exception e)
#pragma warning restore CA1031
        {
            return HealthCheckResult.Unhealthy("Temporal frontend is not serving yet", e);
        }
    }
}

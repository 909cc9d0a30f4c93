using Microsoft.Extensions.Diagnostics.HealthChecks;

namespace Worker.Temporal;

/// <summary>"This replica's worker is polling its task queue" (worker role only).</summary>
public sealed class WorkerPollingHealthCheck(WorkerPollingState state) : IHealthCheck
{
    public Task<HealthCheckResult> CheckHealthAsync(HealthCheckContext context, CancellationToken cancellationToken = default) =>
        Task.FromResult(state.IsPolling
            ? HealthCheckResult.Healthy()
            : HealthCheckResult.Unhealthy("Temporal worker is not polling"));
}

using Microsoft.Extensions.Diagnostics.HealthChecks;
using Temporalio.Api.WorkflowService.V1;
using Temporalio.Client;

namespace Aspire.Hosting.Temporal.HealthChecks;

/// <summary>The namespace exists on the server: the frontend describes it. Until then workers could not poll it.</summary>
internal sealed class TemporalNamespaceHealthCheck(TemporalFrontendConnection frontend, string namespaceName, string createdBy) : IHealthCheck
{
    public async Task<HealthCheckResult> CheckHealthAsync(HealthCheckContext context, CancellationToken cancellationToken = default)
    {
        try
        {
            var connection = await frontend.GetAsync(cancellationToken);
            await connection.WorkflowService.DescribeNamespaceAsync(
                new DescribeNamespaceRequest { Namespace = namespaceName },
                new RpcOptions { Timeout = TimeSpan.FromSeconds(3), CancellationToken = cancellationToken });
            return HealthCheckResult.Healthy();
        }
#pragma warning disable CA1031 // Any failure means "not there yet".
        catch (Exception e)
#pragma warning restore CA1031
        {
            return HealthCheckResult.Unhealthy($"Namespace {namespaceName} does not exist yet (created by {createdBy})", e);
        }
    }
}

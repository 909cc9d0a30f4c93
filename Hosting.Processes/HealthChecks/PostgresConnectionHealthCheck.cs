using Aspire.Hosting.ApplicationModel;
using Microsoft.Extensions.Diagnostics.HealthChecks;
using Npgsql;

namespace Aspire.Hosting.Processes.HealthChecks;

/// <summary>PostgreSQL answers <c>SELECT 1</c> on the resource's connection string (for a database: it exists).</summary>
internal sealed class PostgresConnectionHealthCheck(IResourceWithConnectionString resource) : IHealthCheck
{
    public async Task<HealthCheckResult> CheckHealthAsync(HealthCheckContext context, CancellationToken cancellationToken = default)
    {
        try
        {
            var connectionString = await resource.ConnectionStringExpression.GetValueAsync(cancellationToken);
            await using var connection = new NpgsqlConnection(new NpgsqlConnectionStringBuilder(connectionString) { Pooling = false, Timeout = 3 }.ConnectionString);
            await connection.OpenAsync(cancellationToken);
            await using var command = new NpgsqlCommand("SELECT 1", connection);
            await command.ExecuteScalarAsync(cancellationToken);
            return HealthCheckResult.Healthy();
        }
        catch (PostgresException e) when (e.SqlState == PostgresErrorCodes.InvalidPassword)
        {
            // Not a matter of waiting: the data directory keeps the password it was created with.
            return HealthCheckResult.Unhealthy(
                "Password refused: the data directory was created with another postgres-password. Restore that password "
                + "(Parameters:postgres-password) or delete the data directory to start empty.", e);
        }
#pragma warning disable CA1031 // Any failure means "not ready yet".
        catch (Exception e)
#pragma warning restore CA1031
        {
            return HealthCheckResult.Unhealthy($"{resource.Name} does not answer yet", e);
        }
    }
}

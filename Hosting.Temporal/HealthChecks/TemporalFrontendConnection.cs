using Aspire.Hosting.ApplicationModel;
using Temporalio.Client;

namespace Aspire.Hosting.Temporal.HealthChecks;

/// <summary>
/// One lazy connection to a server's frontend, made once its endpoint is allocated and shared by every health
/// check of that server and its namespaces (a new gRPC connection per probe would cost a handshake each time).
/// </summary>
internal sealed class TemporalFrontendConnection(TemporalServerResource server)
{
    private TemporalConnection? connection;

    public async Task<TemporalConnection> GetAsync(CancellationToken cancellationToken)
    {
        if (connection is null)
        {
            var address = await server.GrpcEndpoint.Property(EndpointProperty.HostAndPort).GetValueAsync(cancellationToken);
            connection = TemporalConnection.CreateLazy(new TemporalConnectionOptions(address!));
        }
        await connection.ConnectAsync();
        return connection;
    }
}

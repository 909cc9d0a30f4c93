using Aspire.Hosting.ApplicationModel;
using Temporalio.Client;

namespace Aspire.Hosting.Temporal.HealthChecks;

/// <summary>
/// One lazy connection to a server's frontend, made once its endpoint is allocated and shared by every health
/// check of that server and its namespaces (a new gRPC connection per probe would cost a handshake each time).
/// </summary>
internal sealed class TemporalFrontendConnection(Func<CancellationToken, ValueTask<string?>> address)
{
    private static readonly System.Runtime.CompilerServices.ConditionalWeakTable<ITemporalServerResource, TemporalFrontendConnection> PerServer = [];

    private readonly Lock gate = new();
    private Task<TemporalConnection>? connection;

    /// <summary>The one connection to <paramref name="server"/>'s frontend.</summary>
    public static TemporalFrontendConnection For(ITemporalServerResource server) => PerServer.GetValue(server, s => new(s));

    /// <summary>The frontend of <paramref name="server"/>, at the address allocated to its gRPC endpoint.</summary>
    public TemporalFrontendConnection(ITemporalServerResource server)
        : this(server.GrpcEndpoint.Property(EndpointProperty.HostAndPort).GetValueAsync)
    {
    }

    public async Task<TemporalConnection> GetAsync(CancellationToken cancellationToken)
    {
        // One connection however many checks ask at once; a failed first attempt is tried again next time.
        Task<TemporalConnection> pending;
        lock (gate)
        {
            if (connection is null || connection.IsFaulted || connection.IsCanceled)
            {
                connection = CreateAsync(cancellationToken);
            }
            pending = connection;
        }
        var created = await pending;
        await created.ConnectAsync();
        return created;
    }

    private async Task<TemporalConnection> CreateAsync(CancellationToken cancellationToken)
    {
        var target = await address(cancellationToken) ?? throw new InvalidOperationException("The frontend has no address yet.");
        return TemporalConnection.CreateLazy(new TemporalConnectionOptions(target));
    }
}

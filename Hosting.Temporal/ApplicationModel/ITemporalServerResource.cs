namespace Aspire.Hosting.ApplicationModel;

/// <summary>
/// A Temporal frontend the model runs: the server container (<see cref="TemporalServerResource"/>), the Temporal
/// CLI's development server (<see cref="TemporalDevServerResource"/>), or another stand-in an AppHost brings.
/// Namespaces are added to it the same way whichever it is (<c>AddNamespace</c>), so what references them cannot
/// tell the difference. Its connection string is the frontend's <c>host:port</c>.
/// </summary>
public interface ITemporalServerResource : IResourceWithConnectionString, IResourceWithEndpoints, IResourceWithWaitSupport
{
    /// <summary>The frontend's gRPC endpoint.</summary>
    EndpointReference GrpcEndpoint { get; }

    /// <summary>The namespaces added to this server, in the order they were added.</summary>
    IReadOnlyList<TemporalNamespaceResource> Namespaces { get; }

    /// <summary>Whether a namespace needs its creation job; false where the server creates its namespaces itself.</summary>
    bool CreatesNamespacesItself { get; }

    /// <summary>Records a namespace added to this server.</summary>
    void AddNamespace(TemporalNamespaceResource ns);
}

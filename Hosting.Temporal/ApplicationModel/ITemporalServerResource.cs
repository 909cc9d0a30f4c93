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

    /// <summary>Whether a namespace needs its creation job; false where the server creates its namespaces itself.</summary>
    bool CreatesNamespacesItself { get; }
}

/// <summary>The namespaces of a Temporal server, recorded on it as annotations by <c>AddNamespace</c>.</summary>
public static class TemporalServerResourceExtensions
{
    /// <summary>The namespaces added to <paramref name="server"/>, in the order they were added.</summary>
    public static IReadOnlyList<TemporalNamespaceResource> GetNamespaces(this ITemporalServerResource server)
    {
        ArgumentNullException.ThrowIfNull(server);
        return [.. server.Annotations.OfType<TemporalNamespaceAnnotation>().Select(a => a.Namespace)];
    }
}

/// <summary>Marks a namespace as added to the server it annotates.</summary>
internal sealed record TemporalNamespaceAnnotation(TemporalNamespaceResource Namespace) : IResourceAnnotation;

namespace Aspire.Hosting.ApplicationModel;

/// <summary>
/// A Temporal server (frontend and all services in one container, <c>temporalio/server</c>) backed by
/// PostgreSQL. Its connection string is the frontend's <c>host:port</c>, which is what Temporal tools (the
/// Web UI, the CLI) take as their address. Workers reference a namespace instead
/// (<see cref="TemporalNamespaceResource"/>), which carries the address and the namespace.
/// </summary>
/// <param name="name">The resource name; also the server's host name inside the container network.</param>
public sealed class TemporalServerResource(string name) : ContainerResource(name), ITemporalServerResource
{
    internal const string GrpcEndpointName = "grpc";
    internal const string MetricsEndpointName = "metrics";

    /// <summary>The frontend's gRPC endpoint (HTTP/2, port 7233 in the container).</summary>
    public EndpointReference GrpcEndpoint => new(this, GrpcEndpointName);

    /// <summary>The server's Prometheus endpoint (port 9090 in the container).</summary>
    public EndpointReference MetricsEndpoint => new(this, MetricsEndpointName);

    /// <inheritdoc />
    public ReferenceExpression ConnectionStringExpression =>
        ReferenceExpression.Create($"{GrpcEndpoint.Property(EndpointProperty.HostAndPort)}");

    /// <inheritdoc />
    public bool CreatesNamespacesItself => false;

    /// <summary>The server's mutual TLS: off unless its switch is on (in the deployments' production forms).</summary>
    public TemporalTls Tls { get; internal set; } = null!;

    /// <summary>The server's authorizer: off unless its JWKS URL is set.</summary>
    public TemporalAuthorization Authorization { get; internal set; } = null!;
}

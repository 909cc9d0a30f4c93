namespace Aspire.Hosting.ApplicationModel;

/// <summary>
/// A Temporal server (frontend and all services in one container, <c>temporalio/server</c>) backed by
/// PostgreSQL. Its connection string is the frontend's <c>host:port</c>, which is what Temporal clients
/// and workers take as their address.
/// </summary>
public sealed class TemporalServerResource(string name) : ContainerResource(name), IResourceWithConnectionString
{
    internal const string GrpcEndpointName = "grpc";
    internal const string MetricsEndpointName = "metrics";

    /// <summary>The frontend's gRPC endpoint (HTTP/2, port 7233 in the container).</summary>
    public EndpointReference GrpcEndpoint => new(this, GrpcEndpointName);

    /// <summary>The server's Prometheus endpoint.</summary>
    public EndpointReference MetricsEndpoint => new(this, MetricsEndpointName);

    /// <summary>The namespace the worker uses; created by the namespace job.</summary>
    public string Namespace { get; set; } = "default";

    /// <inheritdoc />
    public ReferenceExpression ConnectionStringExpression =>
        ReferenceExpression.Create($"{GrpcEndpoint.Property(EndpointProperty.HostAndPort)}");
}

/// <summary>Pinned images of the whole stack, in one place (never <c>latest</c>).</summary>
public static class StackImages
{
    public const string Server = "temporalio/server";
    public const string AdminTools = "temporalio/admin-tools";
    public const string Ui = "temporalio/ui";

    /// <summary>Server and admin-tools are released together.</summary>
    public const string ServerTag = "1.31.0";

    public const string UiTag = "2.49.1";

    public const string PostgresTag = "17.6";

    public const string RedisTag = "8.2";
}

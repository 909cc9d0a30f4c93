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

    /// <summary>
    /// PostgreSQL 16, the newest major Temporal tests its persistence on (its docs list 13.18, 14.15, 15.10 and
    /// 16.6; samples-server runs 16); 17 is outside that set. 16.11 is a later patch of the tested 16.6 (patches
    /// carry only fixes) published as an official image. A move to 17 waits until Temporal tests it.
    /// </summary>
    public const string PostgresTag = "16.11";

    public const string RedisTag = "8.2";
}

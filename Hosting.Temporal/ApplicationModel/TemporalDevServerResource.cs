namespace Aspire.Hosting.ApplicationModel;

/// <summary>
/// The Temporal CLI's development server (<c>temporal server start-dev</c>) as a local process: the whole server
/// and its Web UI in one executable, persisting to a SQLite file. For machines without a container engine; it
/// creates its namespaces itself (<c>--namespace</c>).
/// </summary>
/// <param name="name">The resource name.</param>
/// <param name="command">The <c>temporal</c> executable.</param>
/// <param name="workingDirectory">Where it runs.</param>
public sealed class TemporalDevServerResource(string name, string command, string workingDirectory)
    : ExecutableResource(name, command, workingDirectory), ITemporalServerResource
{
    internal const string GrpcEndpointName = "grpc";
    internal const string UiEndpointName = "temporal-ui";

    /// <inheritdoc />
    public EndpointReference GrpcEndpoint => new(this, GrpcEndpointName);

    /// <summary>The Web UI the CLI serves beside the frontend.</summary>
    public EndpointReference UiEndpoint => new(this, UiEndpointName);

    /// <inheritdoc />
    public bool CreatesNamespacesItself => true;

    /// <inheritdoc />
    public ReferenceExpression ConnectionStringExpression =>
        ReferenceExpression.Create($"{GrpcEndpoint.Property(EndpointProperty.HostAndPort)}");
}

using Aspire.Hosting.ApplicationModel;

namespace AppHost;

/// <summary>
/// The project's in-memory Temporal test server as a local process, for machines with neither a container engine
/// nor the Temporal CLI. It is not Temporal (no persistence, no UI; docs/testing.md, "The Temporal test server"): it
/// says so in its log, and the dashboard shows its command line. It creates its namespaces itself.
/// </summary>
internal sealed class TemporalTestServerResource(string name, string workingDirectory)
    : ExecutableResource(name, "dotnet", workingDirectory), ITemporalServerResource
{
    public EndpointReference GrpcEndpoint => new(this, "grpc");

    public bool CreatesNamespacesItself => true;

    public ReferenceExpression ConnectionStringExpression =>
        ReferenceExpression.Create($"{GrpcEndpoint.Property(EndpointProperty.HostAndPort)}");
}

namespace Aspire.Hosting.ApplicationModel;

/// <summary>Redis as a local process (the installed <c>redis-server</c>), without persistence.</summary>
/// <param name="name">The resource name.</param>
/// <param name="command">The <c>redis-server</c> executable.</param>
/// <param name="workingDirectory">Where it runs.</param>
public sealed class RedisProcessResource(string name, string command, string workingDirectory)
    : ExecutableResource(name, command, workingDirectory), IResourceWithConnectionString
{
    internal const string EndpointName = "tcp";

    /// <summary>The server's endpoint.</summary>
    public EndpointReference PrimaryEndpoint => new(this, EndpointName);

    /// <inheritdoc />
    public ReferenceExpression ConnectionStringExpression =>
        ReferenceExpression.Create($"{PrimaryEndpoint.Property(EndpointProperty.Host)}:{PrimaryEndpoint.Property(EndpointProperty.Port)}");
}

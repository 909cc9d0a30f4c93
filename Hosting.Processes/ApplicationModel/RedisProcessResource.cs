namespace Aspire.Hosting.ApplicationModel;

/// <summary>
/// Redis as a local process (the installed <c>redis-server</c>, or Garnet where there is none), without persistence,
/// requiring a password.
/// </summary>
/// <param name="name">The resource name.</param>
/// <param name="command">The <c>redis-server</c> executable, or <c>dotnet</c> for Garnet.</param>
/// <param name="workingDirectory">Where it runs.</param>
/// <param name="password">The password clients must give.</param>
public sealed class RedisProcessResource(string name, string command, string workingDirectory, ParameterResource password)
    : ExecutableResource(name, command, workingDirectory), IResourceWithConnectionString
{
    internal const string EndpointName = "tcp";

    /// <summary>The password clients must give, a secret parameter.</summary>
    public ParameterResource PasswordParameter { get; } = password;

    /// <summary>The server's endpoint.</summary>
    public EndpointReference PrimaryEndpoint => new(this, EndpointName);

    /// <inheritdoc />
    public ReferenceExpression ConnectionStringExpression =>
        ReferenceExpression.Create($"{PrimaryEndpoint.Property(EndpointProperty.Host)}:{PrimaryEndpoint.Property(EndpointProperty.Port)},password={PasswordParameter}");
}

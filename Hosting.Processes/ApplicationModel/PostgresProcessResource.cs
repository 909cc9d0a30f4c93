namespace Aspire.Hosting.ApplicationModel;

/// <summary>
/// PostgreSQL as a local process (the installed <c>postgres</c>), with its data directory kept between runs as a
/// container's volume is. Its connection string names the server; databases are children
/// (<see cref="PostgresProcessDatabaseResource"/>).
/// </summary>
public sealed class PostgresProcessResource : ExecutableResource, IResourceWithConnectionString
{
    internal const string EndpointName = "tcp";

    /// <param name="name">The resource name.</param>
    /// <param name="command">What starts the server (the server itself, or a wrapper that changes user).</param>
    /// <param name="workingDirectory">Where it runs.</param>
    /// <param name="password">The superuser's password.</param>
    public PostgresProcessResource(string name, string command, string workingDirectory, ParameterResource password)
        : base(name, command, workingDirectory)
    {
        ArgumentNullException.ThrowIfNull(password);
        PasswordParameter = password;
    }

    /// <summary>The superuser's password, a secret parameter.</summary>
    public ParameterResource PasswordParameter { get; }

    /// <summary>The server's endpoint.</summary>
    public EndpointReference PrimaryEndpoint => new(this, EndpointName);

    /// <inheritdoc />
    public ReferenceExpression ConnectionStringExpression => ReferenceExpression.Create(
        $"Host={PrimaryEndpoint.Property(EndpointProperty.Host)};Port={PrimaryEndpoint.Property(EndpointProperty.Port)};Username=postgres;Password={PasswordParameter}");
}

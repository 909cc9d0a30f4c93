namespace Aspire.Hosting.ApplicationModel;

/// <summary>A database on a <see cref="PostgresProcessResource"/>, created when the server is ready.</summary>
/// <param name="name">The resource name; also the connection-string name.</param>
/// <param name="databaseName">The database.</param>
/// <param name="parent">The server.</param>
public sealed class PostgresProcessDatabaseResource(string name, string databaseName, PostgresProcessResource parent)
    : Resource(name), IResourceWithParent<PostgresProcessResource>, IResourceWithConnectionString
{
    /// <summary>The database.</summary>
    public string DatabaseName { get; } = databaseName;

    /// <inheritdoc />
    public PostgresProcessResource Parent { get; } = parent;

    /// <inheritdoc />
    public ReferenceExpression ConnectionStringExpression => ReferenceExpression.Create($"{Parent};Database={DatabaseName}");
}

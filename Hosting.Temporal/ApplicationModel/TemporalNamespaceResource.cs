namespace Aspire.Hosting.ApplicationModel;

/// <summary>
/// A namespace on a Temporal server (<see cref="ITemporalServerResource"/>), as a database is on a PostgreSQL server: what a
/// worker references. Its connection string is <c>Endpoint=host:port;Namespace=name</c>, the one setting a
/// Temporal client needs. It runs while its server runs, and is healthy once the namespace exists (created
/// by its one-shot job), so <c>WaitFor</c> on it means "the worker can poll".
/// </summary>
public sealed class TemporalNamespaceResource : Resource, IResourceWithParent<ITemporalServerResource>, IResourceWithConnectionString
{
    /// <param name="name">The resource name; also the connection-string name a worker reads.</param>
    /// <param name="namespaceName">The Temporal namespace.</param>
    /// <param name="retention">How long Temporal keeps the history of a closed workflow.</param>
    /// <param name="parent">The server the namespace lives on.</param>
    public TemporalNamespaceResource(string name, string namespaceName, TimeSpan retention, ITemporalServerResource parent)
        : base(name)
    {
        ArgumentException.ThrowIfNullOrWhiteSpace(namespaceName);
        ArgumentNullException.ThrowIfNull(parent);
        if (retention < TimeSpan.FromDays(1))
        {
            throw new ArgumentOutOfRangeException(nameof(retention), retention, "Temporal requires a retention of at least one day.");
        }
        NamespaceName = namespaceName;
        Retention = retention;
        Parent = parent;
    }

    /// <summary>The Temporal namespace.</summary>
    public string NamespaceName { get; }

    /// <summary>How long Temporal keeps the history of a closed workflow.</summary>
    public TimeSpan Retention { get; }

    /// <inheritdoc />
    public ITemporalServerResource Parent { get; }

    /// <inheritdoc />
    public ReferenceExpression ConnectionStringExpression =>
        ReferenceExpression.Create($"Endpoint={Parent.GrpcEndpoint.Property(EndpointProperty.HostAndPort)};Namespace={NamespaceName}");
}

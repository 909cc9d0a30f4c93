namespace Aspire.Hosting.Deployment;

/// <summary>The Docker Compose service of a workload, for a <see cref="DeploymentContribution"/>.</summary>
public sealed class ComposeContext
{
    internal ComposeContext(string service) => Service = service;

    /// <summary>The service's name.</summary>
    public string Service { get; }

    /// <summary>Labels of the service's container (<c>labels:</c>).</summary>
    public IDictionary<string, string> Labels { get; } = new SortedDictionary<string, string>(StringComparer.Ordinal);
}

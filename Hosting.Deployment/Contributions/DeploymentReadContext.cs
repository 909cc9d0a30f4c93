using Aspire.Hosting.ApplicationModel;

namespace Aspire.Hosting.Deployment;

/// <summary>The model as the generator reads it, for a <see cref="DeploymentContribution"/> of one resource.</summary>
public sealed class DeploymentReadContext
{
    private readonly Func<IResourceWithConnectionString, string, CancellationToken, Task<DeployedConnection>> resolve;

    internal DeploymentReadContext(IResource resource, Func<IResourceWithConnectionString, string, CancellationToken, Task<DeployedConnection>> resolve)
    {
        Resource = resource;
        this.resolve = resolve;
    }

    /// <summary>The resource the contribution is attached to (its workload has the same name).</summary>
    public IResource Resource { get; }

    /// <summary>The connection string of <paramref name="resource"/> as the deployment gives it to workloads.</summary>
    /// <param name="resource">A database, a namespace, any resource with a connection string.</param>
    /// <param name="cancellationToken">Cancels the generation.</param>
    public Task<DeployedConnection> ResolveAsync(IResourceWithConnectionString resource, CancellationToken cancellationToken) =>
        resolve(resource, $"{Resource.Name}: {resource.Name}", cancellationToken);
}

/// <summary>A connection string as deployed: its text, and what the deployment knows about where it leads.</summary>
/// <param name="Text">The connection string, null when it holds a secret.</param>
/// <param name="Group">The deployment group of the resource (a Helm switch), if any.</param>
/// <param name="Target">The workload and port it reaches, when the model runs what it names.</param>
/// <param name="WhenExternal">What dependants get when the group is switched off, as its integration said.</param>
public sealed record DeployedConnection(string? Text, string? Group, ServiceAddress? Target, ExternalConnection? WhenExternal);

/// <summary>A port of a workload, as other workloads reach it.</summary>
/// <param name="Workload">The workload (its Service has the same name).</param>
/// <param name="Port">The port.</param>
public sealed record ServiceAddress(string Workload, int Port);

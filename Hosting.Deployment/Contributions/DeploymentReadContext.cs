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

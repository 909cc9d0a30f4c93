namespace Aspire.Hosting.Deployment;

/// <summary>
/// What an integration deploys with a resource besides the resource's own workload: its own objects (a custom
/// resource, a NetworkPolicy), values of the Helm chart with their schema, and optional forms of the workload
/// (<see cref="DeploymentOption"/>: a Kustomize component and a Helm switch). Attached with
/// <c>.WithDeployment(d =&gt; d.Contribute(contribution))</c>, as Aspire's publishers take
/// <c>AdditionalResources</c>: the generator calls it and knows nothing of what it writes.
/// </summary>
/// <remarks>
/// The generator calls, in this order: <see cref="ReadAsync"/> once while it reads the model; <see cref="DeclareValues"/>
/// once, before any output (the chart's values are complete before a template is rendered); then
/// <see cref="WriteCompose"/>, and <see cref="WriteKubernetes"/> once for Kustomize and once for Helm.
/// </remarks>
public abstract class DeploymentContribution
{
    /// <summary>Reads what the contribution needs from the model in publish mode (a reference as deployed, say).</summary>
    /// <param name="context">The model, as the generator reads it.</param>
    /// <param name="cancellationToken">Cancels the generation.</param>
    public virtual Task ReadAsync(DeploymentReadContext context, CancellationToken cancellationToken) => Task.CompletedTask;

    /// <summary>Declares the options and values the contribution adds to the chart (Kustomize uses their defaults).</summary>
    /// <param name="values">The chart's values, being declared.</param>
    public virtual void DeclareValues(DeploymentValues values)
    {
    }

    /// <summary>
    /// What the workload opens to servers in production instead of its own declared pools, when the contribution
    /// changes its form there (an option on in production that runs it as several Deployments, say): the connection
    /// budget checks the production form with these. Empty leaves the workload's own.
    /// </summary>
    public virtual IEnumerable<ProductionConnections> ConnectionsInProduction => [];

    /// <summary>Adds to the workload's Docker Compose service, where Compose has a counterpart.</summary>
    /// <param name="compose">The service.</param>
    public virtual void WriteCompose(ComposeContext compose)
    {
    }

    /// <summary>Adds the contribution's Kubernetes objects; called for Kustomize, then for Helm (<see cref="KubernetesContext.IsHelm"/>).</summary>
    /// <param name="kubernetes">The workload's objects and the values they read.</param>
    public virtual void WriteKubernetes(KubernetesContext kubernetes)
    {
    }
}

/// <summary>Pods a contribution runs in production that connect to <paramref name="Server"/>: how many at most, each with its pool.</summary>
/// <param name="Server">The server (or a database of it).</param>
/// <param name="Workload">What the budget's line names.</param>
/// <param name="Replicas">The most pods at once.</param>
/// <param name="PerReplica">Each pod's pool.</param>
public sealed record ProductionConnections(Aspire.Hosting.ApplicationModel.IResource Server, string Workload, int Replicas, int PerReplica);

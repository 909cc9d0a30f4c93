using System.Data.Common;
using Aspire.Hosting.ApplicationModel;
using Aspire.Hosting.Deployment;
using Aspire.Hosting.Deployment.Planning;

namespace Aspire.Hosting.Temporal.Deployment;

/// <summary>The Temporal frontend and namespace a workload polls, as a cluster reaches them.</summary>
/// <param name="Endpoint">The frontend's address as the worker reaches it.</param>
/// <param name="Namespace">The Temporal namespace.</param>
/// <param name="Group">The deployment group of the Temporal the worker reaches (its Helm switch).</param>
/// <param name="Frontend">The frontend workload and port, when the model runs it (reached from other namespaces by its cluster DNS name).</param>
/// <param name="ApiKeySecretKey">The key of the API key in the group's existing Secret (Temporal Cloud), if dependants read one.</param>
internal sealed record TemporalTarget(string Endpoint, string Namespace, string? Group, ServiceAddress? Frontend, string? ApiKeySecretKey)
{
    /// <summary>Reads the namespace resource's connection string as deployed (<c>Endpoint=…;Namespace=…</c>).</summary>
    public static async Task<TemporalTarget> ReadAsync(
        DeploymentReadContext context, IResourceWithConnectionString ns, string relation, CancellationToken cancellationToken)
    {
        var deployed = await context.ResolveAsync(ns, cancellationToken);
        var connection = new DbConnectionStringBuilder { ConnectionString = deployed.Text ?? "" };
        if (!connection.TryGetValue("Endpoint", out var endpoint) || !connection.TryGetValue("Namespace", out var name))
        {
            throw new DeploymentModelException(
                $"'{context.Resource.Name}' {relation} '{ns.Name}', whose connection string is not Endpoint=host:port;Namespace=name.");
        }
        return new TemporalTarget((string)endpoint, (string)name, deployed.Group, deployed.Target,
            deployed.WhenExternal?.SecretEnvironment?.Values.FirstOrDefault());
    }

    /// <summary>Helm: the group's value of <paramref name="key"/> while the group is external, else <paramref name="own"/>.</summary>
    public string WhenExternal(KubernetesContext helm, string key, string own) =>
        $"ternary {own} {helm.RefAt($"{Group}.{key}")} {helm.RefAt($"{Group}.enabled")}";

    /// <summary>Helm: an existing Temporal with an API key (Temporal Cloud).</summary>
    public string CloudCondition(KubernetesContext helm) =>
        $"and (not {helm.RefAt($"{Group}.enabled")}) {helm.RefAt($"{Group}.existingSecret")}";
}

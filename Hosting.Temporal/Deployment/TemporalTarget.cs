using System.Data.Common;
using Aspire.Hosting.ApplicationModel;
using Aspire.Hosting.Deployment;
using Aspire.Hosting.Deployment.Planning;
using Aspire.Hosting.Deployment.Yaml;

namespace Aspire.Hosting.Temporal.Deployment;

/// <summary>The Temporal frontend and namespace a workload polls, as a cluster reaches them.</summary>
/// <param name="Endpoint">The frontend's address as the worker reaches it.</param>
/// <param name="Namespace">The Temporal namespace.</param>
/// <param name="Group">The deployment group of the Temporal the worker reaches (its Helm switch).</param>
/// <param name="Frontend">The frontend workload and port, when the model runs it (reached from other namespaces by its cluster DNS name).</param>
/// <param name="ApiKeySecretKey">The key of the API key in the group's existing Secret (Temporal Cloud), if dependants read one.</param>
/// <param name="Tls">The model's server's mutual TLS, when the model runs the server.</param>
internal sealed record TemporalTarget(string Endpoint, string Namespace, string? Group, ServiceAddress? Frontend, string? ApiKeySecretKey, TemporalTls? Tls)
{
    /// <summary>
    /// The Kustomize component that gives the controllers' objects (KEDA's scaler, the worker controller's Connection) the
    /// clients' certificate: listed after their own components where the server's TLS is on (the production overlay
    /// turns it on, and an overlay on it adds those components after it, where its patches cannot reach).
    /// </summary>
    public static readonly DeploymentOption ClientTlsComponent = new("temporalClientTls", "temporal-client-tls", "temporal-client-tls");

    /// <summary>A patch of <see cref="ClientTlsComponent"/>: adds <paramref name="value"/> at <paramref name="path"/> of one object.</summary>
    public static Map ClientTlsPatch(string kind, string name, string path, YamlNode value) =>
        JsonPatches.For(kind, name, $"# The server serves mutual TLS: the clients' certificate ({TemporalTls.ClientSecret}).", JsonPatches.Op("add", path, value));

    /// <summary>Helm: the model's server serves TLS (its group on, its switch true).</summary>
    public string? TlsCondition(KubernetesContext helm) => Tls is null ? null
        : Group is null ? $"eq (toString {helm.Setting(Tls.Enabled.Resource)}) \"true\""
        : $"and {helm.RefAt($"{Group}.enabled")} (eq (toString {helm.Setting(Tls.Enabled.Resource)}) \"true\")";

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
            deployed.WhenExternal?.SecretEnvironment?.Values.FirstOrDefault(),
            ns is TemporalNamespaceResource { Parent: TemporalServerResource server } ? server.Tls : null);
    }

    /// <summary>Helm: the group's value of <paramref name="key"/> while the group is external, else <paramref name="own"/>.</summary>
    public string WhenExternal(KubernetesContext helm, string key, string own) =>
        $"ternary {own} {helm.RefAt($"{Group}.{key}")} {helm.RefAt($"{Group}.enabled")}";

    /// <summary>Helm: an existing Temporal with an API key (Temporal Cloud).</summary>
    public string CloudCondition(KubernetesContext helm) =>
        $"and (not {helm.RefAt($"{Group}.enabled")}) {helm.RefAt($"{Group}.existingSecret")}";
}

using System.Text.Json.Nodes;
using Aspire.Hosting.Deployment.Yaml;

namespace Aspire.Hosting.Deployment;

/// <summary>
/// An optional form of a workload that a <see cref="DeploymentContribution"/> brings (KEDA scaling, say): off by
/// default; a Kustomize component <c>components/{Component}</c> that an overlay adds; in Helm the switch
/// <c>{Name}.enabled</c> in the workload's values, beside the option's own <see cref="Values"/>, and its documents in
/// <c>templates/{workload}-{TemplateSuffix}.yaml</c>.
/// </summary>
/// <param name="name">The values key (<c>keda</c>).</param>
/// <param name="component">The Kustomize component's folder (<c>keda</c>).</param>
/// <param name="templateSuffix">The Helm template's suffix (<c>keda</c>).</param>
public sealed class DeploymentOption(string name, string component, string templateSuffix)
{
    /// <summary>The values key: the switch is <c>{Name}.enabled</c> in the workload's values.</summary>
    public string Name { get; } = name;

    /// <summary>The Kustomize component's folder under <c>components/</c>; options of several workloads with one name share it.</summary>
    public string Component { get; } = component;

    /// <summary>The Helm template is <c>templates/{workload}-{TemplateSuffix}.yaml</c>.</summary>
    public string TemplateSuffix { get; } = templateSuffix;

    /// <summary>The file of the component that holds the option's documents.</summary>
    public string ResourcesFile { get; init; } = "resources.yaml";

    /// <summary>The option's values besides <c>enabled</c>, with their defaults (Kustomize renders these).</summary>
    public Map Values { get; } = new();

    /// <summary>The JSON schema of the option's values section, <c>enabled</c> included; null infers types from the defaults.</summary>
    public JsonObject? ValuesSchema { get; init; }

    /// <summary>On, it replaces the workload's Deployment (Helm leaves the Deployment out).</summary>
    public bool ReplacesWorkload { get; init; }

    /// <summary>On, it replaces the workload's HorizontalPodAutoscaler (Helm leaves the HPA out).</summary>
    public bool ReplacesAutoscaler { get; init; }

    /// <summary>On, it owns the replica count (Helm leaves <c>replicas</c> out of the Deployment).</summary>
    public bool OwnsReplicas { get; init; }

    /// <summary>
    /// On in production: the production overlay adds its component and Helm's <c>values-production.yaml</c> switches it
    /// on (a highly available form of a server, say); development keeps the workload's own form.
    /// </summary>
    public bool InProduction { get; init; }

    /// <summary>Options of the same workload this one cannot be combined with, each with the message Helm fails with.</summary>
    public IList<(string Option, string Message)> Excludes { get; } = [];
}

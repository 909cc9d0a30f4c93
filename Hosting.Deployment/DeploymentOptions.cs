namespace Aspire.Hosting.Deployment;

/// <summary>What the deployment outputs take besides the model (configuration section <c>Deployment</c>).</summary>
public sealed class DeploymentOptions
{
    /// <summary>The system's name: Helm chart, Kubernetes namespace, Compose project, <c>app.kubernetes.io/part-of</c>.</summary>
    public string Name { get; set; } = "app";

    /// <summary>Registry (and organisation) of the images built from project resources, for example <c>ghcr.io/acme</c>.</summary>
    public string ImageRegistry { get; set; } = "ghcr.io/example";

    /// <summary>Tag of the images built from project resources (a release version; never <c>latest</c>).</summary>
    public string ImageTag { get; set; } = "1.0.0";

    /// <summary>The Helm chart's keywords (what the system is made of, for a chart repository's search).</summary>
    public IList<string> ChartKeywords { get; set; } = ["aspire"];

    /// <summary>Version of the Helm chart.</summary>
    public string ChartVersion { get; set; } = "1.0.0";

    /// <summary>
    /// Prometheus alerting rules (a rule file: <c>groups:</c> at the top) to ship as a Prometheus Operator
    /// <c>PrometheusRule</c>: a Kustomize component and a Helm switch (<c>prometheusRule.enabled</c>). Null: none.
    /// </summary>
    public string? AlertRules { get; set; }
}

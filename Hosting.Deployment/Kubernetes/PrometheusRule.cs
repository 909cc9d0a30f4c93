using Aspire.Hosting.Deployment.Yaml;

namespace Aspire.Hosting.Deployment.Kubernetes;

/// <summary>
/// The Prometheus Operator's <c>PrometheusRule</c> around a rule file. The rule file stays as written (an
/// <see cref="EmbeddedYaml"/> block, or read by Helm with <c>.Files.Get</c>): its own templates
/// (<c>{{ $labels.x }}</c>) and comments pass through unchanged, and promtool checks it where it is kept.
/// </summary>
internal static class PrometheusRule
{
    public static Map Document(Map metadata, YamlNode spec) => new()
    {
        { "apiVersion", "monitoring.coreos.com/v1" },
        { "kind", "PrometheusRule" },
        { "metadata", metadata },
        { "spec", spec },
    };
}

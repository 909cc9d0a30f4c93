using System.Text.Json.Nodes;
using Aspire.Hosting.Deployment.Helm;
using Aspire.Hosting.Deployment.Yaml;
using k8s.Models;

namespace Hosting.Deployment.Tests;

/// <summary>
/// An integration the generator knows nothing of contributes through the hook (<see cref="DeploymentContribution"/>):
/// a label where Compose has a counterpart, an object always deployed with the workload, and an optional form (a
/// Kustomize component, a Helm switch with its own value and schema). Each appears in the outputs the real tools
/// render, and only there.
/// </summary>
public sealed class ContributionHookTests : IDisposable
{
    private readonly PublishModel model = new();

    [Fact]
    public async Task An_object_contributed_from_outside_appears_in_compose_kustomize_and_helm()
    {
        model.Builder.AddContainer("web", "nginx", "1.27.3")
            .WithHttpEndpoint(targetPort: 8080, name: "http")
            .WithDeployment(d => d.RunAs(101).Contribute(new AuditContribution()));
        var output = await model.WriteToTemporaryFolderAsync();
        try
        {
            // Compose: the label, on the workload's service.
            var services = (Dictionary<object, object>)(await RenderedOutputs.ComposeAsync(output))["services"];
            var labels = (Dictionary<object, object>)((Dictionary<object, object>)services["web"])["labels"];
            Assert.Equal("web-audit", labels["com.example.audit"]);

            // Kustomize: the object always; the option's ServiceMonitor only with its component, in the system's namespace.
            var (_, plain) = await RenderedOutputs.KustomizeAsync(output);
            Assert.Equal("team: \"#shop\"", Assert.Single(plain.OfType<V1ConfigMap>(), c => c.Name() == "web-audit").Data["audit.yaml"]);
            var (monitored, _) = await RenderedOutputs.KustomizeAsync(output, "audit-monitor");
            Assert.Contains("kind: ServiceMonitor", monitored, StringComparison.Ordinal);
            Assert.Contains("interval: 30s", monitored, StringComparison.Ordinal);
            Assert.Contains("namespace: shop", monitored, StringComparison.Ordinal);
            Assert.DoesNotContain("kind: ServiceMonitor", (await RenderedOutputs.KustomizeAsync(output)).Rendered, StringComparison.Ordinal);

            // Helm: the object always, the option behind its switch, its value declared with its schema.
            foreach (var (rendered, objects) in await RenderedOutputs.HelmAsync(output, "shop"))
            {
                Assert.Single(objects.OfType<V1ConfigMap>(), c => c.Name() == "web-audit");
                Assert.DoesNotContain("kind: ServiceMonitor", rendered, StringComparison.Ordinal);
            }
            foreach (var (rendered, _) in await RenderedOutputs.HelmAsync(output, "shop", "web.monitor.enabled=true", "web.monitor.interval=1m"))
            {
                Assert.Contains("interval: \"1m\"", rendered, StringComparison.Ordinal);
            }
            var values = await File.ReadAllTextAsync(Path.Combine(output, "helm", "shop", "values.yaml"));
            Assert.Contains("  monitor:\n    enabled: false\n    interval: 30s\n", values, StringComparison.Ordinal);
            var schema = JsonNode.Parse(await File.ReadAllTextAsync(Path.Combine(output, "helm", "shop", "values.schema.json")))!;
            Assert.Equal("^[0-9]+[smh]$", (string?)schema["properties"]!["web"]!["properties"]!["monitor"]!["properties"]!["interval"]!["pattern"]);
        }
        finally
        {
            Directory.Delete(output, recursive: true);
        }
    }

    public void Dispose() => model.Dispose();

    /// <summary>What an integration of its own might deploy: an audit ConfigMap, and optionally a Prometheus Operator ServiceMonitor.</summary>
    private sealed class AuditContribution : DeploymentContribution
    {
        private readonly DeploymentOption monitor = new("monitor", "audit-monitor", "monitor")
        {
            ResourcesFile = "servicemonitor.yaml",
            ValuesSchema = ValueSchemas.Record(
                ("enabled", ValueSchemas.Boolean()),
                ("interval", new JsonObject { ["type"] = "string", ["pattern"] = "^[0-9]+[smh]$" })),
        };

        public AuditContribution() => monitor.Values.Add("interval", "30s");

        public override void DeclareValues(DeploymentValues values) => values.AddOption(monitor);

        public override void WriteCompose(ComposeContext compose) => compose.Labels["com.example.audit"] = $"{compose.Service}-audit";

        public override void WriteKubernetes(KubernetesContext kubernetes)
        {
            kubernetes.Add(new Map
            {
                { "apiVersion", "v1" },
                { "kind", "ConfigMap" },
                { "metadata", kubernetes.Metadata($"{kubernetes.Workload}-audit") },
                { "data", new Map { { "audit.yaml", "team: \"#shop\"" } } },
            });
            kubernetes.Add(monitor, new Map
            {
                { "apiVersion", "monitoring.coreos.com/v1" },
                { "kind", "ServiceMonitor" },
                { "metadata", kubernetes.Metadata() },
                {
                    "spec", new Map
                    {
                        { "selector", new Map { { "matchLabels", kubernetes.Selector(kubernetes.Workload) } } },
                        { "endpoints", new Seq { new Map { { "port", "http" }, { "interval", kubernetes.Value(monitor, "interval", "quote") } } } },
                    }
                },
            });
        }
    }
}

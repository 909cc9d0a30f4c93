using k8s;
using k8s.Models;

namespace AppHost.Tests.Deployment;

/// <summary>
/// Every pod every rendered form runs (Kustomize's overlays and components, Helm's values files and switches, the
/// worker controller's WorkerDeployments) meets Kubernetes' Pod Security Standard "restricted", which the namespace
/// enforces: a pod that did not would be refused at admission, in production, at the worst moment.
/// </summary>
[Collection(SharedDeployment.Name)]
public sealed class PodSecurityTests(GeneratedDeployment generated)
{
    public static TheoryData<string, string[]> Forms => new()
    {
        { "kustomize", ["overlays/development"] },
        { "kustomize", ["overlays/production"] },
        { "kustomize", ["overlays/production", "keda"] },
        { "kustomize", ["overlays/production", "worker-versioning"] },
        { "helm", [] },
        { "helm", ["-f", "values-production.yaml"] },
        { "helm", ["-f", "values-production.yaml", "--set", "keda.enabled=true"] },
        { "helm", ["--set", "workerVersioning.enabled=true", "--set-string", "workerVersioning.buildId=1.4.0"] },
    };

    [Theory]
    [MemberData(nameof(Forms))]
    public async Task Every_pod_of_the_form_meets_the_restricted_pod_security_standard(string tool, string[] form)
    {
        var rendered = await RenderAsync(tool, form);

        var pods = Pods(rendered);
        Assert.Contains(pods, p => p.Owner.EndsWith("/temporal-server", StringComparison.Ordinal));
        var violations = pods.SelectMany(p => PodSecurityRestricted.Violations(p.Spec).Select(v => $"{p.Owner}: {v}")).ToList();
        Assert.True(violations.Count == 0, string.Join('\n', violations));
    }

    [Fact]
    public async Task The_check_finds_a_container_that_may_escalate_or_adds_a_capability()
    {
        // What values.schema.json lets through (it refuses a root user already): the check must catch the rest.
        var rendered = await RenderAsync("helm", ["--set", "securityContext.allowPrivilegeEscalation=true", "--set", "securityContext.capabilities.add[0]=NET_ADMIN"]);

        var worker = Assert.Single(Pods(rendered), p => p.Owner == "Deployment/worker");
        var violations = PodSecurityRestricted.Violations(worker.Spec);

        Assert.Contains(violations, v => v.StartsWith("privilege escalation: worker", StringComparison.Ordinal));
        Assert.Contains("capabilities: worker adds NET_ADMIN (restricted allows NET_BIND_SERVICE only)", violations);
    }

    [Fact]
    public async Task Helm_tells_the_installer_to_label_the_namespace_as_the_kustomize_base_labels_its_own()
    {
        var kustomized = GeneratedDeployment.ParseStrict(await generated.KustomizeAsync("overlays/production"));
        var labels = Assert.Single(kustomized.OfType<V1Namespace>()).Metadata.Labels.Where(l => l.Key.StartsWith("pod-security.kubernetes.io/", StringComparison.Ordinal)).ToList();
        var notes = await File.ReadAllTextAsync(Path.Combine(generated.Chart, "templates", "NOTES.txt"));

        Assert.Contains(labels, l => l.Key == "pod-security.kubernetes.io/enforce" && l.Value == "restricted");
        var command = Assert.Single(notes.Split('\n'), l => l.Contains("kubectl label namespace {{ .Release.Namespace }}", StringComparison.Ordinal));
        Assert.All(labels, l => Assert.Contains($"{l.Key}={l.Value}", command, StringComparison.Ordinal));
    }

    private async Task<string> RenderAsync(string tool, string[] form) => tool == "helm"
        ? await generated.HelmTemplateAsync(Validators.Helm4, form)
        : await generated.KustomizeAsync(form[0], form[1..]);

    private static List<(string Owner, V1PodSpec Spec)> Pods(string rendered) =>
        [.. KubernetesPolicy.Pods(rendered, GeneratedDeployment.ParseStrict(rendered)).Select(p => (p.Owner, p.Template.Spec))];
}

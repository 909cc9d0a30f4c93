using k8s.Models;

namespace AppHost.Tests.Deployment;

/// <summary><c>deploy/kubernetes</c> rendered by the real <c>kubectl kustomize</c>, parsed strictly and held to the policy.</summary>
[Collection(SharedDeployment.Name)]
public sealed class KustomizeDeploymentTests(GeneratedDeployment generated)
{
    [Theory]
    [InlineData("base", false)]
    [InlineData("overlays/development", false)]
    [InlineData("overlays/production", false)]
    [InlineData("overlays/development", true)]
    [InlineData("overlays/production", true)]
    public async Task Every_overlay_renders_parses_strictly_and_meets_the_policy(string overlay, bool keda)
    {
        var rendered = await RenderAsync(overlay, keda);
        var objects = GeneratedDeployment.ParseStrict(rendered);
        KubernetesPolicy.Check(rendered, objects);
        Assert.Single(objects.OfType<V1Namespace>(), n => n.Metadata.Labels["pod-security.kubernetes.io/enforce"] == "restricted");
        Assert.All(objects.Where(o => o is not V1Namespace).Cast<k8s.IKubernetesObject<V1ObjectMeta>>(), o => Assert.Equal("temporal-orders", o.Metadata.NamespaceProperty));
        // The secret generator read secrets.env: one Secret, whose name the pods' references follow.
        var secret = Assert.Single(objects.OfType<V1Secret>());
        Assert.StartsWith("temporal-orders-secrets-", secret.Name(), StringComparison.Ordinal);
        Assert.Contains($"name: {secret.Name()}", rendered, StringComparison.Ordinal);
        Assert.Equal(keda, rendered.Contains("kind: ScaledObject", StringComparison.Ordinal));
        if (keda)
        {
            await GeneratedDeployment.ValidateCustomResourcesAsync(rendered);
        }
    }

    [Fact]
    public async Task The_alert_rules_component_adds_a_prometheus_rule()
    {
        var rendered = await RenderWithComponentAsync("overlays/production", "prometheus-rules");
        await GeneratedDeployment.ValidatePrometheusRuleAsync(rendered);
    }

    [Fact]
    public async Task Development_runs_one_replica_and_production_spreads_the_worker_over_nodes()
    {
        var development = GeneratedDeployment.ParseStrict(await RenderAsync("overlays/development", keda: false));
        var production = GeneratedDeployment.ParseStrict(await RenderAsync("overlays/production", keda: false));
        Assert.Equal(1, development.OfType<V2HorizontalPodAutoscaler>().Single(h => h.Name() == "worker").Spec.MinReplicas);
        var worker = production.OfType<V1Deployment>().Single(d => d.Name() == "worker");
        Assert.Contains(worker.Spec.Template.Spec.TopologySpreadConstraints, t => t.TopologyKey == "topology.kubernetes.io/zone");
        Assert.Null(worker.Spec.Replicas); // the HPA owns the count
        Assert.Equal(0, int.Parse(worker.Spec.Strategy.RollingUpdate.MaxUnavailable.Value, System.Globalization.CultureInfo.InvariantCulture));
    }

    [Fact]
    public async Task Only_the_pods_that_wait_for_a_job_may_reach_the_api_and_only_to_read_those_jobs()
    {
        var objects = GeneratedDeployment.ParseStrict(await RenderAsync("overlays/production", keda: false));
        var role = objects.OfType<V1Role>().Single(r => r.Name() == "worker-wait-for-jobs");
        var rule = Assert.Single(role.Rules);
        Assert.Equal(["jobs"], rule.Resources);
        Assert.Equal(["temporal-namespace"], rule.ResourceNames);
        Assert.DoesNotContain(rule.Verbs, v => v is "create" or "update" or "patch" or "delete");
        Assert.All(objects.OfType<V1ServiceAccount>(), a => Assert.False(a.AutomountServiceAccountToken));
        // The token reaches the waiting init container only, never the worker itself.
        var pod = objects.OfType<V1Deployment>().Single(d => d.Name() == "worker").Spec.Template.Spec;
        Assert.Contains(pod.InitContainers, c => c.VolumeMounts?.Any(m => m.Name == "api-token") == true);
        Assert.DoesNotContain(pod.Containers[0].VolumeMounts, m => m.Name == "api-token");
    }

    private async Task<string> RenderAsync(string overlay, bool keda) =>
        keda ? await RenderWithComponentAsync(overlay, "keda") : await KustomizeAsync(Path.Combine(generated.Kubernetes, overlay));

    private async Task<string> RenderWithComponentAsync(string overlay, string component)
    {
        // What a user writes to add a component: an overlay of the overlay (in a copy: the generation is shared).
        var copy = Directory.CreateTempSubdirectory("kustomize-").FullName;
        try
        {
            CopyTree(generated.Kubernetes, copy);
            var directory = Path.Combine(copy, "overlays", "with-keda");
            Directory.CreateDirectory(directory);
            await File.WriteAllTextAsync(Path.Combine(directory, "kustomization.yaml"), $"""
                apiVersion: kustomize.config.k8s.io/v1beta1
                kind: Kustomization
                resources: [../{Path.GetFileName(overlay)}]
                components: [../../components/{component}]
                """);
            return await KustomizeAsync(directory);
        }
        finally
        {
            Directory.Delete(copy, recursive: true);
        }
    }

    private static async Task<string> KustomizeAsync(string directory)
    {
        var result = await ProcessRunner.RunAsync(Validators.Kubectl, ["kustomize", directory], TimeSpan.FromSeconds(60));
        Assert.True(result.ExitCode == 0, result.Output);
        return result.StandardOutput;
    }

    private static void CopyTree(string from, string to)
    {
        foreach (var file in Directory.EnumerateFiles(from, "*", SearchOption.AllDirectories))
        {
            var target = Path.Combine(to, Path.GetRelativePath(from, file));
            Directory.CreateDirectory(Path.GetDirectoryName(target)!);
            File.Copy(file, target);
        }
    }
}

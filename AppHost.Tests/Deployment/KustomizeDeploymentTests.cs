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

    [Theory]
    [InlineData("overlays/development")]
    [InlineData("overlays/production")]
    public async Task The_worker_versioning_component_turns_the_worker_into_the_controllers_objects_with_the_same_pod_template(string overlay)
    {
        var unversioned = GeneratedDeployment.ParseStrict(await RenderAsync(overlay, keda: false));
        var rendered = await RenderWithComponentAsync(overlay, "worker-versioning");
        var objects = GeneratedDeployment.ParseStrict(rendered);
        KubernetesPolicy.Check(rendered, objects);
        var summary = await GeneratedDeployment.ValidateCustomResourcesAsync(rendered, "WorkerDeployment");
        Assert.All(["1 Connection", "1 WorkerDeployment", "1 WorkerResourceTemplate"], kind => Assert.Contains(kind, summary, StringComparison.Ordinal));

        // No Deployment or HPA of the worker is left for the controller's to fight with.
        Assert.DoesNotContain(objects, o => o is V1Deployment d && d.Name() == "worker");
        Assert.DoesNotContain(objects, o => o is V2HorizontalPodAutoscaler h && h.Name() == "worker");
        var deployment = unversioned.OfType<V1Deployment>().Single(d => d.Name() == "worker");
        var versioned = Assert.Single(WorkerControllerObjects.WorkerDeployments(rendered));
        // The same pods, whatever the overlay changed in them (production's spread, development's CPU request): the
        // two forms cannot drift apart.
        Assert.Equal(WorkerControllerObjects.Canonical(deployment.Spec.Template), WorkerControllerObjects.Canonical(versioned.Template));
        Assert.DoesNotContain("replicas", versioned.Spec.Keys); // the per-build HPAs own the count
        var rollout = (Dictionary<object, object>)versioned.Spec["rollout"];
        Assert.Equal("Progressive", rollout["strategy"]);
        Assert.Equal([("10", "10m"), ("50", "10m")], ((List<object>)rollout["steps"]).Cast<Dictionary<object, object>>()
            .Select(s => ((string)s["rampPercentage"], (string)s["pauseDuration"])));
        var sunset = (Dictionary<object, object>)versioned.Spec["sunset"];
        Assert.Equal(("1h", "24h"), ((string)sunset["scaledownDelay"], (string)sunset["deleteDelay"]));
        var options = (Dictionary<object, object>)versioned.Spec["workerOptions"];
        Assert.Equal("orders", options["temporalNamespace"]);

        // The HPA as a template, the overlay's bounds kept; the controller fills in each build's Deployment.
        var hpa = unversioned.OfType<V2HorizontalPodAutoscaler>().Single(h => h.Name() == "worker");
        var template = Assert.Single(WorkerControllerObjects.ResourceTemplates(rendered)).Autoscaler;
        Assert.Equal((hpa.Spec.MinReplicas, hpa.Spec.MaxReplicas), (template.Spec.MinReplicas, template.Spec.MaxReplicas));
        Assert.Equal(WorkerControllerObjects.Canonical(hpa.Spec.Metrics), WorkerControllerObjects.Canonical(template.Spec.Metrics));

        // The controller reaches the frontend from its own namespace, by name and through the default deny.
        var connection = WorkerControllerObjects.Connections(rendered)[(string)((Dictionary<object, object>)options["connectionRef"])["name"]];
        Assert.Equal("temporal-server.temporal-orders.svc:7233", connection["hostPort"]);
        var door = objects.OfType<V1NetworkPolicy>().Single(p => p.Name() == "temporal-server-from-worker-controller");
        Assert.Equal("temporal-system", door.Spec.Ingress.Single().FromProperty.Single().NamespaceSelector.MatchLabels["kubernetes.io/metadata.name"]);
        // The PDB and the Service still find the worker's pods, which carry the template's labels.
        Assert.Contains(objects, o => o is V1PodDisruptionBudget b && b.Name() == "worker");
    }

    [Theory]
    [InlineData("keda", "worker-versioning")]
    [InlineData("worker-versioning", "keda")]
    public async Task Keda_and_worker_versioning_cannot_be_combined_in_either_order(string first, string second)
    {
        // KEDA's ScaledObject would scale a Deployment the controller replaced: kustomize refuses, naming the HPA
        // that one component removed and the other needs.
        var result = await TryRenderWithComponentsAsync("overlays/production", first, second);

        Assert.NotEqual(0, result.ExitCode);
        Assert.Contains("HorizontalPodAutoscaler.v2.autoscaling/worker", result.Output, StringComparison.Ordinal);
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
        Assert.Equal(["appdb-migrations", "temporal-namespace"], rule.ResourceNames.Order());
        // Every Job carries the label the upgrade deletes them by (docs/deployment.md), the application's migration job included.
        Assert.All(objects.OfType<V1Job>(), j => Assert.Equal("job", j.Metadata.Labels["app.kubernetes.io/component"]));
        Assert.DoesNotContain(rule.Verbs, v => v is "create" or "update" or "patch" or "delete");
        Assert.All(objects.OfType<V1ServiceAccount>(), a => Assert.False(a.AutomountServiceAccountToken));
        // The token reaches the waiting init container only, never the worker itself.
        var pod = objects.OfType<V1Deployment>().Single(d => d.Name() == "worker").Spec.Template.Spec;
        Assert.Contains(pod.InitContainers, c => c.VolumeMounts?.Any(m => m.Name == "api-token") == true);
        Assert.DoesNotContain(pod.Containers[0].VolumeMounts, m => m.Name == "api-token");
    }

    private Task<string> RenderAsync(string overlay, bool keda) => keda ? generated.KustomizeAsync(overlay, "keda") : generated.KustomizeAsync(overlay);

    private Task<string> RenderWithComponentAsync(string overlay, params string[] components) => generated.KustomizeAsync(overlay, components);

    private Task<ProcessResult> TryRenderWithComponentsAsync(string overlay, params string[] components) => generated.TryKustomizeAsync(overlay, components);
}

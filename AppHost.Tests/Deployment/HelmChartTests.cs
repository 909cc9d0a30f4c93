using k8s.Models;

namespace AppHost.Tests.Deployment;

/// <summary>The chart, through the real Helm 3 and Helm 4: lint, template with each way of installing, strict parse, policy.</summary>
[Collection(SharedDeployment.Name)]
public sealed class HelmChartTests(GeneratedDeployment generated)
{
    public static TheoryData<string> Helms => ["3", "4"];

    /// <summary>The ways docs/deployment.md installs the chart.</summary>
    public static TheoryData<string, string> Installs()
    {
        var data = new TheoryData<string, string>();
        foreach (var helm in new[] { "3", "4" })
        {
            data.Add(helm, "default");
            data.Add(helm, "production");
            data.Add(helm, "existing-infrastructure");
            data.Add(helm, "keda");
            data.Add(helm, "temporal-cloud-keda");
        }
        return data;
    }

    private static string Helm(string version) => version == "3" ? Validators.Helm3 : Validators.Helm4;

    private static string[] ValuesFor(string install) => install switch
    {
        "production" => ["-f", "values-production.yaml"],
        "existing-infrastructure" =>
        [
            "--set", "temporal.enabled=false", "--set", "temporal.frontendAddress=acme.a1b2c.tmprl.cloud:7233",
            "--set", "temporal.namespace=acme.a1b2c", "--set", "temporal.existingSecret=temporal-cloud",
            "--set", "postgresql.enabled=false", "--set", "postgresql.existingSecret=orders-db",
            "--set", "redis.enabled=false", "--set", "redis.existingSecret=orders-cache",
        ],
        "keda" => ["--set", "keda.enabled=true"],
        "temporal-cloud-keda" =>
        [
            "--set", "temporal.enabled=false", "--set", "temporal.frontendAddress=acme.a1b2c.tmprl.cloud:7233",
            "--set", "temporal.namespace=acme.a1b2c", "--set", "temporal.existingSecret=temporal-cloud", "--set", "keda.enabled=true",
        ],
        _ => [],
    };

    [Theory]
    [MemberData(nameof(Helms))]
    public async Task Chart_lints_strictly(string helm)
    {
        var result = await ProcessRunner.RunAsync(Helm(helm), ["lint", "--strict", "."], TimeSpan.FromSeconds(60), workingDirectory: generated.Chart);
        Assert.True(result.ExitCode == 0, result.Output);
        Assert.Contains("0 chart(s) failed", result.Output, StringComparison.Ordinal);
    }

    [Theory]
    [MemberData(nameof(Installs))]
    public async Task Every_install_renders_parses_strictly_and_meets_the_policy(string helm, string install)
    {
        var rendered = await TemplateAsync(helm, ValuesFor(install));
        var objects = GeneratedDeployment.ParseStrict(rendered);
        KubernetesPolicy.Check(rendered, objects);
        var workloads = objects.OfType<k8s.IKubernetesObject<V1ObjectMeta>>().Where(o => o is V1Deployment or V1StatefulSet or V1Job).Select(o => o.Name()).ToList();
        var worker = objects.OfType<V1Deployment>().Single(d => d.Name() == "worker").Spec.Template.Spec;
        var env = worker.Containers[0].Env;
        switch (install)
        {
            case "existing-infrastructure":
                // The application's migrations still run, as a hook before the worker, on the existing database's connection string.
                Assert.Equal(["appdb-migrations", "worker"], workloads.Order());
                var migrations = objects.OfType<V1Job>().Single(j => j.Name() == "appdb-migrations");
                Assert.Equal("pre-install,pre-upgrade", migrations.Metadata.Annotations["helm.sh/hook"]);
                Assert.Equal("orders-db", migrations.Spec.Template.Spec.Containers[0].Env.Single(e => e.Name == "ConnectionStrings__appdb").ValueFrom.SecretKeyRef.Name);
                // The chart's own database passwords are not read where its PostgreSQL is off: a secrets.existingSecret needs no such keys.
                Assert.DoesNotContain(env, e => e.ValueFrom?.SecretKeyRef?.Key?.StartsWith("POSTGRES_", StringComparison.Ordinal) == true);
                Assert.DoesNotContain(migrations.Spec.Template.Spec.Containers[0].Env, e => e.ValueFrom?.SecretKeyRef?.Key?.StartsWith("POSTGRES_", StringComparison.Ordinal) == true);
                Assert.Equal("Endpoint=acme.a1b2c.tmprl.cloud:7233;Namespace=acme.a1b2c", env.Single(e => e.Name == "ConnectionStrings__temporal").Value);
                Assert.Equal("orders-db", env.Single(e => e.Name == "ConnectionStrings__appdb").ValueFrom.SecretKeyRef.Name);
                Assert.Equal("temporal-cloud", env.Single(e => e.Name == "Temporal__ApiKey").ValueFrom.SecretKeyRef.Name);
                // Nothing of the release to wait for but the migrations hook, complete before the release's objects exist.
                Assert.Equal(["wait-for-appdb-migrations"], worker.InitContainers.Select(c => c.Name));
                Assert.Contains("job/appdb-migrations", worker.InitContainers[0].Command);
                // The worker's Role names every job it may wait for (a switched-off one's name reads nothing).
                Assert.Contains("appdb-migrations", Assert.Single(objects.OfType<V1Role>()).Rules.Single().ResourceNames);
                break;
            case "keda":
                Assert.Contains("kind: ScaledObject", rendered, StringComparison.Ordinal);
                Assert.Contains("endpoint: \"temporal-server.orders.svc:7233\"", rendered, StringComparison.Ordinal);
                Assert.DoesNotContain(objects, o => o is V2HorizontalPodAutoscaler h && h.Spec.ScaleTargetRef.Name == "worker");
                Assert.Null(objects.OfType<V1Deployment>().Single(d => d.Name() == "worker").Spec.Replicas); // KEDA owns the count
                Assert.DoesNotContain("kind: TriggerAuthentication", rendered, StringComparison.Ordinal);
                await GeneratedDeployment.ValidateCustomResourcesAsync(rendered);
                break;
            case "temporal-cloud-keda":
                // The scaler reaches Temporal Cloud with the worker's API key.
                Assert.Contains("endpoint: \"acme.a1b2c.tmprl.cloud:7233\"", rendered, StringComparison.Ordinal);
                Assert.Contains("kind: TriggerAuthentication", rendered, StringComparison.Ordinal);
                Assert.Contains("authenticationRef:", rendered, StringComparison.Ordinal);
                Assert.DoesNotContain(objects, o => o is V1NetworkPolicy p && p.Name().EndsWith("-from-keda", StringComparison.Ordinal));
                await GeneratedDeployment.ValidateCustomResourcesAsync(rendered);
                break;
            default:
                // A Job per release revision: its pod template is immutable, and migrations run again on upgrade.
                Assert.Contains("temporal-server-schema-1", workloads);
                Assert.Equal(["appdb-migrations-1", "temporal-namespace-1"],
                    objects.OfType<V1Role>().Single(r => r.Name() == "worker-wait-for-jobs").Rules.Single().ResourceNames.Order());
                Assert.Contains(objects, o => o is V2HorizontalPodAutoscaler h && h.Spec.ScaleTargetRef.Name == "worker"
                    && h.Spec.MinReplicas == (install == "production" ? 3 : 2));
                // Production storage for PostgreSQL, whatever else shares its group (an upgrade cannot change the claim's size).
                Assert.Equal(install == "production" ? "50Gi" : "8Gi", objects.OfType<V1StatefulSet>().Single(s => s.Name() == "postgres")
                    .Spec.VolumeClaimTemplates.Single().Spec.Resources.Requests["storage"].ToString());
                // The schema job runs on the release's own PostgreSQL: a plain Job, not a pre-install hook.
                Assert.DoesNotContain(objects.OfType<V1Job>(), j => j.Metadata.Annotations?.ContainsKey("helm.sh/hook") == true);
                break;
        }
    }

    [Theory]
    [MemberData(nameof(Helms))]
    public async Task A_job_whose_dependencies_are_all_external_is_a_hook_unless_hooks_are_off(string helm)
    {
        string[] externalDatabase = ["--set", "postgresql.enabled=false", "--set", "postgresql.existingSecret=orders-db"];
        var hooked = GeneratedDeployment.ParseStrict(await TemplateAsync(helm, externalDatabase));
        var schema = hooked.OfType<V1Job>().Single(j => j.Name() == "temporal-server-schema");
        Assert.Equal("pre-install,pre-upgrade", schema.Metadata.Annotations["helm.sh/hook"]);
        // What its pod needs exists before it: its ServiceAccount and settings are hooks of a lower weight.
        foreach (var needed in hooked.OfType<k8s.IKubernetesObject<V1ObjectMeta>>().Where(o => o is V1ServiceAccount or V1ConfigMap && o.Name().StartsWith("temporal-server-schema", StringComparison.Ordinal)))
        {
            Assert.Equal("-5", needed.Metadata.Annotations["helm.sh/hook-weight"]);
        }
        Assert.Contains(hooked.OfType<V1Deployment>().Single(d => d.Name() == "temporal-server").Spec.Template.Spec.InitContainers,
            c => c.Command.Contains("job/temporal-server-schema"));
        var gitOps = GeneratedDeployment.ParseStrict(await TemplateAsync(helm, [.. externalDatabase, "--set", "hooks.enabled=false"]));
        Assert.Null(gitOps.OfType<V1Job>().Single(j => j.Name() == "temporal-server-schema-1").Metadata.Annotations);
    }

    [Theory]
    [MemberData(nameof(Helms))]
    public async Task Schema_rejects_a_wrong_type_and_an_unknown_top_level_key(string helm)
    {
        var wrongType = await ProcessRunner.RunAsync(Helm(helm), ["template", "r", ".", "--set", "replicaCount=three"], TimeSpan.FromSeconds(60), workingDirectory: generated.Chart);
        Assert.NotEqual(0, wrongType.ExitCode);
        Assert.Contains("replicaCount", wrongType.Output, StringComparison.Ordinal);
        var unknown = await ProcessRunner.RunAsync(Helm(helm), ["template", "r", ".", "--set", "replicas=3"], TimeSpan.FromSeconds(60), workingDirectory: generated.Chart);
        Assert.NotEqual(0, unknown.ExitCode);
        Assert.Contains("replicas", unknown.Output, StringComparison.Ordinal);
    }

    [Theory]
    [MemberData(nameof(Helms))]
    public async Task Secrets_given_as_values_are_only_in_the_secret_and_missing_ones_are_generated(string helm)
    {
        var rendered = await TemplateAsync(helm, ["--set", $"secrets.API_KEY={GeneratedDeployment.SecretSentinels["API_KEY"]}"]);
        var secret = GeneratedDeployment.ParseStrict(rendered).OfType<V1Secret>().Single();
        Assert.Equal(GeneratedDeployment.SecretSentinels["API_KEY"], System.Text.Encoding.UTF8.GetString(secret.Data["API_KEY"]));
        Assert.Equal(32, secret.Data["POSTGRES_PASSWORD"].Length); // generated at install, never written to the repository
        var existing = GeneratedDeployment.ParseStrict(await TemplateAsync(helm, ["--set", "secrets.existingSecret=mine"]));
        Assert.Empty(existing.OfType<V1Secret>());
        Assert.Contains(existing.OfType<V1Deployment>().Single(d => d.Name() == "worker").Spec.Template.Spec.Containers[0].Env,
            e => e.ValueFrom?.SecretKeyRef?.Name == "mine");
    }

    [Theory]
    [MemberData(nameof(Helms))]
    public async Task A_setting_of_the_model_is_a_value(string helm)
    {
        var rendered = GeneratedDeployment.ParseStrict(await TemplateAsync(helm, ["--set", "settings.OTEL_EXPORTER_OTLP_ENDPOINT=http://collector:4317"]));
        Assert.Equal("http://collector:4317", rendered.OfType<V1ConfigMap>().Single(c => c.Name() == "worker-settings").Data["OTEL_EXPORTER_OTLP_ENDPOINT"]);
    }

    [Theory]
    [MemberData(nameof(Helms))]
    public async Task The_alert_rules_ship_as_a_prometheus_rule_behind_a_switch(string helm)
    {
        Assert.DoesNotContain("kind: PrometheusRule", await TemplateAsync(helm, []), StringComparison.Ordinal);
        var rendered = await TemplateAsync(helm, ["--set", "prometheusRule.enabled=true", "--set", "prometheusRule.labels.release=prometheus"]);
        await GeneratedDeployment.ValidatePrometheusRuleAsync(rendered);
        Assert.Contains("release: prometheus", rendered, StringComparison.Ordinal); // what the operator's ruleSelector matches
    }

    /// <summary>The ways docs/deployment.md installs the versioned form (<c>workerVersioning.enabled=true</c> added to each).</summary>
    public static TheoryData<string, string> VersionedInstalls()
    {
        var data = new TheoryData<string, string>();
        foreach (var helm in new[] { "3", "4" })
        {
            data.Add(helm, "default");
            data.Add(helm, "production");
            data.Add(helm, "temporal-cloud");
            data.Add(helm, "fixed-replicas");
        }
        return data;
    }

    private static string[] VersionedValuesFor(string install) => install switch
    {
        "production" => ["-f", "values-production.yaml"],
        "temporal-cloud" =>
        [
            "--set", "temporal.enabled=false", "--set", "temporal.frontendAddress=acme.a1b2c.tmprl.cloud:7233",
            "--set", "temporal.namespace=acme.a1b2c", "--set", "temporal.existingSecret=temporal-cloud",
        ],
        "fixed-replicas" => ["--set", "autoscaling.enabled=false", "--set", "replicaCount=4"],
        _ => [],
    };

    [Theory]
    [MemberData(nameof(VersionedInstalls))]
    public async Task Worker_versioning_renders_the_controllers_objects_with_the_deployments_pod_template(string helm, string install)
    {
        var unversioned = GeneratedDeployment.ParseStrict(await TemplateAsync(helm, VersionedValuesFor(install)));
        var rendered = await TemplateAsync(helm, [.. VersionedValuesFor(install), "--set", "workerVersioning.enabled=true"]);
        var objects = GeneratedDeployment.ParseStrict(rendered);
        KubernetesPolicy.Check(rendered, objects);
        await GeneratedDeployment.ValidateCustomResourcesAsync(rendered, "WorkerDeployment");

        Assert.DoesNotContain(objects, o => o is V1Deployment d && d.Name() == "worker");
        Assert.DoesNotContain(objects, o => o is V2HorizontalPodAutoscaler h && h.Name() == "worker");
        var deployment = unversioned.OfType<V1Deployment>().Single(d => d.Name() == "worker");
        var versioned = Assert.Single(WorkerControllerObjects.WorkerDeployments(rendered));
        // One pod template for both forms: the switch cannot make the versioned pods differ from the plain ones.
        Assert.Equal(WorkerControllerObjects.Canonical(deployment.Spec.Template), WorkerControllerObjects.Canonical(versioned.Template));
        Assert.Equal("Progressive", ((Dictionary<object, object>)versioned.Spec["rollout"])["strategy"]);
        var options = (Dictionary<object, object>)versioned.Spec["workerOptions"];
        Assert.False(options.ContainsKey("unsafeCustomBuildID")); // the controller's build ids, by default
        var connection = WorkerControllerObjects.Connections(rendered)[(string)((Dictionary<object, object>)options["connectionRef"])["name"]];
        var templates = WorkerControllerObjects.ResourceTemplates(rendered);
        var door = objects.OfType<V1NetworkPolicy>().SingleOrDefault(p => p.Name() == "temporal-server-from-worker-controller");
        switch (install)
        {
            case "temporal-cloud":
                // The controller and the pods it makes reach Temporal Cloud with the worker's API key.
                Assert.Equal("acme.a1b2c.tmprl.cloud:7233", connection["hostPort"]);
                Assert.Equal("acme.a1b2c", options["temporalNamespace"]);
                var apiKey = (Dictionary<object, object>)connection["apiKeySecretRef"];
                Assert.Equal(("temporal-cloud", "apiKey"), ((string)apiKey["name"], (string)apiKey["key"]));
                Assert.Null(door);
                break;
            case "fixed-replicas":
                Assert.Equal("4", versioned.Spec["replicas"]);
                Assert.Empty(templates);
                break;
            default:
                Assert.Equal("temporal-server.orders.svc:7233", connection["hostPort"]);
                Assert.Equal("orders", options["temporalNamespace"]);
                Assert.False(connection.ContainsKey("apiKeySecretRef"));
                Assert.Equal("temporal-system", door!.Spec.Ingress.Single().FromProperty.Single().NamespaceSelector.MatchLabels["kubernetes.io/metadata.name"]);
                Assert.False(versioned.Spec.ContainsKey("replicas")); // the per-build HPAs own the count
                var hpa = unversioned.OfType<V2HorizontalPodAutoscaler>().Single(h => h.Name() == "worker");
                var template = Assert.Single(templates).Autoscaler;
                Assert.Equal(install == "production" ? 3 : 2, template.Spec.MinReplicas);
                Assert.Equal(WorkerControllerObjects.Canonical(hpa.Spec.Metrics), WorkerControllerObjects.Canonical(template.Spec.Metrics));
                Assert.Equal(WorkerControllerObjects.Canonical(hpa.Spec.Behavior), WorkerControllerObjects.Canonical(template.Spec.Behavior));
                Assert.Equal(hpa.Spec.MaxReplicas, template.Spec.MaxReplicas);
                break;
        }
    }

    [Theory]
    [MemberData(nameof(Helms))]
    public async Task Worker_versioning_and_keda_cannot_be_combined(string helm)
    {
        var result = await TryTemplateAsync(helm, ["--set", "workerVersioning.enabled=true", "--set", "keda.enabled=true"]);

        Assert.NotEqual(0, result.ExitCode);
        Assert.Contains("workerVersioning.enabled and keda.enabled cannot be combined", result.Output, StringComparison.Ordinal);
    }

    [Theory]
    [MemberData(nameof(Helms))]
    public async Task Worker_versioning_values_are_held_to_what_the_controller_accepts(string helm)
    {
        Assert.NotEqual(0, (await TryTemplateAsync(helm, ["--set", "workerVersioning.rollout.strategy=Canary"])).ExitCode);
        Assert.NotEqual(0, (await TryTemplateAsync(helm, ["--set", "workerVersioning.rollout.maxSurge=1"])).ExitCode);
        Assert.NotEqual(0, (await TryTemplateAsync(helm, ["--set", "workerVersioning.sunset.deleteDelay=tomorrow"])).ExitCode);
        Assert.NotEqual(0, (await TryTemplateAsync(helm, ["--set", "workerVersioning.buildId=-not-a-build-id"])).ExitCode);
        foreach (var steps in new[] { "[{rampPercentage: 100, pauseDuration: 5m}]", "[{rampPercentage: 10}]", "[]" })
        {
            var refused = await TryTemplateWithValuesAsync(helm, $"workerVersioning: {{rollout: {{strategy: Progressive, steps: {steps}}}}}\n");
            Assert.True(refused.ExitCode != 0, $"steps {steps} were accepted");
            Assert.Contains("workerVersioning", refused.Output, StringComparison.Ordinal);
        }

        // What the schema lets through, the controller's CRD accepts too: a manual rollout, a build id of the user's.
        var manual = await TemplateAsync(helm, ["--set", "workerVersioning.enabled=true", "--set", "workerVersioning.rollout.strategy=Manual",
            "--set", "workerVersioning.rollout.steps=null", "--set", "workerVersioning.buildId=1.4.0"]);
        await GeneratedDeployment.ValidateCustomResourcesAsync(manual, "WorkerDeployment");
        var options = (Dictionary<object, object>)Assert.Single(WorkerControllerObjects.WorkerDeployments(manual)).Spec["workerOptions"];
        Assert.Equal("1.4.0", options["unsafeCustomBuildID"]);
    }

    private Task<string> TemplateAsync(string helm, string[] values) => generated.HelmTemplateAsync(Helm(helm), values);

    private Task<ProcessResult> TryTemplateAsync(string helm, string[] values) => generated.TryHelmTemplateAsync(Helm(helm), values);

    /// <summary><c>helm template</c> with a values file of these contents (a list cannot be given by <c>--set</c> whole).</summary>
    private async Task<ProcessResult> TryTemplateWithValuesAsync(string helm, string values)
    {
        var file = Path.Combine(Path.GetTempPath(), $"values-{Guid.NewGuid():N}.yaml");
        await File.WriteAllTextAsync(file, values);
        try
        {
            return await TryTemplateAsync(helm, ["-f", file]);
        }
        finally
        {
            File.Delete(file);
        }
    }
}

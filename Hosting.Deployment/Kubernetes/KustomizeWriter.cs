using Aspire.Hosting.Deployment.Compose;
using Aspire.Hosting.Deployment.Planning;
using Aspire.Hosting.Deployment.Yaml;

namespace Aspire.Hosting.Deployment.Kubernetes;

/// <summary>
/// <c>kubernetes/</c>: a <c>base/</c> with the model's values (one file per workload), <c>overlays/development</c>
/// (one replica, small) and <c>overlays/production</c> (the model's scale, spread over nodes), a
/// <c>components/keda</c> component that swaps the HPA for task-queue scaling, and a <c>components/worker-versioning</c>
/// component for Temporal's worker controller (<see cref="WorkerController"/>).
/// </summary>
internal static class KustomizeWriter
{
    private const string Root = "kubernetes";

    public static IEnumerable<(string Path, string Contents)> Write(Plan plan, DeploymentOptions options)
    {
        var values = new ManifestValues(plan, options);
        var objects = new KubernetesObjects(values);
        List<string> resources = ["namespace.yaml", "default-deny.yaml"];
        yield return ($"{Root}/base/namespace.yaml", Yaml(Namespace(options)));
        yield return ($"{Root}/base/default-deny.yaml", Yaml(NetworkPolicies.DefaultDeny(values)));
        foreach (var workload in plan.Workloads)
        {
            resources.Add($"{workload.Name}.yaml");
            yield return ($"{Root}/base/{workload.Name}.yaml", Yaml([.. objects.For(workload)]));
        }
        var kustomization = Kustomization("Kustomization");
        kustomization.Add("namespace", options.Name);
        kustomization.Add("resources", Seq.Of(resources));
        if (plan.Secrets.Count > 0)
        {
            // From an env file that is never committed (secrets.env.example shows its keys); the generated name
            // carries a hash of the contents, so a changed secret rolls the pods that use it.
            kustomization.Add("secretGenerator", new Seq { new Map { { "name", values.SecretName }, { "envs", Seq.Of(["secrets.env"]) } } });
            yield return ($"{Root}/base/secrets.env.example", Generated.SecretsExample(plan,
                "# Copy to secrets.env in this folder (never commit it) and give every key a value, for example: openssl rand -hex 24\n").ToString());
        }
        yield return ($"{Root}/base/kustomization.yaml", Yaml(kustomization));

        var app = plan.Workloads.Where(w => w.IsProject && w.IsLongRunning).ToList();
        yield return ($"{Root}/overlays/development/kustomization.yaml", Yaml(Overlay(app, development: true)));
        yield return ($"{Root}/overlays/production/kustomization.yaml", Yaml(Overlay(app, development: false)));

        if (options.AlertRules is { } rules)
        {
            var component = Kustomization("Component");
            component.Add("resources", Seq.Of(["prometheusrule.yaml"]));
            yield return ($"{Root}/components/prometheus-rules/kustomization.yaml", Yaml(component));
            yield return ($"{Root}/components/prometheus-rules/prometheusrule.yaml", Generated.Header + PrometheusRule.Document(
                $"  name: {options.Name}-alerts\n  namespace: {options.Name}\n  labels:\n    app.kubernetes.io/part-of: {options.Name}\n", PrometheusRule.Indent(rules)));
        }

        var scaled = plan.Workloads.Where(w => w.Queue is not null).ToList();
        if (scaled.Count > 0)
        {
            yield return ($"{Root}/components/keda/kustomization.yaml", Yaml(KedaComponent(scaled)));
            yield return ($"{Root}/components/keda/scaledobjects.yaml", Yaml([.. scaled.SelectMany(w => ScaledObject(values, w))]));
        }

        var versioned = plan.Workloads.Where(w => w.Versioning is not null).ToList();
        if (versioned.Count > 0)
        {
            foreach (var (file, documents) in WorkerController.KustomizeComponent(values, versioned))
            {
                yield return ($"{Root}/components/{WorkerController.Component}/{file}", Yaml(documents));
            }
        }
    }

    private static string Yaml(params YamlNode[] documents) => Generated.Header + YamlWriter.Write(documents);

    private static Map Kustomization(string kind) => new()
    {
        { "apiVersion", kind == "Component" ? "kustomize.config.k8s.io/v1alpha1" : "kustomize.config.k8s.io/v1beta1" },
        { "kind", kind },
    };

    /// <summary>The namespace enforces Kubernetes' "restricted" Pod Security Standard: what every workload here meets.</summary>
    private static Map Namespace(DeploymentOptions options) => new()
    {
        { "apiVersion", "v1" },
        { "kind", "Namespace" },
        {
            "metadata", new Map
            {
                { "name", options.Name },
                {
                    "labels", new Map
                    {
                        { "app.kubernetes.io/part-of", options.Name },
                        { "pod-security.kubernetes.io/enforce", "restricted" },
                        { "pod-security.kubernetes.io/enforce-version", "latest" },
                    }
                },
            }
        },
    };

    private static Map Overlay(List<Workload> app, bool development)
    {
        var overlay = Kustomization("Kustomization");
        overlay.Add("resources", Seq.Of(["../../base"]));
        var patches = new Seq();
        foreach (var w in app)
        {
            if (development)
            {
                // One replica and a small CPU request: a namespace for trying changes, not for load.
                patches.Add(Patch(w.Kind == WorkloadKind.StatefulService ? "StatefulSet" : "Deployment", w.Name, $"""
                    - op: replace
                      path: /spec/template/spec/containers/0/resources/requests/cpu
                      value: 50m
                    """));
                if (w.Settings.Autoscale is not null)
                {
                    patches.Add(Patch("HorizontalPodAutoscaler", w.Name, """
                        - op: replace
                          path: /spec/minReplicas
                          value: 1
                        - op: replace
                          path: /spec/maxReplicas
                          value: 2
                        """));
                }
                else
                {
                    patches.Add(Patch("Deployment", w.Name, """
                        - op: replace
                          path: /spec/replicas
                          value: 1
                        """));
                }
            }
            else
            {
                // Replicas spread over nodes and zones, so one node or zone going down leaves the others serving.
                patches.Add(Patch("Deployment", w.Name, $$"""
                    - op: add
                      path: /spec/template/spec/topologySpreadConstraints
                      value:
                        - maxSkew: 1
                          topologyKey: kubernetes.io/hostname
                          whenUnsatisfiable: ScheduleAnyway
                          labelSelector:
                            matchLabels:
                              app.kubernetes.io/name: {{w.Name}}
                        - maxSkew: 1
                          topologyKey: topology.kubernetes.io/zone
                          whenUnsatisfiable: ScheduleAnyway
                          labelSelector:
                            matchLabels:
                              app.kubernetes.io/name: {{w.Name}}
                    """));
            }
        }
        overlay.Add("patches", patches.Count > 0 ? patches : null);
        if (!development)
        {
            // The release tag: `kustomize edit set image` (or the release workflow) moves it.
            overlay.Add("images", new Seq(app.Select(w => (YamlNode)new Map
            {
                { "name", w.Image[..w.Image.LastIndexOf(':')] },
                { "newTag", w.Image[(w.Image.LastIndexOf(':') + 1)..] },
            })));
        }
        return overlay;
    }

    private static Map Patch(string kind, string name, string jsonPatch) => new()
    {
        { "target", new Map { { "kind", kind }, { "name", name } } },
        { "patch", jsonPatch.ReplaceLineEndings("\n").TrimEnd('\n') + "\n" },
    };

    private static IEnumerable<Map> ScaledObject(ManifestValues values, Workload w)
    {
        var queue = w.Queue!;
        // KEDA resolves the address from its own namespace: the frontend's cluster DNS name, not its short one.
        var endpoint = queue.Frontend is { } frontend ? $"{frontend.Target}.{values.Options.Name}.svc:{frontend.Port}" : queue.Endpoint;
        // A component added by an overlay does not get the base's namespace: its objects name it themselves.
        var scaledObject = Keda.ScaledObject(values, w, new Scalar(endpoint), new Scalar(queue.Namespace), new Scalar(queue.TaskQueue),
            new Scalar(ManifestValues.Number(queue.TargetQueueSize)));
        ((Map)scaledObject["metadata"]!).Add("namespace", values.Options.Name);
        yield return scaledObject;
        if (queue.Frontend is { } reached)
        {
            var allow = Keda.AllowOperator(values, reached);
            ((Map)allow["metadata"]!).Add("namespace", values.Options.Name);
            yield return allow;
        }
    }

    private static Map KedaComponent(List<Workload> scaled)
    {
        var component = Kustomization("Component");
        component.Add("resources", Seq.Of(["scaledobjects.yaml"]));
        var patches = new Seq();
        foreach (var w in scaled.Where(w => w.Settings.Autoscale is not null))
        {
            // KEDA makes its own HPA from the ScaledObject; two autoscalers on one Deployment fight.
            patches.Add(new Map
            {
                {
                    "patch", $"""
                        $patch: delete
                        apiVersion: autoscaling/v2
                        kind: HorizontalPodAutoscaler
                        metadata:
                          name: {w.Name}

                        """.ReplaceLineEndings("\n")
                },
            });
        }
        component.Add("patches", patches.Count > 0 ? patches : null);
        return component;
    }
}

using Aspire.Hosting.Deployment.Planning;
using Aspire.Hosting.Deployment.Yaml;

namespace Aspire.Hosting.Deployment.Kubernetes;

/// <summary>
/// <c>kubernetes/</c>: a <c>base/</c> with the model's values (one file per workload), <c>overlays/development</c>
/// (one replica, small) and <c>overlays/production</c> (the model's scale, spread over nodes), and a component per
/// option that contributions bring (<see cref="DeploymentOption"/>), which an overlay adds.
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
        var components = new Dictionary<string, (List<YamlNode> Documents, Seq Patches, string File)>(StringComparer.Ordinal);
        var inProduction = new SortedSet<string>(StringComparer.Ordinal);
        // The Deployments an option on in production adds beside a workload's own: they read its settings too.
        var productionDeployments = new Dictionary<string, List<string>>(StringComparer.Ordinal);
        foreach (var workload in plan.Workloads)
        {
            var contributed = ContributedObjects.Of(values, objects, workload);
            resources.Add($"{workload.Name}.yaml");
            yield return ($"{Root}/base/{workload.Name}.yaml", Yaml([.. objects.For(workload), .. contributed.Documents]));
            foreach (var option in contributed.OptionDocuments.Select(d => d.Option).Concat(contributed.Patches.Select(p => p.Option)))
            {
                components.TryAdd(option.Component, ([], [], option.ResourcesFile));
                if (option.InProduction)
                {
                    inProduction.Add(option.Component);
                }
            }
            foreach (var (option, document) in contributed.OptionDocuments)
            {
                if (option.InProduction && document is Map { } map && (map["kind"] as Scalar)?.Value as string == "Deployment"
                    && ((Map)map["metadata"]!)["name"] is Scalar { Value: string name })
                {
                    (productionDeployments.TryGetValue(workload.Name, out var names) ? names : productionDeployments[workload.Name] = []).Add(name);
                }
                // A component added by an overlay does not get the base's namespace: its objects name it themselves,
                // except cluster-wide ones (by Kubernetes' naming of its kinds: ClusterRole, a policy engine's ClusterPolicy).
                if (!(((Map)document)["kind"] is Scalar { Value: string kind } && kind.StartsWith("Cluster", StringComparison.Ordinal)))
                {
                    ((Map)((Map)document)["metadata"]!).Add("namespace", options.Name);
                }
                // Workloads that share an object (one Connection to one frontend) contribute it once.
                var written = components[option.Component].Documents;
                if (!written.Any(d => YamlWriter.Write(d) == YamlWriter.Write(document)))
                {
                    written.Add(document);
                }
            }
            foreach (var (option, patch) in contributed.Patches)
            {
                components[option.Component].Patches.Add(patch);
            }
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
        yield return ($"{Root}/overlays/development/kustomization.yaml", Yaml(Overlay(plan, values, objects, app, [], new Dictionary<string, List<string>>(), development: true)));
        yield return ($"{Root}/overlays/production/kustomization.yaml", Yaml(Overlay(plan, values, objects, app, inProduction, productionDeployments, development: false)));

        if (options.AlertRules is { } rules)
        {
            var component = Kustomization("Component");
            component.Add("resources", Seq.Of(["prometheusrule.yaml"]));
            yield return ($"{Root}/components/prometheus-rules/kustomization.yaml", Yaml(component));
            var metadata = new Map
            {
                { "name", $"{options.Name}-alerts" },
                { "namespace", options.Name },
                { "labels", new Map { { "app.kubernetes.io/part-of", options.Name } } },
            };
            yield return ($"{Root}/components/prometheus-rules/prometheusrule.yaml", Yaml(PrometheusRule.Document(metadata, new EmbeddedYaml(rules))));
        }

        foreach (var (name, (documents, patches, file)) in components)
        {
            var component = Kustomization("Component");
            component.Add("resources", documents.Count > 0 ? Seq.Of([file]) : null);
            component.Add("patches", patches.Count > 0 ? patches : null);
            yield return ($"{Root}/components/{name}/kustomization.yaml", Yaml(component));
            if (documents.Count > 0)
            {
                yield return ($"{Root}/components/{name}/{file}", Yaml([.. documents]));
            }
        }
    }

    private static string Yaml(params YamlNode[] documents) => Generated.Header + YamlWriter.Write(documents);

    private static Map Kustomization(string kind) => new()
    {
        { "apiVersion", kind == "Component" ? "kustomize.config.k8s.io/v1alpha1" : "kustomize.config.k8s.io/v1beta1" },
        { "kind", kind },
    };

    /// <summary>The labels by which a namespace enforces Kubernetes' "restricted" Pod Security Standard.</summary>
    public static readonly KeyValuePair<string, string>[] PodSecurityLabels =
    [
        new("pod-security.kubernetes.io/enforce", "restricted"),
        new("pod-security.kubernetes.io/enforce-version", "latest"),
    ];

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
                        { PodSecurityLabels[0].Key, PodSecurityLabels[0].Value },
                        { PodSecurityLabels[1].Key, PodSecurityLabels[1].Value },
                    }
                },
            }
        },
    };

    private static Map Overlay(Plan plan, ManifestValues values, KubernetesObjects objects, List<Workload> app, IEnumerable<string> components,
        IReadOnlyDictionary<string, List<string>> optionDeployments, bool development)
    {
        var overlay = Kustomization("Kustomization");
        overlay.Add("resources", Seq.Of(["../../base"]));
        // Options on in production (DeploymentOption.InProduction): applied before the overlay's own patches.
        var added = Seq.Of(components.Select(c => $"../../components/{c}"));
        overlay.Add("components", added.Count > 0 ? added : null);
        var patches = new Seq();
        foreach (var w in app)
        {
            if (development)
            {
                // One replica and a small CPU request: a namespace for trying changes, not for load.
                patches.Add(Patch(w.Kind == WorkloadKind.StatefulService ? "StatefulSet" : "Deployment", w.Name,
                    Op("replace", "/spec/template/spec/containers/0/resources/requests/cpu", new Scalar("50m"))));
                patches.Add(w.Settings.Autoscale is not null
                    ? Patch("HorizontalPodAutoscaler", w.Name, Op("replace", "/spec/minReplicas", new Scalar(1)), Op("replace", "/spec/maxReplicas", new Scalar(2)))
                    : Patch("Deployment", w.Name, Op("replace", "/spec/replicas", new Scalar(1))));
            }
            else
            {
                // Replicas spread over nodes and zones, so one node or zone going down leaves the others serving.
                patches.Add(Patch("Deployment", w.Name, Op("add", "/spec/template/spec/topologySpreadConstraints", KubernetesObjects.SpreadOverNodesAndZones(w.Name))));
            }
        }
        if (!development)
        {
            // Settings whose production default differs (InProduction): in the settings ConfigMap they are read from.
            // The pods' checksum of them follows.
            foreach (var w in plan.Workloads.Where(w => w.Settings.ProductionSettings.Count > 0))
            {
                patches.Add(Patch("ConfigMap", $"{w.Name}-settings", [.. w.Settings.ProductionSettings.Select(s =>
                    Op("replace", $"/data/{s.Key}", new Scalar(s.Value)))]));
                var annotation = $"metadata/annotations/{PodTemplates.SettingsChecksumAnnotation.Replace("/", "~1", StringComparison.Ordinal)}";
                var checksum = values.SettingsChecksum([.. objects.Settings(w)], w.Settings.ProductionSettings);
                var (kind, template) = w.Kind switch
                {
                    WorkloadKind.StatefulService => ("StatefulSet", "/spec/template"),
                    WorkloadKind.Job => ("Job", "/spec/template"),
                    WorkloadKind.ScheduledJob => ("CronJob", "/spec/jobTemplate/spec/template"),
                    _ => ("Deployment", "/spec/template"),
                };
                patches.Add(Patch(kind, w.Name, Op("replace", $"{template}/{annotation}", checksum)));
                foreach (var name in optionDeployments.GetValueOrDefault(w.Name) ?? [])
                {
                    patches.Add(Patch("Deployment", name, Op("replace", $"/spec/template/{annotation}", checksum)));
                }
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

    /// <summary>A JSON patch of one object, its operations written as YAML into the patch's text.</summary>
    public static Map Patch(string kind, string name, params Map[] operations) => new()
    {
        { "target", new Map { { "kind", kind }, { "name", name } } },
        { "patch", YamlWriter.WriteList(new Seq(operations)) },
    };

    public static Map Op(string op, string path, YamlNode? value = null)
    {
        var operation = new Map { { "op", op }, { "path", path } };
        operation.Add("value", value);
        return operation;
    }
}

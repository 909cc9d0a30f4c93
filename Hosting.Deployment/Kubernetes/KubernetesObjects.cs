using Aspire.Hosting.Deployment.Planning;
using Aspire.Hosting.Deployment.Yaml;

namespace Aspire.Hosting.Deployment.Kubernetes;

/// <summary>
/// The Kubernetes objects of each workload, built once for Kustomize and Helm (their differences live in
/// <see cref="ManifestValues"/>): ServiceAccount, ConfigMaps, Deployment/StatefulSet/Job, Service, PDB, HPA,
/// NetworkPolicy, and RBAC only where a pod waits on the API. Pod templates are <see cref="PodTemplates"/>.
/// </summary>
internal sealed class KubernetesObjects(ManifestValues values)
{
    private PodTemplates Pods => new(values, this);

    private Plan Plan => values.Plan;

    /// <summary>The workload's documents, in apply order; under Helm each wrapped in its group's condition.</summary>
    public IEnumerable<YamlNode> For(Workload w)
    {
        Map workload;
        List<YamlNode?> documents =
        [
            ServiceAccount(w),
            NeedsApi(w) ? WhenApiNeeded(w, Role(w)) : null,
            NeedsApi(w) ? WhenApiNeeded(w, RoleBinding(w)) : null,
            ConfigMap(w),
            FilesConfigMap(w),
            .. w.Kind == WorkloadKind.StatefulService ? [] : w.Volumes.Select(v => VolumeClaim(w, v)),
            workload = w.Kind switch
            {
                WorkloadKind.Job => Job(w),
                WorkloadKind.ScheduledJob => CronJob(w),
                WorkloadKind.StatefulService => StatefulSet(w),
                _ => Deployment(w),
            },
            Service(w),
            w.IsLongRunning && w.Settings.MaxUnavailable is { } maxUnavailable ? DisruptionBudget(w, maxUnavailable) : null,
            w.IsLongRunning && w.Settings.Autoscale is not null ? Autoscaler(w) : null,
            NetworkPolicies.For(values, w),
        ];
        if (values.HookCondition(w) is { } hook)
        {
            // A hook runs before the release's other objects exist: what its pod needs is created as a hook before it.
            foreach (var document in documents.OfType<Map>().Where(d => d["kind"] is Scalar { Value: not "Job" }))
            {
                ((Map)document["metadata"]!).If(hook, HookAnnotations(weight: -5));
            }
        }
        // Helm: a Deployment that an option of the workload can replace exists only while that option is off.
        var deployment = w.Kind == WorkloadKind.Service ? values.DeploymentCondition(w) : null;
        return documents.OfType<YamlNode>()
            .Select(d => d == workload && deployment is not null ? new Conditional(deployment, d) : d)
            .Select(d => values.Condition(w) is { } condition ? new Conditional(condition, d) : d);
    }

    public Map Labels(Workload w) => new()
    {
        { "app.kubernetes.io/name", w.Name },
        { "app.kubernetes.io/instance", values.Instance },
        // Jobs by kind first, the application's migration job included: an upgrade deletes them by this label (docs/deployment.md).
        { "app.kubernetes.io/component", w.Kind switch { WorkloadKind.Job => "job", WorkloadKind.ScheduledJob => "scheduled-job", _ => w.IsProject ? "application" : "infrastructure" } },
        { "app.kubernetes.io/part-of", values.Options.Name },
        { "app.kubernetes.io/managed-by", values.ManagedBy },
    };

    public Map Selector(Workload w) => Selector(values, w.Name);

    public static Map Selector(ManifestValues values, string name) => new()
    {
        { "app.kubernetes.io/name", name },
        { "app.kubernetes.io/instance", values.Instance },
    };

    /// <summary>
    /// Topology spread constraints over nodes and zones for the pods named <paramref name="name"/>, so that one node or
    /// zone going down leaves the others serving (preferred, not required: a small cluster still schedules them).
    /// </summary>
    public static Seq SpreadOverNodesAndZones(string name) =>
    [
        SpreadOver("kubernetes.io/hostname", name),
        SpreadOver("topology.kubernetes.io/zone", name),
    ];

    private static Map SpreadOver(string topologyKey, string name) => new()
    {
        { "maxSkew", 1 },
        { "topologyKey", topologyKey },
        { "whenUnsatisfiable", "ScheduleAnyway" },
        { "labelSelector", new Map { { "matchLabels", new Map { { "app.kubernetes.io/name", name } } } } },
    };

    /// <summary>The pod template of the workload's Deployment, StatefulSet or Job (also what a WorkerDeployment is given).</summary>
    public Map PodTemplate(Workload w) => Pods.For(w);

    public Map Metadata(Workload w, string? name = null) => Metadata(w, new Scalar(name ?? w.Name));

    public Map Metadata(Workload w, YamlNode name) => new() { { "name", name }, { "labels", Labels(w) } };

    private static Map Document(string apiVersion, string kind, Map metadata, params (string Key, YamlNode? Value)[] body)
    {
        var document = new Map { { "apiVersion", apiVersion }, { "kind", kind }, { "metadata", metadata } };
        foreach (var (key, value) in body)
        {
            document.Add(key, value);
        }
        return document;
    }

    public static bool NeedsApi(Workload w) => w.Dependencies.Any(d => d.Completion);

    /// <summary>
    /// Helm's condition under which the pod waits for a job (some job's group on); null when it always does. RBAC,
    /// the API token and the API egress exist only then.
    /// </summary>
    public static string? ApiCondition(ManifestValues values, Workload w)
    {
        var conditions = w.Dependencies.Where(d => d.Completion).Select(d => values.DependencyCondition(values.Plan[d.Target])).Distinct().ToList();
        return conditions.Any(c => c is null) ? null : conditions.Count == 1 ? conditions[0] : $"or {string.Join(" ", conditions.Select(c => $"({c})"))}";
    }

    private YamlNode WhenApiNeeded(Workload w, YamlNode node) => ApiCondition(values, w) is { } condition ? new Conditional(condition, node) : node;

    private Map ServiceAccount(Workload w) =>
        Document("v1", "ServiceAccount", Metadata(w), ("automountServiceAccountToken", new Scalar(false)));

    private Map Role(Workload w) => Document("rbac.authorization.k8s.io/v1", "Role", Metadata(w, $"{w.Name}-wait-for-jobs"),
        ("rules", new Seq
        {
            new Map
            {
                { "apiGroups", Seq.Of(["batch"]) },
                { "resources", Seq.Of(["jobs"]) },
                { "resourceNames", new Seq(w.Dependencies.Where(d => d.Completion).Select(d => values.JobName(Plan[d.Target]))) },
                { "verbs", Seq.Of(["get", "list", "watch"]) },
            },
        }));

    private Map RoleBinding(Workload w) => Document("rbac.authorization.k8s.io/v1", "RoleBinding", Metadata(w, $"{w.Name}-wait-for-jobs"),
        ("roleRef", new Map { { "apiGroup", "rbac.authorization.k8s.io" }, { "kind", "Role" }, { "name", $"{w.Name}-wait-for-jobs" } }),
        ("subjects", new Seq { new Map { { "kind", "ServiceAccount" }, { "name", w.Name } } }));

    /// <summary>Plain settings, for the ConfigMap: no secret, and nothing another part of the system (which Helm can swap) decides.</summary>
    public IEnumerable<EnvironmentVariable> Settings(Workload w) => w.Environment.Where(e => !e.Value.HasSecret && values.ForeignGroup(w, e.Value) is null);

    private Map? ConfigMap(Workload w)
    {
        var data = new Map();
        foreach (var variable in Settings(w))
        {
            // envFrom is not expanded by the kubelet ($(VAR) only is in env, command and args): the text as it is.
            var text = values.Text(variable.Value, _ => throw new InvalidOperationException("a setting holds no secret"), expands: false);
            if (w.Settings.GroupSettings.TryGetValue(variable.Name, out var group) && values.GroupCondition(group) is { } condition)
            {
                data.If(condition, new Map { { variable.Name, text } });
            }
            else
            {
                data.Add(variable.Name, text);
            }
        }
        return data.Count == 0 ? null : Document("v1", "ConfigMap", Metadata(w, $"{w.Name}-settings"), ("data", data));
    }

    private Map? FilesConfigMap(Workload w)
    {
        if (w.Files.Count == 0)
        {
            return null;
        }
        var data = new Map();
        foreach (var file in w.Files)
        {
            data.Add(file.FileName, file.Contents);
        }
        return Document("v1", "ConfigMap", Metadata(w, $"{w.Name}-files"), ("data", data));
    }

    private Map Deployment(Workload w) => Document("apps/v1", "Deployment", Metadata(w),
        ("spec", WithReplicas(w, new Map
        {
            { "minReadySeconds", w.Settings.MinReadySeconds is { } seconds ? new Scalar(seconds) : null },
            { "revisionHistoryLimit", 5 },
            { "selector", new Map { { "matchLabels", Selector(w) } } },
            {
                "strategy", new Map
                {
                    { "type", "RollingUpdate" },
                    // A new pod serves before an old one goes: capacity never drops during a rollout.
                    { "rollingUpdate", new Map { { "maxUnavailable", 0 }, { "maxSurge", 1 } } },
                }
            },
            { "template", Pods.For(w) },
        })));

    private Map WithReplicas(Workload w, Map spec)
    {
        var withReplicas = new Map();
        values.AddReplicas(withReplicas, w);
        foreach (var (key, value) in spec)
        {
            withReplicas.Add(key, value);
        }
        return withReplicas;
    }

    private Map StatefulSet(Workload w) => Document("apps/v1", "StatefulSet", Metadata(w),
        ("spec", new Map
        {
            { "replicas", w.Settings.Replicas },
            { "serviceName", w.Name },
            { "selector", new Map { { "matchLabels", Selector(w) } } },
            { "updateStrategy", new Map { { "type", "RollingUpdate" } } },
            { "template", Pods.For(w) },
            {
                "volumeClaimTemplates", new Seq(w.Volumes.Select(v => (YamlNode)new Map
                {
                    { "metadata", new Map { { "name", v.Name } } },
                    {
                        "spec", new Map
                        {
                            { "accessModes", Seq.Of(["ReadWriteOnce"]) },
                            { "resources", new Map { { "requests", new Map { { "storage", values.StorageSize(w, v) } } } } },
                        }
                    },
                }))
            },
        }));

    private Map Job(Workload w) => Document("batch/v1", "Job", JobMetadata(w),
        ("spec", new Map
        {
            // Retried while what it needs comes up; its waiters see it complete.
            { "backoffLimit", 20 },
            { "template", Pods.For(w) },
        }));

    /// <summary>A job on a schedule; a run still going when the next is due is left to finish (no overlap).</summary>
    private Map CronJob(Workload w) => Document("batch/v1", "CronJob", Metadata(w),
        ("spec", new Map
        {
            { "schedule", values.Schedule(w) },
            { "timeZone", "Etc/UTC" },
            { "concurrencyPolicy", "Forbid" },
            { "successfulJobsHistoryLimit", 3 },
            { "failedJobsHistoryLimit", 3 },
            {
                "jobTemplate", new Map
                {
                    { "spec", new Map { { "backoffLimit", 2 }, { "template", Pods.For(w) } } },
                }
            },
        }));

    /// <summary>A volume of a workload that is not a StatefulSet (a job's output): a claim of its own, kept across runs.</summary>
    private Map VolumeClaim(Workload w, VolumeMount volume) => Document("v1", "PersistentVolumeClaim", Metadata(w, volume.Name),
        ("spec", new Map
        {
            { "accessModes", Seq.Of(["ReadWriteOnce"]) },
            { "resources", new Map { { "requests", new Map { { "storage", values.StorageSize(w, volume) } } } } },
        }));

    private Map JobMetadata(Workload w)
    {
        var metadata = Metadata(w, values.JobName(w));
        if (values.HookCondition(w) is { } hook)
        {
            metadata.If(hook, HookAnnotations(weight: 0));
        }
        return metadata;
    }

    private static Map HookAnnotations(int weight) => new()
    {
        {
            "annotations", new Map
            {
                { "helm.sh/hook", "pre-install,pre-upgrade" },
                { "helm.sh/hook-weight", ManifestValues.Number(weight) },
                { "helm.sh/hook-delete-policy", "before-hook-creation" },
            }
        },
    };

    public static string SecretVariable(SecretInput secret) => $"SECRET_{secret.Key}";

    public static Map SecretEnv(string name, YamlNode secretName, string key) => new()
    {
        { "name", name },
        { "valueFrom", new Map { { "secretKeyRef", new Map { { "name", secretName }, { "key", key } } } } },
    };

    /// <summary>A literal <c>$(</c> doubled, so Kubernetes does not read it as a variable reference.</summary>
    public static string Escape(string literal) => literal.Replace("$(", "$$(", StringComparison.Ordinal);

    public static string PortName(Port port) => port.Name.Length <= 15 ? port.Name : port.Name[..15];

    private Map? Service(Workload w)
    {
        if (!w.IsLongRunning || w.Ports.Count == 0)
        {
            return null;
        }
        return Document("v1", "Service", Metadata(w),
            ("spec", new Map
            {
                { "type", "ClusterIP" },
                { "selector", Selector(w) },
                {
                    "ports", new Seq(w.Ports.Select(p => (YamlNode)new Map
                    {
                        { "name", PortName(p) },
                        { "port", p.TargetPort },
                        { "targetPort", PortName(p) },
                        { "protocol", "TCP" },
                        { "appProtocol", p.Protocol == "grpc" ? "kubernetes.io/h2c" : p.Protocol },
                    }))
                },
            }));
    }

    private Map DisruptionBudget(Workload w, int maxUnavailable) => Document("policy/v1", "PodDisruptionBudget", Metadata(w),
        ("spec", new Map { { "maxUnavailable", maxUnavailable }, { "selector", new Map { { "matchLabels", Selector(w) } } } }));

    private YamlNode Autoscaler(Workload w)
    {
        var target = new Map { { "apiVersion", "apps/v1" }, { "kind", w.Kind == WorkloadKind.StatefulService ? "StatefulSet" : "Deployment" }, { "name", w.Name } };
        var hpa = Document("autoscaling/v2", "HorizontalPodAutoscaler", Metadata(w), ("spec", AutoscalerSpec(w, target)));
        return values.AutoscaleCondition(w) is { } condition ? new Conditional(condition, hpa) : hpa;
    }

    /// <summary>The HPA's spec, scaling <paramref name="scaleTargetRef"/> (an empty map where the worker controller fills it in).</summary>
    public Map AutoscalerSpec(Workload w, Map scaleTargetRef) => new()
    {
        { "scaleTargetRef", scaleTargetRef },
        { "minReplicas", values.AutoscaleMin(w) },
        { "maxReplicas", values.AutoscaleMax(w) },
        { "metrics", new Seq { Utilization("cpu", values.AutoscaleCpu(w)), Utilization("memory", values.AutoscaleMemory(w)) } },
        {
            // Scale in slowly: a backlog comes in waves, and a worker removed mid-activity costs a retry.
            "behavior", new Map { { "scaleDown", new Map { { "stabilizationWindowSeconds", 300 } } } }
        },
    };

    private static Map Utilization(string resource, YamlNode percent) => new()
    {
        { "type", "Resource" },
        {
            "resource", new Map
            {
                { "name", resource },
                { "target", new Map { { "type", "Utilization" }, { "averageUtilization", percent } } },
            }
        },
    };
}

using Aspire.Hosting.Deployment.Kubernetes;
using Aspire.Hosting.Deployment.Planning;
using Aspire.Hosting.Deployment.Yaml;

namespace Aspire.Hosting.Deployment.Helm;

/// <summary>
/// The Helm side of <see cref="ManifestValues"/>: each knob becomes an expression over <c>values.yaml</c>, which this
/// class fills as it goes (<see cref="Values"/>). The application gets the names people know from
/// <c>helm create</c> at the top level; each infrastructure group (<c>postgresql</c>, <c>temporal</c>, <c>redis</c>)
/// gets <c>enabled</c>, and when switched off its dependants read the existing infrastructure's address from
/// values or from a Secret instead.
/// </summary>
internal sealed class HelmValues : ManifestValues
{
    public HelmValues(Plan plan, DeploymentOptions options)
        : base(plan, options)
    {
        foreach (var group in plan.Groups)
        {
            var values = GroupValues(group);
            values.Add("enabled", true);
            values.Add("existingSecret", "");
            var external = plan.Workloads.SelectMany(w => w.Environment).SelectMany(e => e.Value.Resources)
                .FirstOrDefault(r => r.Group == group && r.WhenExternal is not null)?.WhenExternal;
            foreach (var (key, value) in external?.Defaults ?? new Dictionary<string, string>())
            {
                values.Add(key, value);
            }
        }
        Values.Add("hooks", new Map { { "enabled", true } });
        var secrets = new Map { { "existingSecret", "" } };
        foreach (var secret in plan.Secrets)
        {
            secrets.Add(secret.Key, "");
        }
        Values.Add("secrets", secrets);
    }

    /// <summary>The chart's <c>values.yaml</c>, in the order the templates asked for each value.</summary>
    public Map Values { get; } = new();

    /// <summary>
    /// Schemas of values sections (by dotted path) stricter than the one their defaults imply: what a part of the
    /// chart refuses that a type alone does not say (an enum, a range, a duration).
    /// </summary>
    public Dictionary<string, System.Text.Json.Nodes.JsonObject> Schemas { get; } = new(StringComparer.Ordinal);

    public string Chart => Options.Name;

    public override YamlNode Instance => new Template(".Release.Name");

    public override string ManagedBy => "Helm";

    public override YamlNode SecretNameNode => new Template($"include \"{Chart}.secretName\" .");

    private static bool IsApp(Workload w) => w.IsProject && w.Group is null;

    /// <summary>Where a workload's values live: the application at the top; a group's workloads under the group.</summary>
    private string PathOf(Workload w)
    {
        if (IsApp(w))
        {
            return "";
        }
        if (w.Group is { } group)
        {
            return Plan.Workloads.Count(x => x.Group == group) == 1 ? group : $"{group}.{Camel(w.Name)}";
        }
        return Camel(w.Name);
    }

    /// <summary>The workload's values section (the application's is the top level).</summary>
    public Map Section(Workload w) => SectionAt(PathOf(w));

    /// <summary>The dotted path of a key in the workload's values section.</summary>
    public string PathTo(Workload w, string key) => PathOf(w) is { Length: > 0 } path ? $"{path}.{key}" : key;

    private Map SectionAt(string path)
    {
        var section = Values;
        foreach (var key in path.Split('.', StringSplitOptions.RemoveEmptyEntries))
        {
            if (section[key] is not Map next)
            {
                section.Add(key, next = new Map());
            }
            section = next;
        }
        return section;
    }

    private Map GroupValues(string group) => SectionAt(group);

    /// <summary>A template reference to a key of the workload's values section.</summary>
    public string Ref(Workload w, string key) => $".Values.{PathTo(w, key)}";

    public override YamlNode Replicas(Workload w)
    {
        if (!IsApp(w))
        {
            return base.Replicas(w);
        }
        Values.Add("replicaCount", w.Settings.Replicas);
        return new Template(".Values.replicaCount");
    }

    public override YamlNode Image(Workload w)
    {
        var at = w.Image.LastIndexOf(':');
        var image = new Map { { "repository", w.Image[..at] }, { "tag", w.Image[(at + 1)..] } };
        if (IsApp(w))
        {
            image.Add("pullPolicy", "IfNotPresent");
        }
        if (Section(w)["image"] is null)
        {
            Section(w).Add("image", image);
        }
        return new Template($"printf \"%s:%s\" {Ref(w, "image.repository")} ({Ref(w, "image.tag")} | toString) | quote");
    }

    public override YamlNode ImagePullPolicy(Workload w) => IsApp(w) ? new Template(".Values.image.pullPolicy") : base.ImagePullPolicy(w);

    public override YamlNode Resources(Workload w)
    {
        Section(w).Add("resources", base.Resources(w));
        return new TemplateBlock($"toYaml {Ref(w, "resources")}");
    }

    public override YamlNode PodSecurityContext(Workload w)
    {
        if (!IsApp(w))
        {
            return base.PodSecurityContext(w);
        }
        Values.Add("podSecurityContext", base.PodSecurityContext(w));
        return new TemplateBlock("toYaml .Values.podSecurityContext");
    }

    public override YamlNode ContainerSecurityContext(Workload w)
    {
        if (!IsApp(w))
        {
            return base.ContainerSecurityContext(w);
        }
        Values.Add("securityContext", base.ContainerSecurityContext(w));
        return new TemplateBlock("toYaml .Values.securityContext");
    }

    public override YamlNode StorageSize(Workload w, VolumeMount volume)
    {
        Section(w).Add("persistence", new Map { { "size", ((Scalar)base.StorageSize(w, volume)).Value.ToString()! } });
        return new Template($"{Ref(w, "persistence.size")} | quote");
    }

    public override string Setting(SettingPart setting)
    {
        if (Values["settings"] is not Map settings)
        {
            Values.Add("settings", settings = new Map());
        }
        settings.Add(setting.Key, setting.Default);
        return $"{{{{ .Values.settings.{setting.Key} }}}}";
    }

    public override YamlNode Schedule(Workload w)
    {
        Section(w).Add("schedule", w.Settings.Schedule!);
        return new Template($"{Ref(w, "schedule")} | quote");
    }

    private Map Autoscaling(Workload w)
    {
        if (Section(w)["autoscaling"] is not Map autoscaling)
        {
            var settings = w.Settings.Autoscale!;
            Section(w).Add("autoscaling", autoscaling = new Map
            {
                { "enabled", true },
                { "minReplicas", settings.MinReplicas },
                { "maxReplicas", settings.MaxReplicas },
                { "targetCPUUtilizationPercentage", settings.CpuPercent },
                { "targetMemoryUtilizationPercentage", settings.MemoryPercent },
            });
        }
        return autoscaling;
    }

    public override YamlNode AutoscaleMin(Workload w) => AutoscaleValue(w, "minReplicas");

    public override YamlNode AutoscaleMax(Workload w) => AutoscaleValue(w, "maxReplicas");

    public override YamlNode AutoscaleCpu(Workload w) => AutoscaleValue(w, "targetCPUUtilizationPercentage");

    public override YamlNode AutoscaleMemory(Workload w) => AutoscaleValue(w, "targetMemoryUtilizationPercentage");

    private Template AutoscaleValue(Workload w, string key)
    {
        Autoscaling(w);
        return new Template(Ref(w, $"autoscaling.{key}"));
    }

    public override void AddReplicas(Map spec, Workload w)
    {
        var owners = new List<string>();
        if (w.Settings.Autoscale is not null)
        {
            Autoscaling(w);
            owners.Add(Ref(w, "autoscaling.enabled"));
        }
        if (w.Queue is not null)
        {
            owners.Add(Ref(w, "keda.enabled"));
        }
        if (owners.Count == 0)
        {
            base.AddReplicas(spec, w);
            return;
        }
        spec.If(owners.Count == 1 ? $"not {owners[0]}" : $"not (or {string.Join(" ", owners)})", new Map { { "replicas", Replicas(w) } });
    }

    public override YamlNode KedaNamespace => new Template(".Values.keda.operatorNamespace | quote");

    public override string? Condition(Workload w) => w.Group is { } group ? $".Values.{group}.enabled" : null;

    public override string? AutoscaleCondition(Workload w)
    {
        if (w.Settings.Autoscale is null)
        {
            return null;
        }
        Autoscaling(w);
        // Each other owner of the replica count (KEDA's HPA, the worker controller's per-version HPAs) turns it off.
        var others = new List<string>();
        if (w.Queue is not null)
        {
            others.Add(Ref(w, "keda.enabled"));
        }
        if (w.Versioning is not null)
        {
            others.Add(Ref(w, "workerVersioning.enabled"));
        }
        return others.Count == 0 ? Ref(w, "autoscaling.enabled")
            : $"and {Ref(w, "autoscaling.enabled")} {string.Join(" ", others.Select(o => $"(not {o})"))}";
    }

    public override string? DeploymentCondition(Workload w) => w.Versioning is null ? null : $"not {Ref(w, "workerVersioning.enabled")}";

    /// <summary>
    /// A new Job per release revision: a Job's pod template is immutable, so an upgrade that changes it (an image,
    /// a setting) could not update it in place, and a completed Job would never run again (migrations on upgrade).
    /// A hook keeps its name: Helm deletes the previous one before it creates the next.
    /// </summary>
    public override string JobName(Workload job) =>
        HookCondition(job) is { } hook
            ? $"{{{{ if {hook} }}}}{job.Name}{{{{ else }}}}{job.Name}-{{{{ .Release.Revision }}}}{{{{ end }}}}"
            : $"{job.Name}-{{{{ .Release.Revision }}}}";

    /// <summary>
    /// A job is a pre-install/pre-upgrade hook only when everything it needs is outside the release (a hook runs
    /// before the release's own servers exist); <c>hooks.enabled=false</c> for GitOps tools that skip hooks.
    /// </summary>
    public override string? HookCondition(Workload w)
    {
        var groups = w.Dependencies.Select(d => Plan[d.Target].Group).ToList();
        if (groups.Count == 0 || groups.Any(g => g is null || g == w.Group))
        {
            return null;
        }
        return $"and .Values.hooks.enabled {string.Join(" ", groups.Distinct().Select(g => $"(not .Values.{g}.enabled)"))}";
    }

    public override void AddEnvironment(Seq env, Workload w, EnvironmentVariable variable, Func<EnvironmentVariable, YamlNode> entry)
    {
        if (ForeignGroup(w, variable.Value) is not { } group)
        {
            base.AddEnvironment(env, w, variable, entry);
            return;
        }
        var external = new Seq();
        if (variable.Value.Resources.FirstOrDefault(r => r.Group == group)?.WhenExternal is { } whenExternal)
        {
            var text = whenExternal.Defaults.Keys.Aggregate(whenExternal.Format,
                (format, key) => format.Replace($"{{{key}}}", $"{{{{ .Values.{group}.{key} }}}}", StringComparison.Ordinal));
            external.Add(new Map { { "name", variable.Name }, { "value", text } });
            foreach (var (name, key) in whenExternal.SecretEnvironment ?? new Dictionary<string, string>())
            {
                var optional = KubernetesObjects.SecretEnv(name, new Template($".Values.{group}.existingSecret"), key);
                ((Map)((Map)optional["valueFrom"]!)["secretKeyRef"]!).Add("optional", true);
                external.Add(new Conditional($".Values.{group}.existingSecret", new Seq { optional }));
            }
        }
        else
        {
            // The existing infrastructure's value, under the variable's own name in the group's Secret.
            external.Add(KubernetesObjects.SecretEnv(variable.Name,
                new Template($"required \"{group}.existingSecret is required when {group}.enabled=false\" .Values.{group}.existingSecret"), variable.Name));
        }
        env.Add(new Conditional($".Values.{group}.enabled", new Seq { entry(variable) }, external));
    }

    public override void AddExternalEgress(Seq egress, Workload w)
    {
        foreach (var group in w.Connections.Select(c => Plan[c.Target].Group).OfType<string>().Where(g => g != w.Group).Distinct())
        {
            // Existing infrastructure lives anywhere: its ports, to any address.
            var ports = w.Connections.Where(c => Plan[c.Target].Group == group).Select(c => c.Port).Distinct();
            egress.Add(new Conditional($"not .Values.{group}.enabled", new Seq { new Map { { "ports", NetworkPolicies.Ports(ports) } } }));
        }
    }

    public static string Camel(string name)
    {
        var parts = name.Split('-', StringSplitOptions.RemoveEmptyEntries);
        return parts[0] + string.Concat(parts.Skip(1).Select(p => char.ToUpperInvariant(p[0]) + p[1..]));
    }
}

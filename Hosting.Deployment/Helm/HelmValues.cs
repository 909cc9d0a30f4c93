using Aspire.Hosting.Deployment.Kubernetes;
using Aspire.Hosting.Deployment.Planning;
using Aspire.Hosting.Deployment.Yaml;

namespace Aspire.Hosting.Deployment.Helm;

/// <summary>
/// The Helm side of <see cref="ManifestValues"/>: each knob is an expression over the values model
/// (<see cref="ChartValues"/>), which is complete before this is asked for anything. Each infrastructure group
/// (<c>postgresql</c>, <c>temporal</c>, <c>redis</c>) has <c>enabled</c>; switched off, its dependants read the
/// existing infrastructure's address from values or from a Secret instead. An option of a workload (a
/// <see cref="DeploymentOption"/>) switches off what it replaces.
/// </summary>
internal sealed class HelmValues(Plan plan, DeploymentOptions options, ChartValues chart) : ManifestValues(plan, options)
{
    public ChartValues Chart { get; } = chart;

    public string ChartName => Options.Name;

    public override YamlNode Instance => new Template(".Release.Name");

    public override string ManagedBy => "Helm";

    public override bool IsHelm => true;

    public override YamlNode SecretNameNode => new Template($"include \"{ChartName}.secretName\" .");

    /// <summary>A template reference to a key of the workload's values section.</summary>
    public string Ref(Workload w, string key) => Chart.Ref(w, key);

    public override YamlNode ClusterAddress(ServiceAddress target) =>
        new Template($"printf \"{target.Workload}.%s.svc:{target.Port}\" .Release.Namespace | quote");

    public override YamlNode OptionValue(Workload w, DeploymentOption option, string key, string? pipe) =>
        new Template(pipe is null ? Ref(w, $"{option.Name}.{key}") : $"{Ref(w, $"{option.Name}.{key}")} | {pipe}");

    public override YamlNode Replicas(Workload w) => ChartValues.IsApp(w) ? new Template(Ref(w, "replicaCount")) : base.Replicas(w);

    public override YamlNode Image(Workload w) =>
        new Template($"printf \"%s:%s\" {Ref(w, "image.repository")} ({Ref(w, "image.tag")} | toString) | quote");

    public override YamlNode ImagePullPolicy(Workload w) => ChartValues.IsApp(w) ? new Template(Ref(w, "image.pullPolicy")) : base.ImagePullPolicy(w);

    public override YamlNode Resources(Workload w) => new TemplateBlock($"toYaml {Ref(w, "resources")}");

    public override YamlNode PodSecurityContext(Workload w) =>
        ChartValues.IsApp(w) ? new TemplateBlock($"toYaml {Ref(w, "podSecurityContext")}") : base.PodSecurityContext(w);

    public override YamlNode ContainerSecurityContext(Workload w) =>
        ChartValues.IsApp(w) ? new TemplateBlock($"toYaml {Ref(w, "securityContext")}") : base.ContainerSecurityContext(w);

    public override YamlNode StorageSize(Workload w, VolumeMount volume) => new Template($"{Ref(w, "persistence.size")} | quote");

    /// <summary>A setting is a value under <c>settings</c>: a string that holds one is one expression, quoted by Helm.</summary>
    public override YamlNode Text(Value value, Func<SecretInput, string> secret, bool expands = true)
    {
        if (!value.Settings.Any())
        {
            return base.Text(value, secret, expands);
        }
        List<InterpolationPart> parts = [];
        foreach (var part in Flatten(value))
        {
            parts.Add(part switch
            {
                SettingPart s => new InterpolationPart(Chart.Ref($"settings.{s.Key}"), IsExpression: true),
                SecretPart s => new InterpolationPart(secret(s.Secret), IsExpression: false),
                LiteralPart l => new InterpolationPart(Literal(expands)(l.Text), IsExpression: false),
                _ => throw new InvalidOperationException(part.GetType().Name),
            });
        }
        return parts is [{ IsExpression: true } only] ? new Template($"{only.Text} | quote") : new Interpolation(parts);
    }

    private static IEnumerable<ValuePart> Flatten(Value value) =>
        value.Parts.SelectMany(p => p is ResourcePart r ? Flatten(r.Value) : [p]);

    /// <summary>The model's part of the settings hashed here; the values they read hashed by Helm at install.</summary>
    public override YamlNode SettingsChecksum(IReadOnlyList<EnvironmentVariable> settings, IReadOnlyDictionary<string, string>? overrides = null)
    {
        var model = Checksum(settings.Select(v => $"{v.Name}={v.Value.Render(NoSecret, setting: s => $"{{{s.Key}}}")}"));
        var read = settings.SelectMany(v => v.Value.Settings).Select(s => Chart.Ref($"settings.{s.Key}")).Distinct(StringComparer.Ordinal).ToList();
        return read.Count == 0 ? new Scalar(model) : new Template($"list \"{model}\" {string.Join(' ', read)} | toJson | sha256sum | quote");
    }

    public override YamlNode Schedule(Workload w) => new Template($"{Ref(w, "schedule")} | quote");

    public override YamlNode AutoscaleMin(Workload w) => new Template(Ref(w, "autoscaling.minReplicas"));

    public override YamlNode AutoscaleMax(Workload w) => new Template(Ref(w, "autoscaling.maxReplicas"));

    public override YamlNode AutoscaleCpu(Workload w) => new Template(Ref(w, "autoscaling.targetCPUUtilizationPercentage"));

    public override YamlNode AutoscaleMemory(Workload w) => new Template(Ref(w, "autoscaling.targetMemoryUtilizationPercentage"));

    /// <summary>The switch of an option of the workload (<c>.Values.keda.enabled</c>).</summary>
    public string Enabled(Workload w, DeploymentOption option) => Ref(w, $"{option.Name}.enabled");

    public override void AddReplicas(Map spec, Workload w)
    {
        var owners = new List<string>();
        if (w.Settings.Autoscale is not null)
        {
            owners.Add(Ref(w, "autoscaling.enabled"));
        }
        owners.AddRange(Chart.OptionsOf(w).Where(o => o.OwnsReplicas).Select(o => Enabled(w, o)));
        if (owners.Count == 0)
        {
            base.AddReplicas(spec, w);
            return;
        }
        spec.If(owners.Count == 1 ? $"not {owners[0]}" : $"not (or {string.Join(" ", owners)})", new Map { { "replicas", Replicas(w) } });
    }

    public override string? Condition(Workload w) => w.Group is { } group ? Chart.Ref($"{group}.enabled") : null;

    public override string? AutoscaleCondition(Workload w)
    {
        if (w.Settings.Autoscale is null)
        {
            return null;
        }
        // Each other owner of the replica count (an option's own autoscaler) turns it off.
        var others = Chart.OptionsOf(w).Where(o => o.ReplacesAutoscaler).Select(o => Enabled(w, o)).ToList();
        return others.Count == 0 ? Ref(w, "autoscaling.enabled")
            : $"and {Ref(w, "autoscaling.enabled")} {string.Join(" ", others.Select(o => $"(not {o})"))}";
    }

    public override string? DeploymentCondition(Workload w) =>
        Chart.OptionsOf(w).Where(o => o.ReplacesWorkload).Select(o => Enabled(w, o)).ToList() switch
        {
            [] => null,
            [var one] => $"not {one}",
            var many => $"not (or {string.Join(" ", many)})",
        };

    /// <summary>
    /// A new Job per release revision: a Job's pod template is immutable, so an upgrade that changes it (an image,
    /// a setting) could not update it in place, and a completed Job would never run again (migrations on upgrade).
    /// A hook keeps its name: Helm deletes the previous one before it creates the next.
    /// </summary>
    protected override IEnumerable<InterpolationPart> JobNameParts(Workload job) =>
        HookCondition(job) is { } hook
            ? [new($"ternary \"{job.Name}\" (printf \"{job.Name}-%v\" .Release.Revision) ({hook})", IsExpression: true)]
            : [new($"{job.Name}-", IsExpression: false), new(".Release.Revision", IsExpression: true)];

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
        return $"and {Chart.Ref("hooks.enabled")} {string.Join(" ", groups.Distinct().Select(g => $"(not {Chart.Ref($"{g}.enabled")})"))}";
    }

    public override YamlNode OnlyWhileGroupIsOn(string group, Map entry) => new Conditional(GroupCondition(group), new Seq { entry });

    public override string GroupCondition(string group) => Chart.Ref($"{group}.enabled");

    public override void AddEnvironment(Seq env, Workload w, EnvironmentVariable variable, Func<EnvironmentVariable, YamlNode> entry)
    {
        if (ForeignGroup(w, variable.Value) is not { } group)
        {
            base.AddEnvironment(env, w, variable, entry);
            return;
        }
        var external = new Seq();
        var existingSecret = Chart.Ref($"{group}.existingSecret");
        if (variable.Value.Resources.FirstOrDefault(r => r.Group == group)?.WhenExternal is { } whenExternal)
        {
            external.Add(new Map { { "name", variable.Name }, { "value", External(group, whenExternal) } });
            foreach (var (name, key) in whenExternal.SecretEnvironment ?? new Dictionary<string, string>())
            {
                var optional = KubernetesObjects.SecretEnv(name, new Template(existingSecret), key);
                ((Map)((Map)optional["valueFrom"]!)["secretKeyRef"]!).Add("optional", true);
                external.Add(new Conditional(existingSecret, new Seq { optional }));
            }
        }
        else
        {
            // The existing infrastructure's value, under the variable's own name in the group's Secret.
            external.Add(KubernetesObjects.SecretEnv(variable.Name,
                new Template($"required \"{group}.existingSecret is required when {group}.enabled=false\" {existingSecret}"), variable.Name));
        }
        env.Add(new Conditional(Chart.Ref($"{group}.enabled"), new Seq { entry(variable) }, external));
    }

    /// <summary>The connection string of an external group: its format over the group's values, as one quoted expression.</summary>
    private Interpolation External(string group, ExternalConnection external)
    {
        List<InterpolationPart> parts = [];
        var format = external.Format;
        while (format.Length > 0)
        {
            var key = external.Defaults.Keys.Select(k => (Key: k, At: format.IndexOf($"{{{k}}}", StringComparison.Ordinal)))
                .Where(k => k.At >= 0).OrderBy(k => k.At).FirstOrDefault();
            if (key.Key is null)
            {
                parts.Add(new(format, IsExpression: false));
                break;
            }
            if (key.At > 0)
            {
                parts.Add(new(format[..key.At], IsExpression: false));
            }
            parts.Add(new(Chart.Ref($"{group}.{key.Key}"), IsExpression: true));
            format = format[(key.At + key.Key.Length + 2)..];
        }
        return new Interpolation(parts);
    }

    public override void AddExternalEgress(Seq egress, Workload w)
    {
        foreach (var group in w.Connections.Select(c => Plan[c.Target].Group).OfType<string>().Where(g => g != w.Group).Distinct())
        {
            // Existing infrastructure lives anywhere: its ports, to any address.
            var ports = w.Connections.Where(c => Plan[c.Target].Group == group).Select(c => c.Port).Distinct();
            egress.Add(new Conditional($"not {Chart.Ref($"{group}.enabled")}", new Seq { new Map { { "ports", NetworkPolicies.Ports(ports) } } }));
        }
    }
}

using System.Globalization;
using Aspire.Hosting.Deployment.Planning;
using Aspire.Hosting.Deployment.Yaml;

namespace Aspire.Hosting.Deployment.Kubernetes;

/// <summary>
/// The knobs of the Kubernetes objects. Kustomize gets the model's values as they are (<see cref="ManifestValues"/>);
/// Helm gets template expressions over <c>values.yaml</c> (<c>HelmValues</c>). <see cref="KubernetesObjects"/>
/// builds the objects once, through this, for both.
/// </summary>
internal class ManifestValues(Plan plan, DeploymentOptions options)
{
    public Plan Plan { get; } = plan;

    public DeploymentOptions Options { get; } = options;

    public virtual YamlNode Instance => new Scalar(Options.Name);

    public virtual bool IsHelm => false;

    /// <summary>Where another namespace reaches a workload's port: its Service's cluster DNS name.</summary>
    public virtual YamlNode ClusterAddress(ServiceAddress target) => new Scalar($"{target.Workload}.{Options.Name}.svc:{target.Port}");

    /// <summary>A value of an option of the workload: its default here; an expression over values.yaml in Helm.</summary>
    public virtual YamlNode OptionValue(Workload w, DeploymentOption option, string key, string? pipe) =>
        option.Values[key] ?? throw new InvalidOperationException($"Option {option.Name} of '{w.Name}' has no value {key}.");

    public virtual string ManagedBy => "kustomize";

    public string SecretName => $"{Options.Name}-secrets";

    public virtual YamlNode SecretNameNode => new Scalar(SecretName);

    public virtual YamlNode Replicas(Workload w) => new Scalar(w.Settings.Replicas);

    public virtual YamlNode Image(Workload w) => new Scalar(w.Image);

    public virtual YamlNode ImagePullPolicy(Workload w) => new Scalar("IfNotPresent");

    public virtual YamlNode Resources(Workload w) => DefaultResources(w);

    /// <summary>Requests and limits as the model says (no CPU limit unless it gives one).</summary>
    public static Map DefaultResources(Workload w)
    {
        var (cpuRequest, cpuLimit) = WorkloadPolicy.Cpu(w);
        var (memoryRequest, memoryLimit) = WorkloadPolicy.Memory(w);
        var limits = new Map();
        limits.Add("cpu", cpuLimit is null ? null : new Scalar(cpuLimit));
        limits.Add("memory", memoryLimit);
        return new Map
        {
            { "requests", new Map { { "cpu", cpuRequest }, { "memory", memoryRequest } } },
            { "limits", limits },
        };
    }

    public virtual YamlNode PodSecurityContext(Workload w) => DefaultPodSecurityContext(w);

    public virtual YamlNode ContainerSecurityContext(Workload w) => DefaultContainerSecurityContext(w);

    /// <summary>What each volume claims, unless Helm values say otherwise.</summary>
    public const string DefaultStorageSize = "8Gi";

    public virtual YamlNode StorageSize(Workload w, VolumeMount volume) => new Scalar(DefaultStorageSize);

    /// <summary>
    /// A value as the text of a manifest: each secret through <paramref name="secret"/>, literal text escaped for
    /// Kubernetes; a setting (a parameter that is not secret) is its default here, a Helm value in a chart.
    /// </summary>
    /// <param name="value">The value.</param>
    /// <param name="secret">How a secret is written.</param>
    /// <param name="expands">Whether Kubernetes expands <c>$(VAR)</c> where it is written (env values, command, args; not ConfigMap data).</param>
    public virtual YamlNode Text(Value value, Func<SecretInput, string> secret, bool expands = true) =>
        new Scalar(value.Render(secret, Literal(expands), s => Literal(expands)(s.Default)));

    protected static Func<string, string> Literal(bool expands) => expands ? KubernetesObjects.Escape : text => text;

    /// <summary>
    /// The checksum of a workload's settings (its settings ConfigMap), as a pod annotation: the environment is read
    /// from the ConfigMap once, when the container starts, so a changed setting must change the pod template to roll the
    /// pods. <paramref name="overrides"/> replaces settings' defaults (production's, <see cref="DeploymentAnnotation.ProductionSettings"/>).
    /// </summary>
    public virtual YamlNode SettingsChecksum(IReadOnlyList<EnvironmentVariable> settings, IReadOnlyDictionary<string, string>? overrides = null) =>
        new Scalar(Checksum(settings.Select(v => $"{v.Name}={overrides?.GetValueOrDefault(v.Name) ?? v.Value.Render(NoSecret)}")));

    protected static string Checksum(IEnumerable<string> lines) =>
        Convert.ToHexStringLower(System.Security.Cryptography.SHA256.HashData(System.Text.Encoding.UTF8.GetBytes(string.Join('\n', lines))));

    protected static string NoSecret(SecretInput secret) => throw new InvalidOperationException("a setting holds no secret");

    public virtual YamlNode Schedule(Workload w) => new Scalar(w.Settings.Schedule!);

    public virtual YamlNode AutoscaleMin(Workload w) => new Scalar(w.Settings.Autoscale!.MinReplicas);

    public virtual YamlNode AutoscaleMax(Workload w) => new Scalar(w.Settings.Autoscale!.MaxReplicas);

    public virtual YamlNode AutoscaleCpu(Workload w) => new Scalar(w.Settings.Autoscale!.CpuPercent);

    public virtual YamlNode AutoscaleMemory(Workload w) => new Scalar(w.Settings.Autoscale!.MemoryPercent);

    /// <summary>Helm's condition for the workload's documents (its group switched on); null: always.</summary>
    public virtual string? Condition(Workload w) => null;

    /// <summary>Helm's condition under which a job is a pre-install/pre-upgrade hook; null: a plain Job.</summary>
    public virtual string? HookCondition(Workload w) => null;

    /// <summary>A job's name (Helm: one per release revision, since a Job's pod template cannot change).</summary>
    public YamlNode JobName(Workload job, string prefix = "")
    {
        List<InterpolationPart> parts = [new(prefix, IsExpression: false), .. JobNameParts(job)];
        return parts.Any(p => p.IsExpression)
            ? new Interpolation([.. parts.Where(p => p.Text.Length > 0)])
            : new Scalar(string.Concat(parts.Select(p => p.Text)));
    }

    protected virtual IEnumerable<InterpolationPart> JobNameParts(Workload job) => [new(job.Name, IsExpression: false)];

    /// <summary>The group of another part of the system this value reaches, if any (Helm can switch it off).</summary>
    /// <summary>An environment entry that applies only while <paramref name="group"/> is deployed (Helm: its switch); always here.</summary>
    public virtual YamlNode OnlyWhileGroupIsOn(string group, Map entry) => entry;

    /// <summary>Helm's condition of a group being on; null where groups do not switch (Kustomize).</summary>
    public virtual string? GroupCondition(string group) => null;

    public string? ForeignGroup(Workload w, Value value) =>
        value.Resources.Select(r => r.Group).Concat(value.Connections.Select(c => Plan[c.Target].Group))
            .FirstOrDefault(g => g is not null && g != w.Group);

    /// <summary>
    /// The replica count, unless an autoscaler owns it: a replicas field would reset the count on every apply.
    /// (Kustomize: a component that replaces the HPA takes over from it.)
    /// </summary>
    public virtual void AddReplicas(Map spec, Workload w)
    {
        if (w.Settings.Autoscale is null)
        {
            spec.Add("replicas", Replicas(w));
        }
    }

    /// <summary>Helm's condition for a workload's Deployment (no option that replaces it on); null: always.</summary>
    public virtual string? DeploymentCondition(Workload w) => null;

    /// <summary>Helm's condition for the HPA (autoscaling on, no option that replaces it on); null: always.</summary>
    public virtual string? AutoscaleCondition(Workload w) => null;

    /// <summary>
    /// Adds the environment entry: Kustomize as the model says; Helm also the alternative for a group switched off.
    /// </summary>
    public virtual void AddEnvironment(Seq env, Workload w, EnvironmentVariable variable, Func<EnvironmentVariable, YamlNode> entry) =>
        env.Add(entry(variable));

    /// <summary>Extra egress for dependencies on switched-off groups (Helm).</summary>
    public virtual void AddExternalEgress(Seq egress, Workload w)
    {
    }

    /// <summary>Extra conditions on an init container that waits for <paramref name="target"/> (Helm: its group on).</summary>
    public virtual string? DependencyCondition(Workload target) => Condition(target);

    public static Map DefaultPodSecurityContext(Workload w)
    {
        var user = WorkloadPolicy.User(w);
        return new Map
        {
            { "runAsNonRoot", true },
            { "runAsUser", user },
            { "runAsGroup", user },
            { "fsGroup", user },
            { "seccompProfile", new Map { { "type", "RuntimeDefault" } } },
        };
    }

    public static Map DefaultContainerSecurityContext(Workload w) => new()
    {
        { "allowPrivilegeEscalation", false },
        { "readOnlyRootFilesystem", true },
        { "runAsNonRoot", true },
        { "runAsUser", WorkloadPolicy.User(w) },
        { "capabilities", new Map { { "drop", Seq.Of(["ALL"]) } } },
    };

    public static string Number(int value) => value.ToString(CultureInfo.InvariantCulture);
}

using Aspire.Hosting.Deployment.Helm;
using Aspire.Hosting.Deployment.Kubernetes;
using Aspire.Hosting.Deployment.Planning;
using Aspire.Hosting.Deployment.Yaml;

namespace Aspire.Hosting.Deployment;

/// <summary>
/// One workload's Kubernetes output (Kustomize or Helm), for a <see cref="DeploymentContribution"/>: the parts of
/// the generator's own objects a contribution builds on (labels, the pod template, the autoscaler's spec), values as
/// each output reads them (the default in Kustomize, an expression over values.yaml in Helm), and where its
/// documents go.
/// </summary>
public sealed class KubernetesContext
{
    private readonly ManifestValues values;
    private readonly KubernetesObjects objects;
    private readonly Workload workload;
    private readonly ContributedObjects sink;

    internal KubernetesContext(ManifestValues values, KubernetesObjects objects, Workload workload, ContributedObjects sink)
    {
        this.values = values;
        this.objects = objects;
        this.workload = workload;
        this.sink = sink;
    }

    /// <summary>True for the Helm chart (expressions over values.yaml), false for Kustomize (the values' defaults).</summary>
    public bool IsHelm => values.IsHelm;

    /// <summary>The workload's name (its Deployment's, Service's and ServiceAccount's).</summary>
    public string Workload => workload.Name;

    /// <summary>The system's name (<see cref="DeploymentOptions.Name"/>).</summary>
    public string SystemName => values.Options.Name;

    /// <summary>The workload's labels.</summary>
    public Map Labels() => objects.Labels(workload);

    /// <summary>The labels of an object of the whole system rather than of one workload (instance, part-of, managed-by).</summary>
    public Map SystemLabels() => new()
    {
        { "app.kubernetes.io/instance", values.Instance },
        { "app.kubernetes.io/part-of", values.Options.Name },
        { "app.kubernetes.io/managed-by", values.ManagedBy },
    };

    /// <summary>Metadata named <paramref name="name"/> (by default the workload's) with the workload's labels.</summary>
    public Map Metadata(string? name = null) => objects.Metadata(workload, name);

    /// <summary>The labels that select the pods of <paramref name="workloadName"/>.</summary>
    public Map Selector(string workloadName) => KubernetesObjects.Selector(values, workloadName);

    /// <summary>Topology spread over nodes and zones for the pods named <paramref name="name"/>, as the production overlay gives the application's.</summary>
    public static Seq SpreadOverNodesAndZones(string name) => KubernetesObjects.SpreadOverNodesAndZones(name);

    /// <summary>The workload's pod template, as its Deployment has it.</summary>
    public Map PodTemplate() => objects.PodTemplate(workload);

    /// <summary>
    /// The workload's image repository (its image without the tag) followed by <paramref name="suffix"/>: the model's
    /// in Kustomize, an expression over <c>image.repository</c> in Helm (a policy that names the image, say).
    /// </summary>
    public YamlNode ImageRepository(string suffix = "") => IsHelm
        ? new Template($"printf \"%s{suffix}\" {Helm.Ref(workload, "image.repository")} | quote")
        : new Scalar(workload.Image[..workload.Image.LastIndexOf(':')] + suffix);

    /// <summary>Whether the workload has a HorizontalPodAutoscaler.</summary>
    public bool HasAutoscaler => workload.IsLongRunning && workload.Settings.Autoscale is not null;

    /// <summary>The spec of the workload's HorizontalPodAutoscaler, scaling <paramref name="scaleTargetRef"/>.</summary>
    public Map AutoscalerSpec(Map scaleTargetRef) => objects.AutoscalerSpec(workload, scaleTargetRef);

    /// <summary>The replica count, or with an autoscaler its minimum.</summary>
    public YamlNode MinReplicas() => HasAutoscaler ? values.AutoscaleMin(workload) : values.Replicas(workload);

    /// <summary>The replica count, or with an autoscaler its maximum.</summary>
    public YamlNode MaxReplicas() => HasAutoscaler ? values.AutoscaleMax(workload) : values.Replicas(workload);

    /// <summary>The replica count.</summary>
    public YamlNode Replicas() => values.Replicas(workload);

    /// <summary>A value of one of the workload's options; in Helm through <paramref name="pipe"/> (<c>quote</c>, say).</summary>
    public YamlNode Value(DeploymentOption option, string key, string? pipe = null) => values.OptionValue(workload, option, key, pipe);

    /// <summary>Helm: the expression of a declared value, by its path in the workload's section (<c>autoscaling.enabled</c>).</summary>
    public string Ref(string key) => Helm.Ref(workload, key);

    /// <summary>Helm: the expression of a declared value, by its whole path (<c>temporal.namespace</c>).</summary>
    public string RefAt(string path) => Helm.Chart.Ref(path);

    /// <summary>Helm: the expression of a non-secret parameter's value (<c>.Values.settings.{KEY}</c>), as every workload reads it.</summary>
    public string Setting(Aspire.Hosting.ApplicationModel.ParameterResource parameter) => RefAt($"settings.{new SettingPart(parameter.Name, "").Key}");

    /// <summary>Helm: the expression of an option's switch.</summary>
    public string Enabled(DeploymentOption option) => Helm.Enabled(workload, option);

    /// <summary>Where another namespace (an operator's, a controller's) reaches <paramref name="target"/>.</summary>
    public YamlNode ClusterAddress(ServiceAddress target) => values.ClusterAddress(target);

    /// <summary>A document deployed with the workload, always (under its group's switch in Helm).</summary>
    public void Add(YamlNode document) => sink.Documents.Add(document);

    /// <summary>A document of an option: in its Kustomize component, and in Helm behind its switch.</summary>
    public void Add(DeploymentOption option, YamlNode document) => sink.OptionDocuments.Add((option, document));

    /// <summary>A patch of an option's Kustomize component (the Helm chart renders the option's form whole instead).</summary>
    public void Patch(DeploymentOption option, Map patch) => sink.Patches.Add((option, patch));

    private HelmValues Helm => values as HelmValues ?? throw new InvalidOperationException("Values expressions belong to the Helm chart (IsHelm).");
}

/// <summary>What contributions wrote for one workload in one output.</summary>
internal sealed class ContributedObjects
{
    public List<YamlNode> Documents { get; } = [];

    public List<(DeploymentOption Option, YamlNode Document)> OptionDocuments { get; } = [];

    public List<(DeploymentOption Option, Map Patch)> Patches { get; } = [];

    public static ContributedObjects Of(ManifestValues values, KubernetesObjects objects, Workload w)
    {
        var sink = new ContributedObjects();
        foreach (var contribution in w.Settings.Contributions)
        {
            contribution.WriteKubernetes(new KubernetesContext(values, objects, w, sink));
        }
        return sink;
    }
}

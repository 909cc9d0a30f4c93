using k8s;
using k8s.Models;
using YamlDotNet.Serialization;

namespace AppHost.Tests.Deployment;

/// <summary>A rendered <c>WorkerDeployment</c>: its pod template parsed strictly as Kubernetes' own type, the rest as it was written.</summary>
internal sealed record WorkerDeploymentObject(string Name, V1PodTemplateSpec Template, Dictionary<object, object> Spec);

/// <summary>A rendered <c>WorkerResourceTemplate</c> holding an HPA, parsed strictly as Kubernetes' own type.</summary>
internal sealed record ResourceTemplateObject(string Name, string WorkerDeployment, V2HorizontalPodAutoscaler Autoscaler, Dictionary<object, object> Template);

/// <summary>
/// The temporal-worker-controller's objects of a rendered output (custom resources, which the client's models do not
/// know): the parts that are Kubernetes types (the pod template, the HPA) go through the client's strict parser, so
/// an unknown field fails there as it does for a Deployment; the rest is checked against the controller's CRDs by
/// scripts/validate-crds.mjs.
/// </summary>
internal static class WorkerControllerObjects
{
    public static List<WorkerDeploymentObject> WorkerDeployments(string rendered) =>
        [.. Of(rendered, "WorkerDeployment").Select(d =>
        {
            var spec = (Dictionary<object, object>)d["spec"];
            return new WorkerDeploymentObject(NameOf(d), Strict<V1PodTemplateSpec>(spec["template"], $"WorkerDeployment/{NameOf(d)} template"), spec);
        })];

    public static List<ResourceTemplateObject> ResourceTemplates(string rendered) =>
        [.. Of(rendered, "WorkerResourceTemplate").Select(d =>
        {
            var spec = (Dictionary<object, object>)d["spec"];
            var template = (Dictionary<object, object>)spec["template"];
            var target = (string)((Dictionary<object, object>)spec["workerDeploymentRef"])["name"];
            return new ResourceTemplateObject(NameOf(d), target, Strict<V2HorizontalPodAutoscaler>(template, $"WorkerResourceTemplate/{NameOf(d)} template"), template);
        })];

    /// <summary>Each <c>Connection</c>'s name and spec.</summary>
    public static Dictionary<string, Dictionary<object, object>> Connections(string rendered) =>
        Of(rendered, "Connection").ToDictionary(NameOf, d => (Dictionary<object, object>)d["spec"]);

    /// <summary>The documents of a kind, as YAML maps.</summary>
    public static IEnumerable<Dictionary<object, object>> Of(string rendered, string kind) =>
        GeneratedDeployment.Documents(rendered).Where(d => GeneratedDeployment.KindOf(d) == kind)
            .Select(d => new Deserializer().Deserialize<Dictionary<object, object>>(d));

    /// <summary>The same object, as JSON of the client's model: two templates are equal when these are.</summary>
    public static string Canonical(object model) => KubernetesJson.Serialize(model);

    private static string NameOf(Dictionary<object, object> document) => (string)((Dictionary<object, object>)document["metadata"])["name"];

    private static T Strict<T>(object node, string what)
    {
        var yaml = new Serializer().Serialize(node);
        try
        {
            return KubernetesYaml.Deserialize<T>(yaml, strict: true);
        }
        catch (Exception e)
        {
            throw new Xunit.Sdk.XunitException($"Strict parse of the {what} failed: {e.Message}\n{yaml}");
        }
    }
}

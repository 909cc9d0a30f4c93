using Aspire.Hosting.Deployment.Planning;
using Aspire.Hosting.Deployment.Yaml;

namespace Aspire.Hosting.Deployment.Kubernetes;

/// <summary>
/// KEDA's <c>ScaledObject</c> with the <c>temporal</c> scaler: replicas follow the task-queue backlog, which is what
/// a Temporal worker's load is (CPU lags it, and stays low while activities wait on I/O). Replaces the HPA.
/// </summary>
internal static class Keda
{
    /// <summary>The workload's ScaledObject; <paramref name="authentication"/> (Helm) names a TriggerAuthentication and when it applies.</summary>
    public static Map ScaledObject(ManifestValues values, Workload w, YamlNode endpoint, YamlNode ns, YamlNode taskQueue, YamlNode targetQueueSize,
        (string Condition, string Name)? authentication = null)
    {
        var trigger = new Map
        {
            { "type", "temporal" },
            {
                "metadata", new Map
                {
                    { "endpoint", endpoint },
                    { "namespace", ns },
                    { "taskQueue", taskQueue },
                    { "targetQueueSize", targetQueueSize },
                    { "activationTargetQueueSize", "0" },
                }
            },
        };
        if (authentication is { } auth)
        {
            trigger.If(auth.Condition, new Map { { "authenticationRef", new Map { { "name", auth.Name } } } });
        }
        var autoscale = w.Settings.Autoscale;
        return new Map
        {
            { "apiVersion", "keda.sh/v1alpha1" },
            { "kind", "ScaledObject" },
            { "metadata", new Map { { "name", w.Name }, { "labels", new KubernetesObjects(values).Labels(w) } } },
            {
                "spec", new Map
                {
                    { "scaleTargetRef", new Map { { "name", w.Name } } },
                    { "minReplicaCount", autoscale is null ? values.Replicas(w) : values.AutoscaleMin(w) },
                    { "maxReplicaCount", autoscale is null ? values.Replicas(w) : values.AutoscaleMax(w) },
                    { "cooldownPeriod", 300 },
                    { "triggers", new Seq { trigger } },
                }
            },
        };
    }

    /// <summary>Temporal Cloud's API key for KEDA's scaler, from the Secret the worker reads it from.</summary>
    public static Map ApiKeyAuthentication(string name, YamlNode secretName, string key) => new()
    {
        { "apiVersion", "keda.sh/v1alpha1" },
        { "kind", "TriggerAuthentication" },
        { "metadata", new Map { { "name", name } } },
        {
            "spec", new Map
            {
                { "secretTargetRef", new Seq { new Map { { "parameter", "apiKey" }, { "name", secretName }, { "key", key } } } },
            }
        },
    };

    /// <summary>KEDA's operator polls the frontend from its own namespace (<c>keda</c>), which default deny would stop.</summary>
    public static Map AllowOperator(ManifestValues values, Connection frontend) => new()
    {
        { "apiVersion", "networking.k8s.io/v1" },
        { "kind", "NetworkPolicy" },
        { "metadata", new Map { { "name", $"{frontend.Target}-from-keda" }, { "labels", new Map { { "app.kubernetes.io/part-of", values.Options.Name } } } } },
        {
            "spec", new Map
            {
                { "podSelector", new Map { { "matchLabels", KubernetesObjects.Selector(values, frontend.Target) } } },
                { "policyTypes", Seq.Of(["Ingress"]) },
                {
                    "ingress", new Seq
                    {
                        new Map
                        {
                            { "from", new Seq { new Map { { "namespaceSelector", new Map { { "matchLabels", new Map { { "kubernetes.io/metadata.name", values.KedaNamespace } } } } } } } },
                            { "ports", NetworkPolicies.Ports([frontend.Port]) },
                        },
                    }
                },
            }
        },
    };
}

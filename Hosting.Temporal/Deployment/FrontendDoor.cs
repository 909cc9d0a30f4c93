using Aspire.Hosting.Deployment;
using Aspire.Hosting.Deployment.Yaml;

namespace Aspire.Hosting.Temporal.Deployment;

/// <summary>
/// A NetworkPolicy that admits another namespace (an operator's or a controller's, which polls the frontend from
/// there) to the Temporal frontend, which the system's default deny would otherwise stop.
/// </summary>
internal static class FrontendDoor
{
    public static Map From(KubernetesContext kubernetes, ServiceAddress frontend, string name, YamlNode fromNamespace) => new()
    {
        { "apiVersion", "networking.k8s.io/v1" },
        { "kind", "NetworkPolicy" },
        { "metadata", new Map { { "name", name }, { "labels", new Map { { "app.kubernetes.io/part-of", kubernetes.SystemName } } } } },
        {
            "spec", new Map
            {
                { "podSelector", new Map { { "matchLabels", kubernetes.Selector(frontend.Workload) } } },
                { "policyTypes", Seq.Of(["Ingress"]) },
                {
                    "ingress", new Seq
                    {
                        new Map
                        {
                            { "from", new Seq { new Map { { "namespaceSelector", new Map { { "matchLabels", new Map { { "kubernetes.io/metadata.name", fromNamespace } } } } } } } },
                            { "ports", new Seq { new Map { { "port", frontend.Port }, { "protocol", "TCP" } } } },
                        },
                    }
                },
            }
        },
    };
}

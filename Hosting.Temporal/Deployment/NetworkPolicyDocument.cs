using Aspire.Hosting.Deployment;
using Aspire.Hosting.Deployment.Yaml;

namespace Aspire.Hosting.Temporal.Deployment;

/// <summary>A NetworkPolicy an option adds with its workload, labelled as the workload's own objects are.</summary>
internal static class NetworkPolicyDocument
{
    public static Map Of(KubernetesContext kubernetes, string name, Map spec) => new()
    {
        { "apiVersion", "networking.k8s.io/v1" },
        { "kind", "NetworkPolicy" },
        { "metadata", new Map { { "name", name }, { "labels", kubernetes.Labels() } } },
        { "spec", spec },
    };

    public static Map Port(int port, string protocol = "TCP") => new() { { "port", port }, { "protocol", protocol } };
}

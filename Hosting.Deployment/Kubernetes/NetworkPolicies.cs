using Aspire.Hosting.Deployment.Planning;
using Aspire.Hosting.Deployment.Yaml;

namespace Aspire.Hosting.Deployment.Kubernetes;

/// <summary>
/// Default deny, then exactly the paths the model's references imply: a workload accepts connections on a port
/// from the workloads whose environment names that port, and reaches only what its own environment names, plus
/// DNS. External endpoints and metrics ports accept anyone (ingress controllers and Prometheus live elsewhere).
/// </summary>
internal static class NetworkPolicies
{
    public static Map DefaultDeny(ManifestValues values) => new()
    {
        { "apiVersion", "networking.k8s.io/v1" },
        { "kind", "NetworkPolicy" },
        { "metadata", new Map { { "name", $"{values.Options.Name}-default-deny" }, { "labels", new Map { { "app.kubernetes.io/part-of", values.Options.Name } } } } },
        {
            // This system's pods only: installed into a shared namespace, it must not cut off anyone else's.
            "spec", new Map
            {
                {
                    "podSelector", new Map
                    {
                        { "matchLabels", new Map { { "app.kubernetes.io/part-of", values.Options.Name }, { "app.kubernetes.io/instance", values.Instance } } },
                    }
                },
                { "policyTypes", Seq.Of(["Ingress", "Egress"]) },
            }
        },
    };

    public static Map For(ManifestValues values, Workload w)
    {
        var plan = values.Plan;
        var ingress = new Seq
        {
            // Replicas of one workload may talk to each other (clustered servers gossip on their pod addresses).
            new Map { { "from", new Seq { Pods(values, w.Name) } } },
        };
        foreach (var client in plan.Workloads.Where(c => c != w))
        {
            var ports = client.Connections.Where(c => c.Target == w.Name).Select(c => c.Port).Distinct().ToList();
            if (ports.Count > 0)
            {
                ingress.Add(new Map { { "from", new Seq { Pods(values, client.Name) } }, { "ports", Ports(ports) } });
            }
        }
        var open = w.Ports.Where(p => p.IsExternal).Select(p => p.TargetPort).ToList();
        if (w.Settings.Metrics is { } metrics)
        {
            open.Add(WorkloadPolicy.PortOf(w, metrics.Endpoint));
        }
        if (open.Count > 0)
        {
            ingress.Add(new Map { { "ports", Ports(open.Distinct()) } });
        }

        var egress = new Seq
        {
            // DNS wherever the cluster serves it (kube-dns pods, or a node-local cache on a link-local address).
            new Map { { "ports", new Seq { Port(53, "UDP"), Port(53, "TCP") } } },
            new Map { { "to", new Seq { Pods(values, w.Name) } } },
        };
        foreach (var target in w.Connections.GroupBy(c => c.Target).Where(g => g.Key != w.Name))
        {
            var rule = new Map { { "to", new Seq { Pods(values, target.Key) } }, { "ports", Ports(target.Select(c => c.Port).Distinct()) } };
            egress.Add(values.DependencyCondition(plan[target.Key]) is { } condition ? new Conditional(condition, new Seq { rule }) : rule);
        }
        if (w.Dependencies.Any(d => d.Completion))
        {
            // The Kubernetes API, for the init container that waits for a job; its address is the cluster's.
            var api = new Map { { "ports", new Seq { Port(443, "TCP"), Port(6443, "TCP") } } };
            egress.Add(KubernetesObjects.ApiCondition(values, w) is { } condition ? new Conditional(condition, new Seq { api }) : api);
        }
        values.AddExternalEgress(egress, w);

        return new Map
        {
            { "apiVersion", "networking.k8s.io/v1" },
            { "kind", "NetworkPolicy" },
            { "metadata", new Map { { "name", w.Name }, { "labels", new KubernetesObjects(values).Labels(w) } } },
            {
                "spec", new Map
                {
                    { "podSelector", new Map { { "matchLabels", KubernetesObjects.Selector(values, w.Name) } } },
                    { "policyTypes", Seq.Of(["Ingress", "Egress"]) },
                    { "ingress", ingress },
                    { "egress", egress },
                }
            },
        };
    }

    private static Map Pods(ManifestValues values, string name) =>
        new() { { "podSelector", new Map { { "matchLabels", KubernetesObjects.Selector(values, name) } } } };

    public static Seq Ports(IEnumerable<int> ports) => new(ports.Order().Select(p => (YamlNode)Port(p, "TCP")));

    private static Map Port(int port, string protocol) => new() { { "port", port }, { "protocol", protocol } };
}

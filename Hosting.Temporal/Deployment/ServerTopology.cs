using System.Globalization;
using System.Text.Json.Nodes;
using Aspire.Hosting.Deployment;
using Aspire.Hosting.Deployment.Helm;
using Aspire.Hosting.Deployment.Yaml;

namespace Aspire.Hosting.Temporal.Deployment;

/// <summary>
/// The highly available form of the Temporal server, on in production (<c>components/temporal-topology</c>,
/// <c>temporal.temporalServer.topology.enabled</c>): frontend, history, matching and the internal worker as four
/// Deployments of the one image, each running its service alone (<c>SERVICES</c>) with its own replicas, resources,
/// pools, PodDisruptionBudget and spread over nodes and zones. The frontend keeps the server's name, so its Service and
/// NetworkPolicy (what clients reach) stay as they are; the other three are <c>{server}-{service}</c>, and one
/// NetworkPolicy lets the four reach one another (membership and internode gRPC) as the single process did inside.
/// </summary>
internal sealed class ServerTopology : DeploymentContribution
{
    /// <summary>One service of the server: its ports in the image's configuration template, replicas, pools, compute.</summary>
    internal sealed record Service(string Name, int GrpcPort, int MembershipPort, int Replicas, int StorePool, int VisibilityPool, string Cpu, string Memory, string MemoryLimit)
    {
        /// <summary>The connections one pod of it opens at most (<c>SQL_MAX_CONNS</c> + <c>SQL_VIS_MAX_CONNS</c>).</summary>
        public int Connections => StorePool + VisibilityPool;
    }

    /// <summary>
    /// History holds the shards and does most of the persistence work: the largest pool and compute. Frontend and
    /// history twice, so one pod's loss or one rollout step leaves one serving; the internal worker (archival,
    /// namespace deletion, schedules) once. Pools sized so the whole fits the connection budget (docs/operations.md,
    /// "The connection budget").
    /// </summary>
    public static readonly IReadOnlyList<Service> Services =
    [
        new("frontend", 7233, 6933, Replicas: 2, StorePool: 5, VisibilityPool: 5, Cpu: "250m", Memory: "256Mi", MemoryLimit: "512Mi"),
        new("history", 7234, 6934, Replicas: 2, StorePool: 10, VisibilityPool: 5, Cpu: "500m", Memory: "512Mi", MemoryLimit: "1Gi"),
        new("matching", 7235, 6935, Replicas: 2, StorePool: 5, VisibilityPool: 2, Cpu: "250m", Memory: "256Mi", MemoryLimit: "512Mi"),
        new("worker", 7239, 6939, Replicas: 1, StorePool: 5, VisibilityPool: 2, Cpu: "100m", Memory: "128Mi", MemoryLimit: "512Mi"),
    ];

    private readonly DeploymentOption option;

    public ServerTopology()
    {
        var serviceSchema = ValueSchemas.Record(
            ("replicas", ValueSchemas.Whole(minimum: 1)),
            ("resources", ValueSchemas.Record(("requests", ValueSchemas.Quantities()), ("limits", ValueSchemas.Quantities()))));
        option = new DeploymentOption("topology", "temporal-topology", "topology")
        {
            ReplacesWorkload = true,
            InProduction = true,
            ValuesSchema = ValueSchemas.Record([("enabled", ValueSchemas.Boolean()), .. Services.Select(s => (s.Name, serviceSchema.DeepClone().AsObject()))]),
        };
        foreach (var service in Services)
        {
            option.Values.Add(service.Name, new Map { { "replicas", service.Replicas }, { "resources", Resources(service) } });
        }
    }

    public override void DeclareValues(DeploymentValues values) => values.AddOption(option);

    public override void WriteKubernetes(KubernetesContext kubernetes)
    {
        var frontend = Services[0];
        if (kubernetes.IsHelm)
        {
            // The Deployment is left out while the option is on: the frontend's takes its name and selector.
            kubernetes.Add(option, Deployment(kubernetes, frontend));
        }
        else
        {
            // The frontend is the server's own Deployment, patched in place, so the overlays' patches of it carry over.
            kubernetes.Patch(option, FrontendPatch(kubernetes, frontend));
        }
        foreach (var service in Services.Skip(1))
        {
            kubernetes.Add(option, Deployment(kubernetes, service));
        }
        foreach (var service in Services)
        {
            kubernetes.Add(option, DisruptionBudget(kubernetes, service));
        }
        kubernetes.Add(option, Peers(kubernetes));
        kubernetes.Add(option, ServicesEgress(kubernetes));
    }

    private static string WorkloadOf(KubernetesContext kubernetes, Service service) =>
        service.Name == "frontend" ? kubernetes.Workload : $"{kubernetes.Workload}-{service.Name}";

    private static Map Resources(Service service) => new()
    {
        { "requests", new Map { { "cpu", service.Cpu }, { "memory", service.Memory } } },
        { "limits", new Map { { "memory", service.MemoryLimit } } },
    };

    /// <summary>
    /// The service's environment besides the server's settings: which service it runs, where the frontend is (the
    /// internal worker calls it as a client; the image's template would otherwise point it at its own pod, where no
    /// frontend listens), and its pools (env wins over envFrom).
    /// </summary>
    private static IEnumerable<Map> Environment(KubernetesContext kubernetes, Service service) =>
    [
        Variable("SERVICES", service.Name),
        Variable("PUBLIC_FRONTEND_ADDRESS", $"{kubernetes.Workload}:{Number(Services[0].GrpcPort)}"),
        Variable("SQL_MAX_CONNS", Number(service.StorePool)),
        Variable("SQL_MAX_IDLE_CONNS", Number(service.StorePool)),
        Variable("SQL_VIS_MAX_CONNS", Number(service.VisibilityPool)),
        Variable("SQL_VIS_MAX_IDLE_CONNS", Number(service.VisibilityPool)),
    ];

    private static Map Variable(string name, string value) => new() { { "name", name }, { "value", value } };

    private static string Number(int value) => value.ToString(CultureInfo.InvariantCulture);

    private YamlNode ReplicasOf(KubernetesContext kubernetes, Service service) =>
        kubernetes.IsHelm ? new Template(kubernetes.Ref($"{option.Name}.{service.Name}.replicas")) : new Scalar(service.Replicas);

    private YamlNode ResourcesOf(KubernetesContext kubernetes, Service service) =>
        kubernetes.IsHelm ? new TemplateBlock($"toYaml {kubernetes.Ref($"{option.Name}.{service.Name}.resources")}") : Resources(service);

    /// <summary>The Kustomize patch that makes the server's Deployment the frontend.</summary>
    private Map FrontendPatch(KubernetesContext kustomize, Service frontend)
    {
        List<Map> operations =
        [
            Op("replace", "/spec/replicas", ReplicasOf(kustomize, frontend)),
            Op("replace", "/spec/template/spec/containers/0/resources", ResourcesOf(kustomize, frontend)),
            Op("add", "/spec/template/spec/topologySpreadConstraints", Spread(kustomize.Workload)),
        ];
        operations.AddRange(Environment(kustomize, frontend).Select(v => Op("add", "/spec/template/spec/containers/0/env/-", v)));
        return new Map
        {
            { "target", new Map { { "kind", "Deployment" }, { "name", kustomize.Workload } } },
            { "patch", "# The server's Deployment runs the frontend alone.\n" + YamlWriter.WriteList(new Seq(operations)) },
        };
    }

    /// <summary>A Deployment of one service, from the server's own pod template.</summary>
    private Map Deployment(KubernetesContext kubernetes, Service service)
    {
        var name = WorkloadOf(kubernetes, service);
        var template = kubernetes.PodTemplate();
        var metadata = (Map)template["metadata"]!;
        metadata["labels"] = Relabelled(kubernetes.Labels(), name);
        var spec = (Map)template["spec"]!;
        spec["topologySpreadConstraints"] = Spread(name);
        var container = (Map)((Seq)spec["containers"]!).First();
        container["resources"] = ResourcesOf(kubernetes, service);
        var env = (Seq)container["env"]!;
        foreach (var variable in Environment(kubernetes, service))
        {
            env.Add(variable);
        }
        if (service.Name != "frontend")
        {
            // Only the frontend serves the workflow service (what the server's probes ask for): the others are ready
            // once their own gRPC port (membership's, for the internal worker, which serves none) accepts connections.
            var port = service.Name == "worker" ? service.MembershipPort : service.GrpcPort;
            container["ports"] = new Seq
            {
                new Map { { "name", "grpc" }, { "containerPort", port }, { "protocol", "TCP" } },
                new Map { { "name", "metrics" }, { "containerPort", 9090 }, { "protocol", "TCP" } },
            };
            container["startupProbe"] = TcpProbe(port, periodSeconds: 5, failureThreshold: 60);
            container["readinessProbe"] = TcpProbe(port, periodSeconds: 10, failureThreshold: 3);
            container["livenessProbe"] = TcpProbe(port, periodSeconds: 20, failureThreshold: 3);
        }
        return new Map
        {
            { "apiVersion", "apps/v1" },
            { "kind", "Deployment" },
            { "metadata", new Map { { "name", name }, { "labels", Relabelled(kubernetes.Labels(), name) } } },
            {
                "spec", new Map
                {
                    { "replicas", ReplicasOf(kubernetes, service) },
                    { "revisionHistoryLimit", 5 },
                    { "selector", new Map { { "matchLabels", kubernetes.Selector(name) } } },
                    {
                        "strategy", new Map
                        {
                            { "type", "RollingUpdate" },
                            { "rollingUpdate", new Map { { "maxUnavailable", 0 }, { "maxSurge", 1 } } },
                        }
                    },
                    { "template", template },
                }
            },
        };
    }

    private static Map TcpProbe(int port, int periodSeconds, int failureThreshold) => new()
    {
        { "tcpSocket", new Map { { "port", port } } },
        { "periodSeconds", periodSeconds },
        { "timeoutSeconds", 5 },
        { "failureThreshold", failureThreshold },
    };

    /// <summary>The workload's labels with another name (what selects the service's pods).</summary>
    private static Map Relabelled(Map labels, string name)
    {
        var copy = new Map();
        foreach (var (key, value) in labels)
        {
            copy.Add(key, key == "app.kubernetes.io/name" ? new Scalar(name) : value);
        }
        return copy;
    }

    private static Seq Spread(string name) =>
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

    private static Map DisruptionBudget(KubernetesContext kubernetes, Service service)
    {
        var name = WorkloadOf(kubernetes, service);
        return new Map
        {
            { "apiVersion", "policy/v1" },
            { "kind", "PodDisruptionBudget" },
            { "metadata", new Map { { "name", name }, { "labels", Relabelled(kubernetes.Labels(), name) } } },
            { "spec", new Map { { "maxUnavailable", 1 }, { "selector", new Map { { "matchLabels", kubernetes.Selector(name) } } } } },
        };
    }

    /// <summary>Pods of any of the four services, by name.</summary>
    private static Map AnyService(KubernetesContext kubernetes) => new()
    {
        {
            "matchExpressions", new Seq
            {
                new Map
                {
                    { "key", "app.kubernetes.io/name" },
                    { "operator", "In" },
                    { "values", Seq.Of(Services.Select(s => WorkloadOf(kubernetes, s))) },
                },
            }
        },
        { "matchLabels", new Map { { "app.kubernetes.io/instance", kubernetes.SystemLabels()["app.kubernetes.io/instance"]! } } },
    };

    /// <summary>The four services reach one another on every port: membership (ringpop) and internode gRPC.</summary>
    private static Map Peers(KubernetesContext kubernetes) => Policy(kubernetes, $"{kubernetes.Workload}-peers", new Map
    {
        { "podSelector", AnyService(kubernetes) },
        { "policyTypes", Seq.Of(["Ingress", "Egress"]) },
        { "ingress", new Seq { new Map { { "from", new Seq { new Map { { "podSelector", AnyService(kubernetes) } } } } } } },
        { "egress", new Seq { new Map { { "to", new Seq { new Map { { "podSelector", AnyService(kubernetes) } } } } } } },
    });

    /// <summary>
    /// What the server's own NetworkPolicy gives the frontend, for the other three: DNS, PostgreSQL, the Kubernetes
    /// API (their init container waits for the schema job), and Prometheus's scrape.
    /// </summary>
    private static Map ServicesEgress(KubernetesContext kubernetes)
    {
        var others = new Map
        {
            {
                "matchExpressions", new Seq
                {
                    new Map
                    {
                        { "key", "app.kubernetes.io/name" },
                        { "operator", "In" },
                        { "values", Seq.Of(Services.Skip(1).Select(s => WorkloadOf(kubernetes, s))) },
                    },
                }
            },
            { "matchLabels", new Map { { "app.kubernetes.io/instance", kubernetes.SystemLabels()["app.kubernetes.io/instance"]! } } },
        };
        return Policy(kubernetes, $"{kubernetes.Workload}-services", new Map
        {
            { "podSelector", others },
            { "policyTypes", Seq.Of(["Ingress", "Egress"]) },
            { "ingress", new Seq { new Map { { "ports", new Seq { Port(9090) } } } } },
            {
                "egress", new Seq
                {
                    new Map { { "ports", new Seq { Port(53, "UDP"), Port(53) } } },
                    // PostgreSQL wherever it is (the chart's own or an existing one): its port only.
                    new Map { { "ports", new Seq { Port(5432) } } },
                    new Map { { "ports", new Seq { Port(443), Port(6443) } } },
                }
            },
        });
    }

    private static Map Port(int port, string protocol = "TCP") => new() { { "port", port }, { "protocol", protocol } };

    private static Map Policy(KubernetesContext kubernetes, string name, Map spec) => new()
    {
        { "apiVersion", "networking.k8s.io/v1" },
        { "kind", "NetworkPolicy" },
        { "metadata", new Map { { "name", name }, { "labels", kubernetes.Labels() } } },
        { "spec", spec },
    };

    private static Map Op(string op, string path, YamlNode value) => new() { { "op", op }, { "path", path }, { "value", value } };
}

using System.Globalization;
using Aspire.Hosting.ApplicationModel;
using Aspire.Hosting.Deployment;
using Aspire.Hosting.Deployment.Helm;
using Aspire.Hosting.Deployment.Yaml;

using static Aspire.Hosting.Temporal.Deployment.JsonPatches;

namespace Aspire.Hosting.Temporal.Deployment;

/// <summary>
/// The highly available form of the Temporal server, on in production (<c>components/temporal-topology</c>,
/// <c>temporal.temporalServer.topology.enabled</c>): frontend, history, matching and the internal worker as four
/// Deployments of the one image, each running its service alone (<c>TEMPORAL_SERVICES</c>) with its own replicas, resources,
/// pools, PodDisruptionBudget and spread over nodes and zones. The frontend keeps the server's name, so its Service and
/// NetworkPolicy (what clients reach) stay as they are; the other three are <c>{server}-{service}</c>, and
/// NetworkPolicies let the four reach one another (membership and internode gRPC) as the single process did inside,
/// and the other three reach the server's database.
/// </summary>
internal sealed class ServerTopology : DeploymentContribution
{
    /// <summary>
    /// What the server's entrypoint reads the services to run from (<c>temporal-server start --service</c>'s variable;
    /// unset, all four). The image's template has no <c>SERVICES</c>: older images' start script had.
    /// </summary>
    public const string ServicesVariable = "TEMPORAL_SERVICES";

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

    /// <summary>
    /// How long a new pod of the server stays ready before a rollout counts it available: its TCP probe passes
    /// once it listens, before it serves (history acquires its shards, a frontend's membership settles), in seconds.
    /// </summary>
    public const int TakeOverSeconds = 30;

    private readonly DeploymentOption option;
    private readonly IResourceWithConnectionString database;
    private DeployedConnection? store;

    /// <param name="database">The PostgreSQL server holding the server's stores.</param>
    public ServerTopology(IResourceWithConnectionString database)
    {
        this.database = database;
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

    public override async Task ReadAsync(DeploymentReadContext context, CancellationToken cancellationToken) =>
        store = await context.ResolveAsync(database, cancellationToken);

    public override void DeclareValues(DeploymentValues values) => values.AddOption(option);

    private DeployedConnection Store => store ?? throw new InvalidOperationException("Read before it is written.");

    /// <summary>In production each service's pods open their own pools, instead of the single process's four.</summary>
    public override IEnumerable<ProductionConnections> ConnectionsInProduction =>
        Services.Select(s => new ProductionConnections(database, $"temporal-server {s.Name}", s.Replicas, s.Connections));

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
        if (Store.Target is { } target)
        {
            // The database's own policy admits the server by name: the other three need a door of their own.
            var door = DatabaseDoor(kubernetes, target);
            kubernetes.Add(option, kubernetes.IsHelm && Store.Group is { } group ? new Conditional(kubernetes.RefAt($"{group}.enabled"), door) : door);
        }
    }

    private static string WorkloadOf(KubernetesContext kubernetes, Service service) =>
        service.Name == "frontend" ? kubernetes.Workload : $"{kubernetes.Workload}-{service.Name}";

    private static Map Resources(Service service) => new()
    {
        { "requests", new Map { { "cpu", service.Cpu }, { "memory", service.Memory } } },
        { "limits", new Map { { "memory", service.MemoryLimit } } },
    };

    /// <summary>The service's environment besides the server's settings: which service it runs, and its pools (env wins over envFrom).</summary>
    private static IEnumerable<Map> Environment(Service service) =>
    [
        DeploymentDocument.Variable(ServicesVariable, service.Name),
        DeploymentDocument.Variable("SQL_MAX_CONNS", Number(service.StorePool)),
        DeploymentDocument.Variable("SQL_MAX_IDLE_CONNS", Number(service.StorePool)),
        DeploymentDocument.Variable("SQL_VIS_MAX_CONNS", Number(service.VisibilityPool)),
        DeploymentDocument.Variable("SQL_VIS_MAX_IDLE_CONNS", Number(service.VisibilityPool)),
    ];

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
            Op("add", "/spec/template/spec/topologySpreadConstraints", KubernetesContext.SpreadOverNodesAndZones(kustomize.Workload)),
        ];
        operations.AddRange(Environment(frontend).Select(v => Op("add", "/spec/template/spec/containers/0/env/-", v)));
        return JsonPatches.For("Deployment", kustomize.Workload, "# The server's Deployment runs the frontend alone.", [.. operations]);
    }

    /// <summary>A Deployment of one service, from the server's own pod template.</summary>
    private Map Deployment(KubernetesContext kubernetes, Service service)
    {
        var name = WorkloadOf(kubernetes, service);
        var template = kubernetes.PodTemplate();
        var metadata = (Map)template["metadata"]!;
        metadata["labels"] = Relabelled(kubernetes.Labels(), name);
        var spec = (Map)template["spec"]!;
        spec["topologySpreadConstraints"] = KubernetesContext.SpreadOverNodesAndZones(name);
        var container = DeploymentDocument.Container(template);
        container["resources"] = ResourcesOf(kubernetes, service);
        var env = DeploymentDocument.Environment(container);
        foreach (var variable in Environment(service))
        {
            env.Add(variable);
        }
        if (service.Name != "frontend")
        {
            // Its own port, open: the kubelet's gRPC probe cannot speak the TLS these ports serve in production.
            container["ports"] = new Seq
            {
                new Map { { "name", "grpc" }, { "containerPort", service.GrpcPort }, { "protocol", "TCP" } },
                new Map { { "name", "metrics" }, { "containerPort", 9090 }, { "protocol", "TCP" } },
            };
            container["startupProbe"] = Probe(OpenPort(service), 5, 60);
            container["readinessProbe"] = Probe(OpenPort(service), 10, 3);
            container["livenessProbe"] = Probe(OpenPort(service), 20, 3);
        }
        return DeploymentDocument.Of(new Map { { "name", name }, { "labels", Relabelled(kubernetes.Labels(), name) } },
            ReplicasOf(kubernetes, service), kubernetes.Selector(name), template, TakeOverSeconds);
    }

    private static Map OpenPort(Service service) => new() { { "tcpSocket", new Map { { "port", service.GrpcPort } } } };

    private static Map Probe(Map check, int periodSeconds, int failureThreshold)
    {
        check.Add("periodSeconds", periodSeconds);
        check.Add("timeoutSeconds", 5);
        check.Add("failureThreshold", failureThreshold);
        return check;
    }

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
    private static Map AnyService(KubernetesContext kubernetes) => Named(kubernetes, Services);

    /// <summary>A selector of the pods of <paramref name="services"/>, by name, in this release.</summary>
    private static Map Named(KubernetesContext kubernetes, IEnumerable<Service> services) => new()
    {
        {
            "matchExpressions", new Seq
            {
                new Map
                {
                    { "key", "app.kubernetes.io/name" },
                    { "operator", "In" },
                    { "values", Seq.Of(services.Select(s => WorkloadOf(kubernetes, s))) },
                },
            }
        },
        { "matchLabels", new Map { { "app.kubernetes.io/instance", kubernetes.SystemLabels()["app.kubernetes.io/instance"]! } } },
    };

    /// <summary>The four services reach one another on every port: membership (ringpop) and internode gRPC.</summary>
    private static Map Peers(KubernetesContext kubernetes) => NetworkPolicyDocument.Of(kubernetes, $"{kubernetes.Workload}-peers", new Map
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
    private Map ServicesEgress(KubernetesContext kubernetes)
    {
        var others = Named(kubernetes, Services.Skip(1));
        return NetworkPolicyDocument.Of(kubernetes, $"{kubernetes.Workload}-services", new Map
        {
            { "podSelector", others },
            { "policyTypes", Seq.Of(["Ingress", "Egress"]) },
            { "ingress", new Seq { new Map { { "ports", new Seq { NetworkPolicyDocument.Port(9090) } } } } },
            {
                "egress", new Seq
                {
                    new Map { { "ports", new Seq { NetworkPolicyDocument.Port(53, "UDP"), NetworkPolicyDocument.Port(53) } } },
                    DatabaseEgress(kubernetes),
                    // The init container's `kubectl wait` for the schema job: the API server's address is the cluster's.
                    new Map { { "ports", new Seq { NetworkPolicyDocument.Port(443), NetworkPolicyDocument.Port(6443) } } },
                }
            },
        });
    }

    /// <summary>To the chart's own PostgreSQL pods, or (Helm, an existing one) its port wherever it is.</summary>
    private YamlNode DatabaseEgress(KubernetesContext kubernetes)
    {
        if (Store.Target is not { } target)
        {
            return new Map { { "ports", new Seq { NetworkPolicyDocument.Port(5432) } } };
        }
        var toPods = new Map
        {
            { "to", new Seq { new Map { { "podSelector", new Map { { "matchLabels", kubernetes.Selector(target.Workload) } } } } } },
            { "ports", new Seq { NetworkPolicyDocument.Port(target.Port) } },
        };
        return kubernetes.IsHelm && Store.Group is { } group
            ? new Conditional(kubernetes.RefAt($"{group}.enabled"), new Seq { toPods }, new Seq { new Map { { "ports", new Seq { NetworkPolicyDocument.Port(target.Port) } } } })
            : toPods;
    }

    /// <summary>The database's pods admit history, matching and the internal worker on its port.</summary>
    private static Map DatabaseDoor(KubernetesContext kubernetes, ServiceAddress database)
    {
        var others = Named(kubernetes, Services.Skip(1));
        return NetworkPolicyDocument.Of(kubernetes, $"{database.Workload}-from-{kubernetes.Workload}-services", new Map
        {
            { "podSelector", new Map { { "matchLabels", kubernetes.Selector(database.Workload) } } },
            { "policyTypes", Seq.Of(["Ingress"]) },
            { "ingress", new Seq { new Map { { "from", new Seq { new Map { { "podSelector", others } } } }, { "ports", new Seq { NetworkPolicyDocument.Port(database.Port) } } } } },
        });
    }
}

using Aspire.Hosting.ApplicationModel;

namespace Aspire.Hosting.Deployment;

/// <summary>
/// What a resource needs when it is deployed that running it locally does not say: replicas, compute, scaling,
/// probes, the user it runs as and where it writes. Attached by <see cref="DeploymentBuilderExtensions.WithDeployment{T}"/>,
/// by the AppHost and by integrations alike; the generator reads nothing else beyond the model itself.
/// </summary>
public sealed class DeploymentAnnotation : IResourceAnnotation
{
    /// <summary>Replicas of a long-running workload (Kubernetes; Compose runs one unless scaled).</summary>
    public int Replicas { get; set; } = 1;

    /// <summary>CPU request and limit (Kubernetes quantities); null leaves the generator's small defaults.</summary>
    public (string Request, string? Limit)? Cpu { get; set; }

    /// <summary>Memory request and limit (Kubernetes quantities).</summary>
    public (string Request, string Limit)? Memory { get; set; }

    /// <summary>CPU/memory autoscaling (a HorizontalPodAutoscaler); null for a fixed replica count.</summary>
    public AutoscaleSettings? Autoscale { get; set; }

    /// <summary>
    /// What integrations deploy with the resource besides its workload: their own objects, values and optional forms
    /// (<see cref="DeploymentContribution"/>), in the order they were added.
    /// </summary>
    public List<DeploymentContribution> Contributions { get; } = [];

    /// <summary>
    /// Environment variables (names) only Compose gets: settings that a cluster decides another way (for example
    /// the worker controller injects the worker's version).
    /// </summary>
    public HashSet<string> ComposeOnlyEnvironment { get; } = new(StringComparer.Ordinal);

    /// <summary>
    /// Settings that belong to a switchable group's infrastructure (the client certificate of the chart's Temporal):
    /// Helm leaves each out while its group (the value) is off and an existing server stands in.
    /// </summary>
    public Dictionary<string, string> GroupSettings { get; } = new(StringComparer.Ordinal);

    /// <summary>
    /// Runs to completion when started, though nothing waits for it (a command run by hand under a Compose profile):
    /// a job, never restarted once it has succeeded or failed.
    /// </summary>
    public bool RunsToCompletion { get; set; }

    /// <summary>At most this many replicas down at once in voluntary disruptions (a PodDisruptionBudget); null for none.</summary>
    public int? MaxUnavailable { get; set; }

    /// <summary>How long the process may take to stop after SIGTERM; the grace period is this plus a margin.</summary>
    public TimeSpan ShutdownWindow { get; set; } = TimeSpan.FromSeconds(20);

    /// <summary>
    /// Set for a resource only Compose gets, under this profile (started with <c>--profile</c>): a helper for a
    /// single host (a telemetry viewer, say) that a cluster has its own answer to.
    /// </summary>
    public string? ComposeProfile { get; set; }

    /// <summary>A cron schedule (UTC): the resource runs to completion at those times (a Kubernetes CronJob).</summary>
    public string? Schedule { get; set; }

    /// <summary>Readiness probe: ready for traffic and dependants.</summary>
    public DeploymentProbe? Readiness { get; set; }

    /// <summary>Liveness probe: restart when it fails; defaults to readiness.</summary>
    public DeploymentProbe? Liveness { get; set; }

    /// <summary>Startup probe: gives a slow start time before liveness counts; defaults to readiness.</summary>
    public DeploymentProbe? Startup { get; set; }

    /// <summary>
    /// A command that exits 0 when healthy, for Compose (which has no HTTP or gRPC checks): for example the image's
    /// own <c>--health-check</c> entry. Null uses an exec readiness probe.
    /// </summary>
    public IReadOnlyList<string>? HealthCommand { get; set; }

    /// <summary>The non-root user (and group) the image runs as: fixed, so <c>runAsNonRoot</c> can be proven.</summary>
    public long? RunAsUser { get; set; }

    /// <summary>Paths the process writes to, each given an <c>emptyDir</c>/tmpfs because the root filesystem is read-only.</summary>
    public List<string> WritablePaths { get; } = ["/tmp"];

    /// <summary>Secrets mounted read-only in Kubernetes (certificates an operator or cert-manager provides); Compose mounts none.</summary>
    public List<SecretMount> SecretMounts { get; } = [];

    /// <summary>The image repository of a project resource (its tag and registry come from the generator's options).</summary>
    public string? ImageRepository { get; set; }

    /// <summary>
    /// The part of the system the resource belongs to (for example <c>postgresql</c>): a Helm switch
    /// <c>{group}.enabled</c> leaves it out for existing infrastructure. Null for the application itself.
    /// </summary>
    public string? Group { get; set; }

    /// <summary>
    /// When the group is switched off, the connection string dependants get instead, as a format over Helm values of
    /// the group (<c>{frontendAddress}</c> reads <c>.Values.{group}.frontendAddress</c>); null reads it from the Secret.
    /// </summary>
    public ExternalConnection? ExternalConnection { get; set; }

    /// <summary>The endpoint and path Prometheus scrapes; null when the resource has no metrics.</summary>
    public (string Endpoint, string Path)? Metrics { get; set; }

    /// <summary>Variables that get the pod's own IP address in Kubernetes (for servers that advertise where they are reached).</summary>
    public List<string> PodAddressVariables { get; } = [];

    /// <summary>How long a new pod must stay ready before a rollout counts it available; null for Kubernetes' 0.</summary>
    public int? MinReadySeconds { get; set; }

    /// <summary>Environment set only when deployed (for example the runtime's container tuning).</summary>
    public Dictionary<string, string> Environment { get; } = [];

    /// <summary>
    /// Production defaults of settings, by environment variable: each variable holds one non-secret parameter, whose
    /// value stays the default elsewhere (<see cref="DeploymentBuilder.InProduction"/>).
    /// </summary>
    public Dictionary<string, string> ProductionSettings { get; } = new(StringComparer.Ordinal);

    /// <summary>
    /// The connections the resource accepts at most (a database server's <c>max_connections</c>), of which
    /// <see cref="ConnectionLimit.Reserved"/> are kept for administration; null when it has no such limit.
    /// </summary>
    public ConnectionLimit? ConnectionLimit { get; set; }

    /// <summary>
    /// The connections each replica opens at most to another resource (its pool size): the generator refuses a model
    /// whose replicas, at their most, could open more than a server accepts (<see cref="ConnectionLimit"/>).
    /// </summary>
    public List<ConnectionUse> ConnectionUses { get; } = [];

    /// <summary>
    /// How many copies of the workload may run side by side, each with its own replicas and autoscaler (a versioned
    /// rollout runs the current build beside the one it ramps to); counted in the connection budget.
    /// </summary>
    public int CopiesSideBySide { get; set; } = 1;
}

/// <summary>A server's connection limit and the part of it kept for administration (superuser sessions, a psql by hand).</summary>
public sealed record ConnectionLimit(int Limit, int Reserved);

/// <summary>Up to <paramref name="PerReplica"/> connections from each replica to <paramref name="Server"/> (or a database of it).</summary>
public sealed record ConnectionUse(IResource Server, int PerReplica);

/// <summary>CPU and memory autoscaling bounds and targets (percent of requests).</summary>
public sealed record AutoscaleSettings(int MinReplicas, int MaxReplicas, int CpuPercent, int MemoryPercent);

/// <summary>A connection string built from Helm values when the resource's group is external (see <see cref="DeploymentAnnotation.ExternalConnection"/>).</summary>
/// <param name="Format">The connection string with <c>{value}</c> placeholders.</param>
/// <param name="Defaults">Each placeholder's default in <c>values.yaml</c>.</param>
/// <param name="SecretEnvironment">Environment dependants then read from the group's existing Secret, when it has the key (name → key).</param>
/// <param name="Schemas">The JSON schema of each placeholder's value (values.schema.json); by default a string that is not empty.</param>
public sealed record ExternalConnection(
    string Format,
    IReadOnlyDictionary<string, string> Defaults,
    IReadOnlyDictionary<string, string>? SecretEnvironment = null,
    IReadOnlyDictionary<string, System.Text.Json.Nodes.JsonObject>? Schemas = null);

/// <summary>
/// A Secret's keys as files under <paramref name="Path"/>: only <paramref name="Keys"/> when given (a client takes a CA
/// certificate, never the server's key beside it). Optional: a missing Secret mounts an empty folder, so the pod
/// starts and what reads the files says which is missing.
/// </summary>
public sealed record SecretMount(string SecretName, string Path, IReadOnlyList<string>? Keys);

using Aspire.Hosting.ApplicationModel;

namespace Aspire.Hosting.Deployment;

/// <summary>Fluent settings of <see cref="DeploymentAnnotation"/>: <c>.WithDeployment(d => d.Replicas(3).Resources(...))</c>.</summary>
public sealed class DeploymentBuilder
{
    internal DeploymentBuilder(DeploymentAnnotation annotation) => Annotation = annotation;

    /// <summary>The settings being built.</summary>
    public DeploymentAnnotation Annotation { get; }

    /// <summary>Replicas of a long-running workload.</summary>
    public DeploymentBuilder Replicas(int replicas)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(replicas, 1);
        Annotation.Replicas = replicas;
        return this;
    }

    /// <summary>Requests and limits as <c>request/limit</c> (for example <c>cpu: "250m/1", memory: "256Mi/512Mi"</c>); a CPU without <c>/limit</c> is left unthrottled.</summary>
    public DeploymentBuilder Resources(string cpu, string memory)
    {
        var (cpuRequest, cpuLimit) = Split(cpu);
        var (memoryRequest, memoryLimit) = Split(memory);
        Annotation.Cpu = (cpuRequest, cpuLimit);
        Annotation.Memory = (memoryRequest, memoryLimit ?? throw new ArgumentException("A memory limit is required: request/limit.", nameof(memory)));
        return this;
    }

    /// <summary>CPU and memory autoscaling between <paramref name="min"/> and <paramref name="max"/> replicas.</summary>
    public DeploymentBuilder Autoscale(int min, int max, int cpu = 80, int memory = 80)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(min, 1);
        ArgumentOutOfRangeException.ThrowIfLessThan(max, min);
        Annotation.Autoscale = new AutoscaleSettings(min, max, cpu, memory);
        return this;
    }

    /// <summary>
    /// Adds what an integration deploys with the resource besides its workload (objects, values, optional forms): the
    /// hook through which Temporal's KEDA scaler and worker controller reach the outputs, and any other integration's.
    /// </summary>
    public DeploymentBuilder Contribute(DeploymentContribution contribution)
    {
        ArgumentNullException.ThrowIfNull(contribution);
        Annotation.Contributions.Add(contribution);
        return this;
    }

    /// <summary>Environment variables of the resource that only Docker Compose gets.</summary>
    public DeploymentBuilder ComposeOnlyEnvironment(params string[] names)
    {
        Annotation.ComposeOnlyEnvironment.UnionWith(names);
        return this;
    }

    /// <summary>
    /// The setting <paramref name="variable"/> is about the chart's own server of <paramref name="group"/>: Helm leaves it
    /// out while <c>{group}.enabled</c> is false (an existing server stands in, which the setting does not describe).
    /// </summary>
    public DeploymentBuilder OnlyWhileGroupIsOn(string variable, string group)
    {
        Annotation.GroupSettings[variable] = group;
        return this;
    }

    /// <summary>
    /// A rollout takes a new pod as available only once it has stayed ready this long (<c>minReadySeconds</c>): for a
    /// server whose probe passes before it serves, the time it takes to take over.
    /// </summary>
    public DeploymentBuilder MinReadySeconds(int seconds)
    {
        ArgumentOutOfRangeException.ThrowIfNegative(seconds);
        Annotation.MinReadySeconds = seconds;
        return this;
    }

    /// <summary>The resource runs to completion when started, by hand: a job nothing waits for.</summary>
    public DeploymentBuilder RunsToCompletion()
    {
        Annotation.RunsToCompletion = true;
        return this;
    }

    /// <summary>Deploys the resource with Docker Compose only, under <paramref name="profile"/> (off unless asked for).</summary>
    public DeploymentBuilder ComposeOnly(string profile)
    {
        Annotation.ComposeProfile = profile;
        return this;
    }

    /// <summary>Runs the resource to completion on a cron schedule (UTC), for example <c>"0 3 * * *"</c>.</summary>
    public DeploymentBuilder Schedule(string cron)
    {
        if (cron.Split(' ', StringSplitOptions.RemoveEmptyEntries).Length != 5)
        {
            throw new ArgumentException($"'{cron}' is not a cron schedule of five fields.", nameof(cron));
        }
        Annotation.Schedule = cron;
        return this;
    }

    /// <summary>A PodDisruptionBudget allowing at most <paramref name="maxUnavailable"/> replicas down.</summary>
    public DeploymentBuilder DisruptionBudget(int maxUnavailable = 1)
    {
        Annotation.MaxUnavailable = maxUnavailable;
        return this;
    }

    /// <summary>How long the process takes to stop at most after SIGTERM.</summary>
    public DeploymentBuilder ShutdownWindow(TimeSpan window)
    {
        Annotation.ShutdownWindow = window;
        return this;
    }

    /// <summary>The probes; liveness and startup default to readiness.</summary>
    public DeploymentBuilder Probes(DeploymentProbe readiness, DeploymentProbe? liveness = null, DeploymentProbe? startup = null)
    {
        Annotation.Readiness = readiness;
        Annotation.Liveness = liveness;
        Annotation.Startup = startup;
        return this;
    }

    /// <summary>The command that says healthy by exiting 0 inside the container (a Compose health check).</summary>
    public DeploymentBuilder HealthCommand(params string[] command)
    {
        Annotation.HealthCommand = command;
        return this;
    }

    /// <summary>The fixed non-root uid of the image, and the paths it writes besides <c>/tmp</c>.</summary>
    public DeploymentBuilder RunAs(long user, params string[] writablePaths)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(user, 1);
        Annotation.RunAsUser = user;
        Annotation.WritablePaths.AddRange(writablePaths.Except(Annotation.WritablePaths));
        return this;
    }

    /// <summary>
    /// Kubernetes mounts the Secret <paramref name="secretName"/> read-only at <paramref name="path"/> (only
    /// <paramref name="keys"/> when given), optional so that a missing Secret leaves the folder empty; Compose mounts nothing.
    /// </summary>
    public DeploymentBuilder MountsSecret(string secretName, string path, params string[] keys)
    {
        ArgumentException.ThrowIfNullOrWhiteSpace(secretName);
        ArgumentException.ThrowIfNullOrWhiteSpace(path);
        Annotation.SecretMounts.Add(new SecretMount(secretName, path, keys.Length > 0 ? keys : null));
        return this;
    }

    /// <summary>The image repository of a project resource.</summary>
    public DeploymentBuilder Image(string repository)
    {
        Annotation.ImageRepository = repository;
        return this;
    }

    /// <summary>The part of the system this belongs to, switchable in Helm (<c>{group}.enabled</c>).</summary>
    public DeploymentBuilder Group(string group)
    {
        Annotation.Group = group;
        return this;
    }

    /// <summary>The connection string dependants get when the group is external, from Helm values with these defaults.</summary>
    public DeploymentBuilder WhenExternal(
        string format, IReadOnlyDictionary<string, string> defaults, IReadOnlyDictionary<string, string>? secretEnvironment = null,
        IReadOnlyDictionary<string, System.Text.Json.Nodes.JsonObject>? schemas = null)
    {
        Annotation.ExternalConnection = new ExternalConnection(format, defaults, secretEnvironment, schemas);
        return this;
    }

    /// <summary>Prometheus scrapes <paramref name="path"/> on <paramref name="endpoint"/>.</summary>
    public DeploymentBuilder Metrics(string endpoint, string path = "/metrics")
    {
        Annotation.Metrics = (endpoint, path);
        return this;
    }

    /// <summary>The pod's IP address in <paramref name="variable"/> (Kubernetes' downward API).</summary>
    public DeploymentBuilder PodAddressIn(string variable)
    {
        Annotation.PodAddressVariables.Add(variable);
        return this;
    }

    /// <summary>An environment variable set only when deployed.</summary>
    public DeploymentBuilder Environment(string name, string value)
    {
        Annotation.Environment[name] = value;
        return this;
    }

    /// <summary>
    /// In production, the setting in <paramref name="variable"/> (a non-secret parameter) defaults to
    /// <paramref name="value"/> instead of the parameter's own: the production overlay patches it and Helm's
    /// <c>values-production.yaml</c> sets it; development and Compose keep the parameter's value. For what a cluster
    /// needs and a laptop does not (Temporal's history shards, say).
    /// </summary>
    public DeploymentBuilder InProduction(string variable, string value)
    {
        ArgumentException.ThrowIfNullOrWhiteSpace(variable);
        ArgumentNullException.ThrowIfNull(value);
        Annotation.ProductionSettings[variable] = value;
        return this;
    }

    /// <summary>
    /// The resource accepts at most <paramref name="limit"/> connections, <paramref name="reserved"/> of them kept for
    /// administration: the generator checks every workload's declared pool against it (<see cref="Connects"/>).
    /// </summary>
    public DeploymentBuilder AcceptsConnections(int limit, int reserved)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(reserved, 0);
        ArgumentOutOfRangeException.ThrowIfLessThanOrEqual(limit, reserved);
        Annotation.ConnectionLimit = new ConnectionLimit(limit, reserved);
        return this;
    }

    /// <summary>Each replica opens at most <paramref name="perReplica"/> connections to <paramref name="server"/> (or a database of it).</summary>
    public DeploymentBuilder Connects(IResource server, int perReplica)
    {
        ArgumentNullException.ThrowIfNull(server);
        ArgumentOutOfRangeException.ThrowIfLessThan(perReplica, 1);
        Annotation.ConnectionUses.Add(new ConnectionUse(server, perReplica));
        return this;
    }

    /// <summary>Up to <paramref name="copies"/> copies of the workload run side by side, each with its own replicas (a versioned rollout).</summary>
    public DeploymentBuilder CopiesSideBySide(int copies)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(copies, 1);
        Annotation.CopiesSideBySide = Math.Max(Annotation.CopiesSideBySide, copies);
        return this;
    }

    private static (string Request, string? Limit) Split(string value) =>
        value.Split('/') switch
        {
            [var request] => (request, null),
            [var request, var limit] => (request, limit),
            _ => throw new ArgumentException($"'{value}' is not request or request/limit.", nameof(value)),
        };
}

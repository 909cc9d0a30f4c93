namespace Aspire.Hosting.Deployment.Planning;

/// <summary>
/// One deployable thing, as every output needs it: read once from the model (<see cref="PlanReader"/>) so the
/// Compose, Kustomize and Helm writers translate the same facts and none of them reads the model itself.
/// </summary>
internal sealed record Workload(
    string Name,
    WorkloadKind Kind,
    string Image,
    IReadOnlyList<string>? Entrypoint,
    IReadOnlyList<Value> Args,
    IReadOnlyList<EnvironmentVariable> Environment,
    IReadOnlyList<Port> Ports,
    IReadOnlyList<VolumeMount> Volumes,
    IReadOnlyList<FileMount> Files,
    IReadOnlyList<Dependency> Dependencies,
    DeploymentAnnotation Settings,
    bool IsProject)
{
    /// <summary>Ports other workloads reach this one on, from the references in their environment and arguments.</summary>
    public IEnumerable<Connection> Connections => Values.SelectMany(v => v.Connections).Distinct();

    /// <summary>Every value the workload is given: its environment, then its arguments.</summary>
    public IEnumerable<Value> Values => Environment.Select(e => e.Value).Concat(Args);

    public string? Group => Settings.Group;

    public bool IsLongRunning => Kind is WorkloadKind.Service or WorkloadKind.StatefulService;

    public Port? PortNamed(string name) => Ports.FirstOrDefault(p => p.Name == name);
}

internal enum WorkloadKind
{
    /// <summary>Stateless and long-running: a Deployment.</summary>
    Service,

    /// <summary>Long-running with data that must survive it: a StatefulSet with volume claims.</summary>
    StatefulService,

    /// <summary>Runs once to completion (something waits for it to complete): a Job.</summary>
    Job,

    /// <summary>Runs to completion on a schedule (a backup, say): a CronJob; in Compose, run by hand or by the host's cron.</summary>
    ScheduledJob,
}

/// <param name="Name">The endpoint's name in the model.</param>
/// <param name="TargetPort">Where the container listens (the Service exposes the same port).</param>
/// <param name="Protocol">http, grpc or tcp: Kubernetes' appProtocol and the probe kinds follow it.</param>
/// <param name="IsExternal">Reachable from outside the system (Compose publishes it).</param>
internal sealed record Port(string Name, int TargetPort, string Protocol, bool IsExternal);

internal sealed record VolumeMount(string Name, string Target);

/// <summary>A file the model writes into the container (for example configuration): a ConfigMap mount when deployed.</summary>
internal sealed record FileMount(string Directory, string FileName, string Contents);

/// <summary>Start order: this workload starts once <paramref name="Target"/> is healthy, or has completed when it is a job.</summary>
internal sealed record Dependency(string Target, bool Completion);

/// <summary>A TCP path the model implies: from a workload to <paramref name="Target"/> on <paramref name="Port"/>.</summary>
internal sealed record Connection(string Target, int Port);

internal sealed record EnvironmentVariable(string Name, Value Value);

/// <summary>An input the model takes at deploy time: a secret parameter (never written into an output).</summary>
/// <param name="Name">The parameter's name in the model (for example <c>postgres-password</c>).</param>
internal sealed record SecretInput(string Name)
{
    /// <summary>The environment-style key (<c>POSTGRES_PASSWORD</c>) used in <c>.env</c> files and Secrets.</summary>
    public string Key { get; } = Name.ToUpperInvariant().Replace('-', '_');
}

/// <summary>The whole system to deploy.</summary>
internal sealed record Plan(IReadOnlyList<Workload> Workloads, IReadOnlyList<SecretInput> Secrets)
{
    public Workload this[string name] => Workloads.First(w => w.Name == name);

    /// <summary>
    /// The plan a cluster gets: without what only Compose runs (<see cref="DeploymentAnnotation.ComposeProfile"/>) or
    /// sets (<see cref="DeploymentAnnotation.ComposeOnlyEnvironment"/>).
    /// </summary>
    public Plan ForKubernetes()
    {
        var workloads = Workloads.Where(w => w.Settings.ComposeProfile is null)
            .Select(w => w.Settings.ComposeOnlyEnvironment.Count == 0 ? w
                : w with { Environment = [.. w.Environment.Where(e => !w.Settings.ComposeOnlyEnvironment.Contains(e.Name))] })
            .ToList();
        var secrets = Secrets.Where(s => workloads.Any(w => w.Environment.Any(e => e.Value.Secrets.Contains(s)))).ToList();
        return new Plan(workloads, secrets);
    }

    /// <summary>The groups that Helm can switch off for existing infrastructure, in the order they first appear.</summary>
    public IEnumerable<string> Groups => Workloads.Select(w => w.Group).OfType<string>().Distinct();
}

using System.Globalization;
using Aspire.Hosting.Deployment.Planning;
using Aspire.Hosting.Deployment.Yaml;

namespace Aspire.Hosting.Deployment.Compose;

/// <summary>
/// <c>compose/docker-compose.yaml</c> and <c>.env.example</c>: health-ordered start (<c>service_healthy</c>,
/// <c>service_completed_successfully</c>), hardened containers, secrets only from <c>.env</c>. Valid for Compose v2
/// and for docker-compose 1.29 (so no top-level <c>name</c>, no <c>depends_on.required</c>, no inline configs).
/// </summary>
internal static class ComposeWriter
{
    public static IEnumerable<(string Path, string Contents)> Write(Plan plan, DeploymentOptions options)
    {
        var services = new Map();
        var volumes = new Map();
        var hostPorts = new HashSet<int>();
        // The application's ports first, so it gets its own port numbers on the host when they are free.
        foreach (var workload in plan.Workloads.OrderBy(w => w.IsProject ? 0 : 1))
        {
            services.Add(workload.Name, Service(plan, workload, hostPorts));
        }
        var ordered = new Map();
        foreach (var workload in plan.Workloads)
        {
            ordered.Add(workload.Name, services[workload.Name]);
            foreach (var volume in workload.Volumes.Select(v => v.Name))
            {
                volumes.Add(volume, new Map());
            }
        }
        services = ordered;
        var file = new Map { { "services", services } };
        file.Add("volumes", volumes.Count > 0 ? volumes : null);
        yield return ("compose/docker-compose.yaml", Generated.Header + $"# Start: cp .env.example .env, fill it in, then: docker compose -p {options.Name} up -d\n" + YamlWriter.Write(file));
        yield return ("compose/.env.example", EnvExample(plan));
        foreach (var workload in plan.Workloads)
        {
            foreach (var file2 in workload.Files)
            {
                yield return ($"compose/files/{workload.Name}/{file2.FileName}", file2.Contents);
            }
        }
    }

    private static Map Service(Plan plan, Workload w, HashSet<int> hostPorts)
    {
        var service = new Map { { "image", Image(plan, w) } };
        if (w.Entrypoint is { } entrypoint)
        {
            service.Add("entrypoint", Seq.Of(entrypoint.Select(Escape)));
        }
        if (w.Args.Count > 0)
        {
            service.Add("command", Seq.Of(w.Args.Select(Render)));
        }
        if (w.Environment.Count > 0)
        {
            var environment = new Map();
            foreach (var variable in w.Environment)
            {
                environment.Add(variable.Name, Render(variable.Value));
            }
            service.Add("environment", environment);
        }
        var ports = new Seq();
        foreach (var port in w.Ports.Where(p => p.IsExternal))
        {
            var host = port.TargetPort;
            while (!hostPorts.Add(host))
            {
                host++;
            }
            // On loopback unless told otherwise: a published port is reachable by anyone who reaches the host.
            var variable = $"{w.Name}_{port.Name}".ToUpperInvariant().Replace('-', '_');
            ports.Add($"${{{variable}_ADDRESS:-127.0.0.1}}:${{{variable}_PORT:-{host}}}:{port.TargetPort.ToString(CultureInfo.InvariantCulture)}");
        }
        service.Add("ports", ports.Count > 0 ? ports : null);
        var mounts = new Seq(w.Volumes.Select(v => (YamlNode)new Scalar($"{v.Name}:{v.Target}")));
        foreach (var file in w.Files)
        {
            mounts.Add($"./files/{w.Name}/{file.FileName}:{file.Directory.TrimEnd('/')}/{file.FileName}:ro");
        }
        service.Add("volumes", mounts.Count > 0 ? mounts : null);
        service.Add("depends_on", DependsOn(plan, w));
        if (WorkloadPolicy.HealthCommand(w) is { } command && w.IsLongRunning)
        {
            service.Add("healthcheck", new Map
            {
                { "test", Seq.Of(command.Select(Escape).Prepend("CMD")) },
                { "interval", "10s" },
                { "timeout", "5s" },
                { "retries", 6 },
                { "start_period", "60s" },
            });
        }
        var contributed = new ComposeContext(w.Name);
        foreach (var contribution in w.Settings.Contributions)
        {
            contribution.WriteCompose(contributed);
        }
        if (contributed.Labels.Count > 0)
        {
            var labels = new Map();
            foreach (var (key, value) in contributed.Labels)
            {
                labels.Add(key, Escape(value));
            }
            service.Add("labels", labels);
        }
        if (w.Settings.ComposeProfile is { } profile)
        {
            service.Add("profiles", Seq.Of([profile]));
        }
        else if (w.Kind == WorkloadKind.ScheduledJob)
        {
            // Compose has no scheduler: `docker compose run --rm <name>`, from the host's cron at the model's schedule.
            service.Add("profiles", Seq.Of(["scheduled"]));
        }
        // A job run by hand (scheduled, or under a profile) is not retried: whoever ran it reads its exit.
        service.Add("restart", w.IsLongRunning ? "unless-stopped" : w.Kind == WorkloadKind.ScheduledJob || w.Settings.ComposeProfile is not null ? "no" : "on-failure");
        service.Add("stop_grace_period", $"{WorkloadPolicy.GracePeriodSeconds(w)}s");
        // The same hardening as the Kubernetes securityContext.
        service.Add("user", WorkloadPolicy.User(w).ToString(CultureInfo.InvariantCulture));
        service.Add("read_only", true);
        service.Add("tmpfs", Seq.Of(w.Settings.WritablePaths.Select(p => $"{p}:mode=1777")));
        service.Add("cap_drop", Seq.Of(["ALL"]));
        service.Add("security_opt", Seq.Of(["no-new-privileges:true"]));
        var (cpuRequest, cpuLimit) = WorkloadPolicy.Cpu(w);
        var (memoryRequest, memoryLimit) = WorkloadPolicy.Memory(w);
        var limits = new Map { { "memory", WorkloadPolicy.ComposeMemory(memoryLimit) } };
        limits.Add("cpus", cpuLimit is null ? null : new Scalar(WorkloadPolicy.ComposeCpus(cpuLimit)));
        service.Add("deploy", new Map
        {
            {
                "resources", new Map
                {
                    { "limits", limits },
                    { "reservations", new Map { { "cpus", WorkloadPolicy.ComposeCpus(cpuRequest) }, { "memory", WorkloadPolicy.ComposeMemory(memoryRequest) } } },
                }
            },
        });
        return service;
    }

    private static Map? DependsOn(Plan plan, Workload w)
    {
        if (w.Dependencies.Count == 0)
        {
            return null;
        }
        var dependsOn = new Map();
        foreach (var dependency in w.Dependencies)
        {
            var target = plan[dependency.Target];
            var condition = dependency.Completion ? "service_completed_successfully"
                : WorkloadPolicy.HealthCommand(target) is not null ? "service_healthy"
                : "service_started";
            dependsOn.Add(dependency.Target, new Map { { "condition", condition } });
        }
        return dependsOn;
    }

    /// <summary>
    /// An image built from a project gets its tag from <c>.env</c> (<c>WORKER_IMAGE_TAG</c>, default the generated
    /// one): a release moves it there, and a second build can run beside the first (a versioned rollout).
    /// </summary>
    private static string Image(Plan plan, Workload w)
    {
        if (!w.IsProject)
        {
            return w.Image;
        }
        var at = w.Image.LastIndexOf(':');
        return $"{w.Image[..at]}:${{{ImageTagKey(plan, w)}:-{w.Image[(at + 1)..]}}}";
    }

    /// <summary>
    /// One key per image: workloads that run the same image (the worker and its migration job) move together, under the
    /// name of the one that runs continuously.
    /// </summary>
    private static string ImageTagKey(Plan plan, Workload w)
    {
        static string Repository(Workload p) => p.Image[..p.Image.LastIndexOf(':')];
        var named = plan.Workloads.Where(p => p.IsProject && Repository(p) == Repository(w)).OrderBy(p => p.IsLongRunning ? 0 : 1).First();
        return $"{named.Name}_IMAGE_TAG".ToUpperInvariant().Replace('-', '_');
    }

    /// <summary>Secrets as <c>${KEY:?…}</c> read from <c>.env</c>; a literal <c>$</c> doubled so Compose leaves it to the container.</summary>
    private static string Render(Value value) =>
        value.Render(s => $"${{{s.Key}:?set {s.Key} in .env (see .env.example)}}", Escape, s => $"${{{s.Key}:-{Default(s)}}}");

    /// <summary>
    /// A setting's default inside <c>${KEY:-default}</c>, which ends at the first <c>}</c>, and where a <c>$</c> is read
    /// differently by docker-compose 1.29 (as it is, <c>$$</c> included) and Compose v2 (interpolated): neither can be written.
    /// </summary>
    private static string Default(SettingPart setting) => setting.Default.IndexOfAny(['}', '$']) >= 0
        ? throw new DeploymentModelException(
            $"Parameter '{setting.Name}' has a default with '}}' or '$', which Docker Compose cannot hold in ${{{setting.Key}:-...}}: give it another default.")
        : setting.Default;

    private static string Escape(string literal) => literal.Replace("$", "$$", StringComparison.Ordinal);

    private static string EnvExample(Plan plan)
    {
        var text = Generated.SecretsExample(plan, "# Copy to .env (never commit it) and give every secret a value, for example: openssl rand -hex 24\n");
        var settings = plan.Workloads.SelectMany(w => w.Values).SelectMany(v => v.Settings).Select(s => (s.Key, s.Default))
            .Concat(plan.Workloads.Where(w => w.IsProject).Select(w => (Key: ImageTagKey(plan, w), Default: w.Image[(w.Image.LastIndexOf(':') + 1)..])))
            .DistinctBy(s => s.Key).ToList();
        if (settings.Count > 0)
        {
            text.Append("\n# Settings: optional, each shown with its default.\n");
            foreach (var (key, value) in settings)
            {
                text.Append(CultureInfo.InvariantCulture, $"# {key}={value}\n");
            }
        }
        return text.ToString();
    }
}

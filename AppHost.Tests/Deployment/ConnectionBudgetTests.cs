using System.Globalization;
using k8s;
using k8s.Models;

namespace AppHost.Tests.Deployment;

/// <summary>
/// The connection budget, read back from what the real tools rendered (not from the generator's own arithmetic):
/// every workload that talks to PostgreSQL has an explicit pool, and the pools at the most replicas each form can run
/// (the HPA's or KEDA's maximum, a build per version side by side with the worker controller) plus the reserve fit the
/// <c>max_connections</c> PostgreSQL is started with.
/// </summary>
[Collection(SharedDeployment.Name)]
public sealed class ConnectionBudgetTests(GeneratedDeployment generated)
{
    /// <summary>Kept for administration (docs/operations.md, "The connection budget").</summary>
    private const int Reserved = 10;

    /// <summary>The jobs' connections, from their scripts: temporal-sql-tool one run after the other; a pg_dump per database at once and a psql.</summary>
    private static readonly Dictionary<string, int> JobConnections = new()
    {
        ["temporal-server-schema"] = 2,
        ["postgres-backup"] = 4,
        ["postgres-roles"] = 1,
        ["postgres-certificate-reload"] = 1,
    };

    /// <summary>The services one Temporal server process runs, each with its own pools, unless TEMPORAL_SERVICES names fewer.</summary>
    private const int TemporalServicesPerProcess = 4;

    public static TheoryData<string, string[]> KustomizeForms => new()
    {
        { "overlays/development", [] },
        { "overlays/production", [] },
        { "overlays/production", ["keda"] },
        { "overlays/production", ["worker-versioning"] },
    };

    [Theory]
    [MemberData(nameof(KustomizeForms))]
    public async Task Kustomize_pools_at_their_most_replicas_fit_max_connections(string overlay, string[] components)
    {
        var rendered = await generated.KustomizeAsync(overlay, components);

        AssertFits(rendered);
    }

    public static TheoryData<string> HelmForms => ["", "-f values-production.yaml", "-f values-production.yaml --set keda.enabled=true",
        "--set workerVersioning.enabled=true --set workerVersioning.buildId=1.4.0"];

    [Theory]
    [MemberData(nameof(HelmForms))]
    public async Task Helm_pools_at_their_most_replicas_fit_max_connections(string values)
    {
        var rendered = await generated.HelmTemplateAsync(Validators.Helm4, values.Split(' ', StringSplitOptions.RemoveEmptyEntries));

        AssertFits(rendered);
    }

    [Fact]
    public async Task The_check_reads_what_it_sums_more_replicas_than_the_budget_holds_fail_it()
    {
        // The same arithmetic over a chart whose values a user raised past the budget: the check must notice.
        var rendered = await generated.HelmTemplateAsync(Validators.Helm4, "--set", "autoscaling.maxReplicas=40");

        var (limit, used, lines) = Budget(rendered);

        Assert.True(used + Reserved > limit, string.Join("; ", lines));
    }

    private static void AssertFits(string rendered)
    {
        var (limit, used, lines) = Budget(rendered);
        Assert.True(used + Reserved <= limit, $"max_connections {limit} < {used} + {Reserved} reserved: {string.Join("; ", lines)}");
        Assert.Contains(lines, l => l.StartsWith("worker:", StringComparison.Ordinal));
        Assert.Contains(lines, l => l.StartsWith("temporal-server:", StringComparison.Ordinal));
    }

    /// <summary>PostgreSQL's limit, the connections every workload may open at its most, and the sum line by line.</summary>
    private static (int Limit, int Used, List<string> Lines) Budget(string rendered)
    {
        var objects = GeneratedDeployment.ParseStrict(rendered);
        var configMaps = objects.OfType<V1ConfigMap>().ToDictionary(c => c.Name(), c => c.Data ?? new Dictionary<string, string>());
        var postgres = objects.OfType<V1StatefulSet>().Single(s => s.Name() == "postgres").Spec.Template.Spec.Containers[0];
        var limit = int.Parse(Assert.Single(postgres.Args ?? [], a => a.StartsWith("max_connections=", StringComparison.Ordinal))["max_connections=".Length..], CultureInfo.InvariantCulture);

        var lines = new List<string>();
        var used = 0;
        foreach (var (name, pod, replicas) in Pods(rendered, objects))
        {
            var container = pod.Spec.Containers[0];
            var env = Environment(container, configMaps);
            int perReplica;
            if (env.ContainsKey("ConnectionStrings__appdb"))
            {
                Assert.True(env.TryGetValue("Database__MaxPoolSize", out var pool), $"{name} talks to PostgreSQL with no explicit pool (Database__MaxPoolSize)");
                perReplica = int.Parse(pool!, CultureInfo.InvariantCulture);
            }
            else if (env.GetValueOrDefault("DB") == "postgres12")
            {
                Assert.True(env.ContainsKey("SQL_MAX_CONNS") && env.ContainsKey("SQL_VIS_MAX_CONNS"), $"{name}: Temporal's pools are not set (SQL_MAX_CONNS, SQL_VIS_MAX_CONNS)");
                // A pod of the production topology runs the services TEMPORAL_SERVICES names; the single process runs all four.
                var services = env.TryGetValue("TEMPORAL_SERVICES", out var named) ? named.Split(',').Length : TemporalServicesPerProcess;
                perReplica = services * (int.Parse(env["SQL_MAX_CONNS"], CultureInfo.InvariantCulture) + int.Parse(env["SQL_VIS_MAX_CONNS"], CultureInfo.InvariantCulture));
            }
            else if (env.ContainsKey("POSTGRES_SEEDS") || env.ContainsKey("PGHOST"))
            {
                // Helm names a hook Job after its revision (temporal-server-schema-1).
                var job = JobConnections.Keys.SingleOrDefault(j => name == j || name.StartsWith(j + "-", StringComparison.Ordinal));
                Assert.True(job is not null, $"{name} talks to PostgreSQL and is not counted");
                perReplica = JobConnections[job];
            }
            else
            {
                continue;
            }
            used += replicas * perReplica;
            lines.Add($"{name}: {replicas} x {perReplica}");
        }
        return (limit, used, lines);
    }

    /// <summary>Each pod template with the most replicas it runs at once.</summary>
    private static IEnumerable<(string Name, V1PodTemplateSpec Pod, int Replicas)> Pods(string rendered, List<IKubernetesObject> objects)
    {
        var autoscalers = objects.OfType<V2HorizontalPodAutoscaler>().ToDictionary(h => h.Spec.ScaleTargetRef.Name, h => h.Spec.MaxReplicas);
        foreach (var scaled in WorkerControllerObjects.Of(rendered, "ScaledObject"))
        {
            var spec = (Dictionary<object, object>)scaled["spec"];
            autoscalers[(string)((Dictionary<object, object>)spec["scaleTargetRef"])["name"]] = Convert.ToInt32(spec["maxReplicaCount"], CultureInfo.InvariantCulture);
        }
        foreach (var d in objects.OfType<V1Deployment>())
        {
            yield return (d.Name(), d.Spec.Template, autoscalers.GetValueOrDefault(d.Name(), d.Spec.Replicas ?? 1));
        }
        foreach (var s in objects.OfType<V1StatefulSet>())
        {
            yield return (s.Name(), s.Spec.Template, s.Spec.Replicas ?? 1);
        }
        foreach (var j in objects.OfType<V1Job>())
        {
            yield return (j.Name(), j.Spec.Template, 1);
        }
        foreach (var c in objects.OfType<V1CronJob>())
        {
            Assert.Equal("Forbid", c.Spec.ConcurrencyPolicy); // one run at a time, or the count would be wrong
            yield return (c.Name(), c.Spec.JobTemplate.Spec.Template, 1);
        }
        // The worker controller runs a Deployment per build, each scaled by its own HPA from the template: the
        // current build and the one it ramps to side by side.
        foreach (var versioned in WorkerControllerObjects.WorkerDeployments(rendered))
        {
            var template = Assert.Single(WorkerControllerObjects.ResourceTemplates(rendered), t => t.WorkerDeployment == versioned.Name);
            yield return (versioned.Name, versioned.Template, 2 * template.Autoscaler.Spec.MaxReplicas);
        }
    }

    /// <summary>The container's environment: its own variables and its ConfigMaps' (envFrom).</summary>
    private static Dictionary<string, string> Environment(V1Container container, Dictionary<string, IDictionary<string, string>> configMaps)
    {
        var env = new Dictionary<string, string>(StringComparer.Ordinal);
        foreach (var from in container.EnvFrom ?? [])
        {
            if (from.ConfigMapRef is { } reference && configMaps.TryGetValue(reference.Name, out var data))
            {
                foreach (var (key, value) in data)
                {
                    env[key] = value;
                }
            }
        }
        foreach (var variable in container.Env ?? [])
        {
            env[variable.Name] = variable.Value ?? "(from a secret)";
        }
        return env;
    }
}

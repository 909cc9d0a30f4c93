using System.Globalization;
using Aspire.Hosting.ApplicationModel;

namespace Aspire.Hosting.Deployment.Planning;

/// <summary>
/// The connections every workload may open to a server at once, against what the server accepts: each workload's
/// declared pool (<see cref="DeploymentAnnotation.ConnectionUses"/>) times its replicas at their most (the
/// autoscaler's maximum, times the copies that run side by side in a versioned rollout; one for a job), plus the
/// server's reserve for administration, must fit its limit (<see cref="DeploymentAnnotation.ConnectionLimit"/>).
/// A model that does not fit is refused with the sum line by line, before anything is written.
/// </summary>
internal static class ConnectionBudget
{
    /// <summary>One line of a server's budget.</summary>
    public sealed record Line(string Workload, int Replicas, int PerReplica, string Why)
    {
        public int Connections => Replicas * PerReplica;
    }

    /// <summary>
    /// Each server with a limit, and the lines of the workloads that connect to it: as the model runs them, or
    /// (<paramref name="production"/>) with what contributions run in production instead (<see cref="DeploymentContribution.ConnectionsInProduction"/>).
    /// </summary>
    public static IReadOnlyList<(Workload Server, ConnectionLimit Limit, IReadOnlyList<Line> Lines)> Compute(IReadOnlyDictionary<IResource, Workload> workloads, bool production = false)
    {
        var budgets = new List<(Workload, ConnectionLimit, IReadOnlyList<Line>)>();
        foreach (var server in workloads.Values.Where(w => w.Settings.ConnectionLimit is not null))
        {
            bool ToServer(IResource target) => workloads.GetValueOrDefault(Root(target)) == server;
            var lines = new List<Line>();
            foreach (var client in workloads.Values)
            {
                var instead = production ? client.Settings.Contributions.SelectMany(c => c.ConnectionsInProduction).Where(c => ToServer(c.Server)).ToList() : [];
                if (instead.Count > 0)
                {
                    lines.AddRange(instead.Select(c => new Line(c.Workload, c.Replicas, c.PerReplica, "replicas in production")));
                    continue;
                }
                foreach (var use in client.Settings.ConnectionUses.Where(u => ToServer(u.Server)))
                {
                    var (replicas, why) = MostReplicas(client);
                    lines.Add(new Line(client.Name, replicas, use.PerReplica, why));
                }
            }
            budgets.Add((server, server.Settings.ConnectionLimit!, lines));
        }
        return budgets;
    }

    /// <exception cref="DeploymentModelException">A server's budget does not fit, as the model runs or in production, with the arithmetic.</exception>
    public static void Check(IReadOnlyDictionary<IResource, Workload> workloads)
    {
        foreach (var production in new[] { false, true })
        {
            foreach (var (server, limit, lines) in Compute(workloads, production))
            {
                Check(server, limit, lines, production ? " in production" : "");
            }
        }
    }

    private static void Check(Workload server, ConnectionLimit limit, IReadOnlyList<Line> lines, string form)
    {
        var total = lines.Sum(l => l.Connections) + limit.Reserved;
        if (total > limit.Limit)
        {
            throw new DeploymentModelException(
                $"'{server.Name}' accepts {limit.Limit} connections, but the model may open {total}{form}:{System.Environment.NewLine}"
                + string.Concat(lines.Select(l => string.Create(CultureInfo.InvariantCulture,
                    $"  {l.Workload}: {l.Replicas} ({l.Why}) x {l.PerReplica} = {l.Connections}{System.Environment.NewLine}")))
                + $"  reserved for administration: {limit.Reserved}{System.Environment.NewLine}"
                + "Lower a pool or a maximum replica count, or raise the server's limit (docs/operations.md, \"The connection budget\").");
        }
    }

    /// <summary>The most replicas the workload runs at once, and why.</summary>
    private static (int Replicas, string Why) MostReplicas(Workload w)
    {
        if (!w.IsLongRunning)
        {
            return (1, "a job");
        }
        var (replicas, why) = w.Settings.Autoscale is { } autoscale
            ? (autoscale.MaxReplicas, "autoscaling maximum")
            : (w.Settings.Replicas, "replicas");
        return w.Settings.CopiesSideBySide > 1
            ? (replicas * w.Settings.CopiesSideBySide, $"{why} x {w.Settings.CopiesSideBySide} builds side by side")
            : (replicas, why);
    }

    /// <summary>A database's server: the resource at the top of its parents.</summary>
    private static IResource Root(IResource resource) =>
        resource is IResourceWithParent { Parent: { } parent } ? Root(parent) : resource;
}

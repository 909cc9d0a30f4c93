using System.Globalization;

namespace Aspire.Hosting.Deployment.Planning;

/// <summary>The production practice every output applies the same way: defaults, probes, grace period, user.</summary>
internal static class WorkloadPolicy
{
    /// <summary>Time the kubelet/engine allows beyond the process's own shutdown window (preStop, signal delivery, flush).</summary>
    public static readonly TimeSpan GraceMargin = TimeSpan.FromSeconds(15);

    /// <summary>The .NET images' non-root user ("app").</summary>
    public const long DotNetImageUser = 1654;

    public static (string Request, string? Limit) Cpu(Workload w) => w.Settings.Cpu ?? ("100m", null);

    public static (string Request, string Limit) Memory(Workload w) => w.Settings.Memory ?? ("128Mi", "256Mi");

    public static int GracePeriodSeconds(Workload w) => (int)Math.Ceiling((w.Settings.ShutdownWindow + GraceMargin).TotalSeconds);

    public static long User(Workload w) =>
        w.Settings.RunAsUser ?? (w.IsProject ? DotNetImageUser
            : throw new DeploymentModelException(
                $"'{w.Name}' does not say which non-root user its image runs as, so it cannot run with runAsNonRoot: "
                + $"add .WithDeployment(d => d.RunAs(uid, writable paths...)) to it."));

    /// <summary>Readiness: the resource's own, or a TCP connection to its first port.</summary>
    public static DeploymentProbe? Readiness(Workload w) =>
        w.Settings.Readiness ?? (w.Ports.Count > 0 ? DeploymentProbe.Tcp(w.Ports[0].Name) : null);

    public static DeploymentProbe? Liveness(Workload w) => w.Settings.Liveness ?? Readiness(w);

    public static DeploymentProbe? Startup(Workload w) => w.Settings.Startup ?? Readiness(w);

    /// <summary>The command a Compose health check runs: an exec probe as it is; HTTP/gRPC need the resource's own command.</summary>
    public static IReadOnlyList<string>? HealthCommand(Workload w) =>
        w.Settings.HealthCommand ?? (Readiness(w) as ExecProbe)?.Command;

    public static int PortOf(Workload w, string endpoint) =>
        w.PortNamed(endpoint)?.TargetPort ?? throw new DeploymentModelException($"A probe of '{w.Name}' names endpoint '{endpoint}', which it does not have.");

    /// <summary>Kubernetes quantity to Compose: <c>250m</c> → <c>0.25</c> CPUs, <c>512Mi</c> → <c>512M</c>.</summary>
    public static string ComposeCpus(string quantity) =>
        quantity.EndsWith('m') ? (double.Parse(quantity[..^1], CultureInfo.InvariantCulture) / 1000).ToString(CultureInfo.InvariantCulture) : quantity;

    public static string ComposeMemory(string quantity) =>
        quantity.EndsWith('i') ? quantity[..^1] : quantity;
}

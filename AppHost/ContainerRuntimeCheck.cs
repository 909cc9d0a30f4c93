using System.Diagnostics;
using Aspire.Hosting.ApplicationModel;

namespace AppHost;

/// <summary>The model needs what this machine does not have: a container engine, or the programs to run as processes.</summary>
internal sealed class StackUnavailableException(string message) : DistributedApplicationException(message);

/// <summary>
/// Aspire's default without a container engine is to wait forever on "runtime unhealthy" containers.
/// This check fails within seconds instead, with what is missing and the two ways out.
/// </summary>
internal static class ContainerRuntimeCheck
{
    public static IDistributedApplicationBuilder FailFastWithoutContainerRuntime(this IDistributedApplicationBuilder builder)
    {
        ArgumentNullException.ThrowIfNull(builder);
        if (!builder.ExecutionContext.IsRunMode)
        {
            return builder;
        }
        builder.Eventing.Subscribe<BeforeStartEvent>(async (e, ct) =>
        {
            var containers = e.Model.Resources.OfType<ContainerResource>().Select(r => r.Name).ToList();
            if (containers.Count == 0)
            {
                return;
            }
            var runtime = Runtime;
            if (await ProbeAsync(runtime, ct) is { } problem)
            {
                throw new StackUnavailableException(
                    $"No container engine is available ({runtime}: {problem}), and these resources run in containers: "
                    + $"{string.Join(", ", containers)}.{Environment.NewLine}"
                    + $"Either start Docker or Podman (ASPIRE_CONTAINER_RUNTIME=podman), run them as local processes (Stack:Mode=processes), "
                    + $"or point the AppHost at existing infrastructure: "
                    + $"ConnectionStrings:{Stack.AppDatabase}, ConnectionStrings:{Stack.Temporal} and "
                    + $"ConnectionStrings:{Stack.Cache} (or Redis:Enabled=false). See docs/run-locally.md, \"Existing infrastructure\".");
            }
        });
        return builder;
    }

    /// <summary>The container runtime Aspire uses: <c>ASPIRE_CONTAINER_RUNTIME</c>, else docker.</summary>
    public static string Runtime => Environment.GetEnvironmentVariable("ASPIRE_CONTAINER_RUNTIME")
        ?? Environment.GetEnvironmentVariable("DOTNET_ASPIRE_CONTAINER_RUNTIME") ?? "docker";

    /// <summary>Null when the engine answers <c>info</c>; otherwise why not.</summary>
    public static async Task<string?> ProbeAsync(string runtime, CancellationToken cancellationToken)
    {
        var info = new ProcessStartInfo(runtime) { RedirectStandardOutput = true, RedirectStandardError = true };
        info.ArgumentList.Add("info");
        info.ArgumentList.Add("--format");
        info.ArgumentList.Add("{{.ServerVersion}}");
        Process process;
        try
        {
            process = Process.Start(info)!;
        }
        catch (System.ComponentModel.Win32Exception)
        {
            return $"the '{runtime}' command is not installed";
        }
        using (process)
        {
            using var timeout = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
            timeout.CancelAfter(TimeSpan.FromSeconds(5));
            try
            {
                var error = process.StandardError.ReadToEndAsync(timeout.Token);
                await process.WaitForExitAsync(timeout.Token);
                var text = (await error).Trim();
                return process.ExitCode == 0 ? null : $"'{runtime} info' failed: {(text.Length > 300 ? text[..300] : text)}";
            }
            catch (OperationCanceledException) when (!cancellationToken.IsCancellationRequested)
            {
                process.Kill(entireProcessTree: true); // a hung engine client must not outlive the check
                return $"'{runtime} info' did not answer within 5 s";
            }
        }
    }
}

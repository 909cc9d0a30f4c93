using System.Diagnostics;
using System.Net;

namespace TestSupport;

/// <summary>
/// The worker as a real operating-system process (<c>dotnet Worker.dll</c>) on a free loopback port, for what only a
/// process shows: exit codes, console output, signals, the container health-check entry point, and two builds
/// side by side.
/// </summary>
public sealed class WorkerProcess : ProcessRunner
{
    // The configuration sections the worker reads: none of them may come from the test's own environment.
    private static readonly string[] WorkerSettings =
        ["ConnectionStrings__", "Temporal__", "TEMPORAL_", "Api__", "Orders__", "Payments__", "Worker__"];

    private WorkerProcess(string workerDll, int port, IReadOnlyDictionary<string, string?> environment, string[] args)
        : base("dotnet", [workerDll, .. args], environment, Path.GetDirectoryName(workerDll)) => Port = port;

    /// <summary>The loopback port its HTTP endpoint listens on.</summary>
    public int Port { get; }

    /// <summary>Its HTTP endpoint.</summary>
    public Uri BaseAddress => new($"http://127.0.0.1:{Port}");

    /// <summary>The worker this test project was built with (a project reference puts it beside the tests).</summary>
    public static string WorkerDll => Path.Combine(AppContext.BaseDirectory, "Worker.dll");

    /// <summary>Starts the worker this test project was built with; see the overload for the parameters.</summary>
    public static WorkerProcess Start(IReadOnlyDictionary<string, string?> environment, params string[] args) =>
        Start(WorkerDll, environment, args);

    /// <summary>Starts a worker build in Production, its working directory the build's folder.</summary>
    /// <param name="workerDll">The build's <c>Worker.dll</c>.</param>
    /// <param name="environment">Its settings, on top of an environment from which every inherited worker setting is removed.</param>
    /// <param name="args">Command-line arguments.</param>
    public static WorkerProcess Start(string workerDll, IReadOnlyDictionary<string, string?> environment, params string[] args)
    {
        ArgumentNullException.ThrowIfNull(environment);
        var port = Loopback.FreePort();
        var variables = System.Environment.GetEnvironmentVariables().Keys.Cast<string>()
            .Where(k => WorkerSettings.Any(prefix => k.StartsWith(prefix, StringComparison.Ordinal)))
            .ToDictionary(k => k, string? (_) => null);
        variables["ASPNETCORE_URLS"] = $"http://127.0.0.1:{port}";
        variables["DOTNET_ENVIRONMENT"] = "Production";
        variables["ASPNETCORE_ENVIRONMENT"] = "Production";
        foreach (var (key, value) in environment)
        {
            variables[key] = value;
        }
        return new WorkerProcess(workerDll, port, variables, args);
    }

    /// <summary>Polls <paramref name="path"/> until it answers <paramref name="status"/>; returns the time it took.</summary>
    /// <exception cref="InvalidOperationException">The worker exited meanwhile (the message holds its output).</exception>
    /// <exception cref="TimeoutException">It did not answer so within <paramref name="timeout"/>.</exception>
    public async Task<TimeSpan> WaitForAsync(string path, HttpStatusCode status, TimeSpan timeout)
    {
        using var http = new HttpClient { BaseAddress = BaseAddress, Timeout = TimeSpan.FromSeconds(2) };
        var clock = Stopwatch.StartNew();
        while (clock.Elapsed < timeout)
        {
            if (HasExited)
            {
                throw new InvalidOperationException($"Worker exited with {ExitCode}: {StandardError}{StandardOutput}");
            }
            try
            {
                if ((await http.GetAsync(path)).StatusCode == status)
                {
                    return clock.Elapsed;
                }
            }
            catch (HttpRequestException)
            {
                // not listening yet
            }
            catch (TaskCanceledException)
            {
                // listening, but busy starting: the first health report can take longer than one poll
            }
            await Task.Delay(50);
        }
        throw new TimeoutException($"{path} did not answer {status} within {timeout}. Output: {StandardOutput}{StandardError}");
    }
}

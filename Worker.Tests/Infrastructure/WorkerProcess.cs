using System.Diagnostics;

namespace Worker.Tests.Infrastructure;

/// <summary>
/// The worker as a real operating-system process (<c>dotnet Worker.dll</c>), for what only a process shows:
/// exit codes, console output, signals, and the container health-check entry point.
/// </summary>
public sealed class WorkerProcess : ProcessRunner
{
    private WorkerProcess(int port, IReadOnlyDictionary<string, string?> environment, string[] args)
        : base("dotnet", [WorkerDll, .. args], environment, AppContext.BaseDirectory) => Port = port;

    public int Port { get; }

    public Uri BaseAddress => new($"http://127.0.0.1:{Port}");

    public static string WorkerDll => Path.Combine(AppContext.BaseDirectory, "Worker.dll");

    public static WorkerProcess Start(IReadOnlyDictionary<string, string?> environment, params string[] args)
    {
        var port = Loopback.FreePort();
        // A clean environment for the settings under test: nothing inherited may configure the worker.
        var variables = System.Environment.GetEnvironmentVariables().Keys.Cast<string>()
            .Where(k => k.StartsWith("ConnectionStrings__", StringComparison.Ordinal)
                || k.StartsWith("Temporal__", StringComparison.Ordinal) || k.StartsWith("Api__", StringComparison.Ordinal))
            .ToDictionary(k => k, string? (_) => null);
        variables["ASPNETCORE_URLS"] = $"http://127.0.0.1:{port}";
        variables["DOTNET_ENVIRONMENT"] = "Production";
        variables["ASPNETCORE_ENVIRONMENT"] = "Production";
        foreach (var (key, value) in environment)
        {
            variables[key] = value;
        }
        return new WorkerProcess(port, variables, args);
    }

    /// <summary>The settings of a worker that can start: real database, unreachable Temporal.</summary>
    public static Dictionary<string, string?> Environment(string databaseConnection) => new()
    {
        ["ConnectionStrings__appdb"] = databaseConnection,
        ["Temporal__Address"] = WorkerFactory.UnreachableTemporal,
        ["Api__Keys"] = WorkerFactory.ApiKey,
    };

    /// <summary>Polls <paramref name="path"/> until it answers <paramref name="status"/>; returns the time it took.</summary>
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
            }
            await Task.Delay(50);
        }
        throw new TimeoutException($"{path} did not answer {status} within {timeout}. Output: {StandardOutput}{StandardError}");
    }
}

using System.Diagnostics;
using System.Net;
using System.Net.Sockets;
using System.Text;

namespace Worker.Tests.Infrastructure;

/// <summary>
/// The worker as a real operating-system process (<c>dotnet Worker.dll</c>), for what only a process shows:
/// exit codes, console output, signals, and the container health-check entry point.
/// </summary>
public sealed class WorkerProcess : IDisposable
{
    private readonly Process process;
    private readonly StringBuilder stdout = new();
    private readonly StringBuilder stderr = new();

    private WorkerProcess(Process process, int port)
    {
        this.process = process;
        Port = port;
    }

    public int Port { get; }

    public Uri BaseAddress => new($"http://127.0.0.1:{Port}");

    public string StandardOutput
    {
        get { lock (stdout) { return stdout.ToString(); } }
    }

    public string StandardError
    {
        get { lock (stderr) { return stderr.ToString(); } }
    }

    public bool HasExited => process.HasExited;

    public int ExitCode => process.ExitCode;

    public static string WorkerDll => Path.Combine(AppContext.BaseDirectory, "Worker.dll");

    public static WorkerProcess Start(IReadOnlyDictionary<string, string?> environment, params string[] args)
    {
        var port = FreePort();
        var info = new ProcessStartInfo("dotnet")
        {
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            UseShellExecute = false,
            WorkingDirectory = AppContext.BaseDirectory,
        };
        info.ArgumentList.Add(WorkerDll);
        foreach (var arg in args)
        {
            info.ArgumentList.Add(arg);
        }
        // A clean environment for the settings under test: nothing inherited may configure the worker.
        foreach (var key in info.Environment.Keys.Where(k => k.StartsWith("ConnectionStrings__", StringComparison.Ordinal)
                     || k.StartsWith("Temporal__", StringComparison.Ordinal) || k.StartsWith("Api__", StringComparison.Ordinal)).ToList())
        {
            info.Environment.Remove(key);
        }
        info.Environment["ASPNETCORE_URLS"] = $"http://127.0.0.1:{port}";
        info.Environment["DOTNET_ENVIRONMENT"] = "Production";
        info.Environment["ASPNETCORE_ENVIRONMENT"] = "Production";
        foreach (var (key, value) in environment)
        {
            info.Environment[key] = value;
        }
        var process = new Process { StartInfo = info };
        var worker = new WorkerProcess(process, port);
        process.OutputDataReceived += (_, e) => { lock (worker.stdout) { worker.stdout.AppendLine(e.Data); } };
        process.ErrorDataReceived += (_, e) => { lock (worker.stderr) { worker.stderr.AppendLine(e.Data); } };
        process.Start();
        process.BeginOutputReadLine();
        process.BeginErrorReadLine();
        return worker;
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
            if (process.HasExited)
            {
                throw new InvalidOperationException($"Worker exited with {process.ExitCode}: {StandardError}{StandardOutput}");
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

    public async Task<int> WaitForExitAsync(TimeSpan timeout)
    {
        using var cts = new CancellationTokenSource(timeout);
        await process.WaitForExitAsync(cts.Token);
        return process.ExitCode;
    }

    /// <summary>Sends SIGTERM, as Kubernetes and Docker do on stop.</summary>
    public void Terminate()
    {
        if (!process.HasExited)
        {
            using var kill = Process.Start("kill", ["-TERM", process.Id.ToString(System.Globalization.CultureInfo.InvariantCulture)]);
            kill.WaitForExit();
        }
    }

    public void Dispose()
    {
        if (!process.HasExited)
        {
            process.Kill(entireProcessTree: true);
            process.WaitForExit();
        }
        process.Dispose();
    }

    public static int FreePort()
    {
        using var listener = new TcpListener(IPAddress.Loopback, 0);
        listener.Start();
        return ((IPEndPoint)listener.LocalEndpoint).Port;
    }
}

using System.Diagnostics;

namespace Worker.Tests.Infrastructure;

/// <summary>
/// A PostgreSQL or Redis server of one test's own, from the binaries the test command found, for tests that
/// stop and start a server (a shared server cannot be stopped under the other tests).
/// </summary>
public sealed class PrivatePostgres : IAsyncDisposable
{
    private readonly string dataDir;
    private readonly string bin;

    private PrivatePostgres(string dataDir, string bin, int port)
    {
        this.dataDir = dataDir;
        this.bin = bin;
        Port = port;
    }

    public int Port { get; }

    public string ConnectionString => $"Host=127.0.0.1;Port={Port};Username=postgres;Database=postgres;Timeout=3";

    public static async Task<PrivatePostgres> StartAsync()
    {
        var bin = Environment.GetEnvironmentVariable("TEST_PG_BIN")
            ?? throw new InvalidOperationException("TEST_PG_BIN is not set. Run the tests with ./test.sh.");
        var root = Environment.GetEnvironmentVariable("TEST_SERVICES_DIR") ?? Path.GetTempPath();
        var dataDir = Path.Combine(root, $"pg-{Guid.NewGuid():N}");
        Directory.CreateDirectory(dataDir);
        await Shell.RunAsync("chown", "postgres", dataDir).ContinueWith(_ => { }, TaskScheduler.Default); // only as root
        var server = new PrivatePostgres(dataDir, bin, WorkerProcess.FreePort());
        await AsPostgresAsync(Path.Combine(bin, "initdb"), "-D", dataDir, "-U", "postgres", "--auth=trust");
        await server.StartServerAsync();
        return server;
    }

    public Task StartServerAsync() => AsPostgresAsync(Path.Combine(bin, "pg_ctl"), "-D", dataDir, "-l", Path.Combine(dataDir, "log"), "-w",
        "-o", $"-p {Port} -k {dataDir} -c listen_addresses=127.0.0.1 -c fsync=off", "start");

    public Task StopServerAsync() => AsPostgresAsync(Path.Combine(bin, "pg_ctl"), "-D", dataDir, "-m", "fast", "-w", "stop");

    public async ValueTask DisposeAsync()
    {
        await AsPostgresAsync(Path.Combine(bin, "pg_ctl"), "-D", dataDir, "-m", "immediate", "stop").ContinueWith(_ => { }, TaskScheduler.Default);
        Directory.Delete(dataDir, recursive: true);
    }

    // PostgreSQL refuses to run as root.
    private static Task AsPostgresAsync(string program, params string[] args) =>
        Environment.UserName == "root" ? Shell.RunAsync("runuser", ["-u", "postgres", "--", program, .. args]) : Shell.RunAsync(program, args);
}

/// <summary>A Redis server of one test's own.</summary>
public sealed class PrivateRedis : IAsyncDisposable
{
    private PrivateRedis(int port) => Port = port;

    public int Port { get; }

    public string ConnectionString => $"127.0.0.1:{Port}";

    public static async Task<PrivateRedis> StartAsync()
    {
        var redis = new PrivateRedis(WorkerProcess.FreePort());
        await Shell.RunAsync("redis-server", "--bind", "127.0.0.1", "--port", redis.Port.ToString(System.Globalization.CultureInfo.InvariantCulture),
            "--daemonize", "yes", "--save", "", "--appendonly", "no");
        for (var i = 0; i < 50 && !await redis.PingAsync(); i++)
        {
            await Task.Delay(50);
        }
        return redis;
    }

    public Task StopServerAsync() => Shell.RunAsync("redis-cli", "-p", Port.ToString(System.Globalization.CultureInfo.InvariantCulture), "shutdown", "nosave")
        .ContinueWith(_ => { }, TaskScheduler.Default);

    public async ValueTask DisposeAsync() => await StopServerAsync();

    private async Task<bool> PingAsync()
    {
        try
        {
            await Shell.RunAsync("redis-cli", "-p", Port.ToString(System.Globalization.CultureInfo.InvariantCulture), "ping");
            return true;
        }
        catch (InvalidOperationException)
        {
            return false;
        }
    }
}

internal static class Shell
{
    public static async Task RunAsync(string program, params string[] args)
    {
        var info = new ProcessStartInfo(program) { RedirectStandardOutput = true, RedirectStandardError = true };
        foreach (var arg in args)
        {
            info.ArgumentList.Add(arg);
        }
        using var process = Process.Start(info)!;
        var output = process.StandardOutput.ReadToEndAsync();
        var error = process.StandardError.ReadToEndAsync();
        await process.WaitForExitAsync();
        if (process.ExitCode != 0)
        {
            throw new InvalidOperationException($"{program} {string.Join(' ', args)} failed ({process.ExitCode}): {await output}{await error}");
        }
    }
}

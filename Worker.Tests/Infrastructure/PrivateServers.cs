using System.Globalization;

namespace Worker.Tests.Infrastructure;

/// <summary>
/// A PostgreSQL or Redis server of one test's own, from the binaries the test command found, for tests that
/// stop and start a server (a shared server cannot be stopped under the other tests).
/// </summary>
public sealed class PrivatePostgres : IAsyncDisposable
{
    // initdb and pg_ctl -w take seconds; a minute means something is wrong, and the test should say so.
    private static readonly TimeSpan CommandTimeout = TimeSpan.FromMinutes(1);

    private readonly string dataDir;
    private readonly string bin;

    private readonly int maxConnections;
    private readonly string serverOptions;

    private PrivatePostgres(string dataDir, string bin, int port, int maxConnections, string serverOptions)
    {
        this.dataDir = dataDir;
        this.bin = bin;
        this.maxConnections = maxConnections;
        this.serverOptions = serverOptions;
        Port = port;
    }

    public int Port { get; }

    public string ConnectionString => $"Host=127.0.0.1;Port={Port};Username=postgres;Database=postgres;Timeout=3";

    /// <summary>The folder the server's own files live in, which the postgres user owns (for a certificate it must read).</summary>
    public string DataDirectory => dataDir;

    /// <summary>
    /// Starts a server of its own; <paramref name="maxConnections"/> as PostgreSQL's own default unless given, and
    /// <paramref name="serverOptions"/> (<c>-c name=value</c> …) on its command line.
    /// </summary>
    public static async Task<PrivatePostgres> StartAsync(int maxConnections = 100, string serverOptions = "")
    {
        var bin = TestSettings.PostgresBinaries;
        var root = Environment.GetEnvironmentVariable("TEST_SERVICES_DIR") ?? Path.GetTempPath();
        var dataDir = Path.Combine(root, $"pg-{Guid.NewGuid():N}");
        Directory.CreateDirectory(dataDir);
        await ProcessRunner.RunAsync("chown", ["postgres", dataDir], CommandTimeout); // only as root; otherwise the folder is ours already
        var server = new PrivatePostgres(dataDir, bin, Loopback.FreePort(), maxConnections, serverOptions);
        (await AsPostgresAsync(Path.Combine(bin, "initdb"), "-D", dataDir, "-U", "postgres", "--auth=trust")).EnsureSuccess();
        await server.StartServerAsync();
        return server;
    }

    public async Task StartServerAsync() => (await AsPostgresAsync(Path.Combine(bin, "pg_ctl"), "-D", dataDir, "-l", Path.Combine(dataDir, "log"), "-w",
        "-o", $"-p {Port} -k {dataDir} -c listen_addresses=127.0.0.1 -c fsync=off -c max_connections={maxConnections} {serverOptions}", "start")).EnsureSuccess();

    public async Task StopServerAsync() => (await AsPostgresAsync(Path.Combine(bin, "pg_ctl"), "-D", dataDir, "-m", "fast", "-w", "stop")).EnsureSuccess();

    public async ValueTask DisposeAsync()
    {
        await AsPostgresAsync(Path.Combine(bin, "pg_ctl"), "-D", dataDir, "-m", "immediate", "stop"); // a test may have stopped it already
        Directory.Delete(dataDir, recursive: true);
    }

    // PostgreSQL refuses to run as root.
    private static Task<ProcessResult> AsPostgresAsync(string program, params string[] args) =>
        Environment.UserName == "root"
            ? ProcessRunner.RunAsync("runuser", ["-u", "postgres", "--", program, .. args], CommandTimeout)
            : ProcessRunner.RunAsync(program, args, CommandTimeout);
}

/// <summary>A Redis server of one test's own.</summary>
public sealed class PrivateRedis : IAsyncDisposable
{
    private static readonly TimeSpan CommandTimeout = TimeSpan.FromSeconds(30);

    private PrivateRedis(int port) => Port = port;

    public int Port { get; }

    public string ConnectionString => $"127.0.0.1:{Port}";

    public static async Task<PrivateRedis> StartAsync()
    {
        var redis = new PrivateRedis(Loopback.FreePort());
        (await ProcessRunner.RunAsync("redis-server", ["--bind", "127.0.0.1", "--port", redis.Port.ToString(CultureInfo.InvariantCulture),
            "--daemonize", "yes", "--save", "", "--appendonly", "no"], CommandTimeout)).EnsureSuccess();
        for (var i = 0; i < 50 && !await redis.PingAsync(); i++)
        {
            await Task.Delay(50);
        }
        return redis;
    }

    // Failure is ignored: a test may have stopped it already.
    public Task StopServerAsync() => RedisCliAsync("shutdown", "nosave");

    public async ValueTask DisposeAsync() => await StopServerAsync();

    private async Task<bool> PingAsync() => (await RedisCliAsync("ping")).ExitCode == 0;

    private Task<ProcessResult> RedisCliAsync(params string[] args) =>
        ProcessRunner.RunAsync("redis-cli", ["-p", Port.ToString(CultureInfo.InvariantCulture), .. args], CommandTimeout);
}

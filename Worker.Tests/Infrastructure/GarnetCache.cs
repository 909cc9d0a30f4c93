using Garnet;

namespace Worker.Tests.Infrastructure;

/// <summary>
/// Microsoft Garnet, the Redis-compatible server the AppHost runs in process mode where no redis-server is installed,
/// started as GarnetHost starts it (on loopback, a password, Lua on): the cache's tests run against it as against Redis.
/// </summary>
public sealed class GarnetCache : IDisposable
{
    private const string Password = "garnet-test-password";
    private readonly GarnetServer server;

    public GarnetCache()
    {
        var port = TestSupport.Loopback.FreePort();
        server = GarnetHost.Program.Start(port, Password);
        Connection = $"127.0.0.1:{port},password={Password}";
    }

    /// <summary>The connection string, in the shape the AppHost gives the worker.</summary>
    public string Connection { get; }

    public void Dispose() => server.Dispose();
}

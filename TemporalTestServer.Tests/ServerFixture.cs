using Temporalio.Client;
using Temporalio.Worker;

namespace TemporalTestServer.Tests;

/// <summary>A test server plus a connected client; each test runs its own worker on its own task queue.</summary>
public sealed class ServerFixture : IAsyncLifetime
{
    public TemporalTestServer Server { get; private set; } = null!;

    public TemporalClient Client { get; private set; } = null!;

    public async Task InitializeAsync()
    {
        Server = await TemporalTestServer.StartAsync(new TestServerOptions
        {
            Namespaces = { "orders-test" },
            // Short, so that the versioning tests see a version drain within a test.
            DrainageGracePeriod = TimeSpan.FromMilliseconds(200),
            DrainageRefreshInterval = TimeSpan.FromMilliseconds(100),
        });
        Client = await TemporalClient.ConnectAsync(new TemporalClientConnectOptions(Server.Address));
    }

    public async Task DisposeAsync() => await Server.DisposeAsync();

    /// <summary>Runs <paramref name="test"/> while a worker with the given workflows and activities polls a fresh task queue.</summary>
    public async Task WithWorkerAsync(Action<TemporalWorkerOptions> register, Func<string, Task> test)
    {
        var taskQueue = $"tq-{Guid.NewGuid():N}";
        var options = new TemporalWorkerOptions(taskQueue);
        register(options);
        using var worker = new TemporalWorker(Client, options);
        // A test that waits forever would hold up the whole run: fail it instead, with what it was waiting for.
        await worker.ExecuteAsync(async () =>
        {
            var run = test(taskQueue);
            if (await Task.WhenAny(run, Task.Delay(TimeSpan.FromMinutes(2))) != run)
            {
                throw new TimeoutException($"The test did not end within 2 minutes. The server holds:\n{Server.Service.DescribeState()}");
            }
            await run;
        });
    }
}

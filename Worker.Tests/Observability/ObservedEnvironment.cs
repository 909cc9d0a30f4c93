using Worker.Tests.EndToEnd;

namespace Worker.Tests.Observability;

/// <summary>
/// The end-to-end environment with the worker on a real Kestrel port (WebApplicationFactory's TestServer has no
/// socket), so that a real Prometheus can scrape its <c>/metrics</c>; the approval-backlog gauges are refreshed
/// every second.
/// </summary>
public sealed class ObservedEnvironment : EndToEndEnvironment
{
    public int Port { get; } = Loopback.FreePort();

    /// <summary>The worker's scrape target, as Prometheus's <c>static_configs</c> name it.</summary>
    public string Target => $"127.0.0.1:{Port}";

    protected override Task ConfigureAsync(Dictionary<string, string?> settings)
    {
        settings["Orders:GaugeRefreshInterval"] = "00:00:01";
        settings["Orders:ReconcileInterval"] = "01:00:00"; // the test runs the sweep's round itself
        return Task.CompletedTask;
    }

    protected override WorkerFactory CreateFactory(Dictionary<string, string?> settings)
    {
        var factory = base.CreateFactory(settings);
        factory.UseKestrel(kestrel => kestrel.Listen(IPAddress.Loopback, Port));
        return factory;
    }
}

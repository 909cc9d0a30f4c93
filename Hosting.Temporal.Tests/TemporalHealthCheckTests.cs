using Aspire.Hosting.Temporal.HealthChecks;
using Microsoft.Extensions.Diagnostics.HealthChecks;

namespace Hosting.Temporal.Tests;

/// <summary>The health checks against a real frontend (the project's Temporal test server), and against none.</summary>
public sealed class TemporalHealthCheckTests : IAsyncLifetime
{
    private TemporalTestServer.TemporalTestServer server = null!;

    public async Task InitializeAsync() =>
        server = await TemporalTestServer.TemporalTestServer.StartAsync(new TemporalTestServer.TestServerOptions { Namespaces = { "orders" } });

    public async Task DisposeAsync() => await server.DisposeAsync();

    [Fact]
    public async Task A_serving_frontend_is_healthy()
    {
        var check = new TemporalServingHealthCheck(Frontend(server.Address));

        Assert.Equal(HealthStatus.Healthy, (await check.CheckHealthAsync(new HealthCheckContext())).Status);
    }

    [Fact]
    public async Task An_unreachable_frontend_is_not_serving()
    {
        var check = new TemporalServingHealthCheck(Frontend("127.0.0.1:1"));

        var result = await check.CheckHealthAsync(new HealthCheckContext());

        Assert.Equal(HealthStatus.Unhealthy, result.Status);
        Assert.Equal("Temporal frontend is not serving yet", result.Description);
    }

    [Fact]
    public async Task A_namespace_is_healthy_once_it_exists_and_not_before()
    {
        // One check, asked before and after its namespace is created, as the AppHost asks it while the job runs.
        var check = new TemporalNamespaceHealthCheck(Frontend(server.Address), "billing", "billing-namespace");

        var before = await check.CheckHealthAsync(new HealthCheckContext());
        var client = await Temporalio.Client.TemporalClient.ConnectAsync(new(server.Address));
        await client.WorkflowService.RegisterNamespaceAsync(new() { Namespace = "billing" });
        var after = await check.CheckHealthAsync(new HealthCheckContext());

        Assert.Equal(HealthStatus.Unhealthy, before.Status);
        Assert.Equal("Namespace billing does not exist yet (created by billing-namespace)", before.Description);
        Assert.Equal(HealthStatus.Healthy, after.Status);
    }

    private static TemporalFrontendConnection Frontend(string address) => new(_ => ValueTask.FromResult<string?>(address));
}

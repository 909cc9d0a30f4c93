using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging.Abstractions;
using Microsoft.Extensions.Options;
using Worker.Temporal;

namespace Worker.Tests.Hosting;

/// <summary>Roles decide what a process serves; optional Redis decides what readiness checks.</summary>
public sealed class RoleAndDependencyHealthTests(OrdersDatabase db) : IClassFixture<OrdersDatabase>
{
    [Fact]
    public async Task Worker_role_alone_serves_no_api_but_health_and_metrics()
    {
        var settings = WorkerFactory.DefaultSettings(db.ConnectionString, null);
        settings["Worker:Roles"] = "worker";
        settings["Api:Keys"] = null;
        using var factory = new WorkerFactory(settings);
        using var client = factory.CreateAuthorizedClient();

        Assert.Equal(HttpStatusCode.NotFound, (await client.GetAsync("/api/products")).StatusCode);
        Assert.Equal(HttpStatusCode.OK, (await client.GetAsync("/alive")).StatusCode);
        Assert.Equal(HttpStatusCode.OK, (await client.GetAsync("/metrics")).StatusCode);
        Assert.Contains("temporal-worker", await CheckNamesAsync(client));
    }

    [Fact]
    public async Task Api_role_alone_does_not_report_a_worker()
    {
        var settings = WorkerFactory.DefaultSettings(db.ConnectionString, null);
        settings["Worker:Roles"] = "api";
        using var factory = new WorkerFactory(settings);
        using var client = factory.CreateAuthorizedClient();

        Assert.Equal(HttpStatusCode.OK, (await client.GetAsync("/api/products")).StatusCode);
        var checks = await CheckNamesAsync(client);
        Assert.DoesNotContain("temporal-worker", checks);
        Assert.Contains("temporal", checks);
    }

    [Fact]
    public async Task Without_a_redis_connection_string_there_is_no_cache_and_no_redis_check()
    {
        using var factory = new WorkerFactory(WorkerFactory.DefaultSettings(db.ConnectionString, null));
        using var client = factory.CreateAuthorizedClient();
        var id = await db.AddOrderAsync([new("TAMPER", 1)]);

        Assert.DoesNotContain("redis", await CheckNamesAsync(client));
        Assert.Equal("miss", (await client.GetAsync($"/api/orders/{id}")).Headers.GetValues("X-Cache").Single());
        Assert.Equal("miss", (await client.GetAsync($"/api/orders/{id}")).Headers.GetValues("X-Cache").Single());
    }

    [Fact]
    public async Task Redis_down_is_degraded_not_unhealthy_and_reads_still_succeed()
    {
        using var factory = new WorkerFactory(WorkerFactory.DefaultSettings(db.ConnectionString, WorkerFactory.UnreachableRedis));
        using var client = factory.CreateAuthorizedClient();
        var id = await db.AddOrderAsync([new("TAMPER", 1)]);

        var order = await client.GetAsync($"/api/orders/{id}");
        var report = await (await client.GetAsync("/health")).Content.ReadFromJsonAsync<JsonElement>();

        Assert.Equal(HttpStatusCode.OK, order.StatusCode);
        Assert.Equal("Degraded", report.GetProperty("checks").GetProperty("redis").GetProperty("status").GetString());
        Assert.Equal("Healthy", report.GetProperty("checks").GetProperty("appdb").GetProperty("status").GetString());
    }

    [Fact]
    public async Task Database_down_makes_readiness_unhealthy_but_not_liveness()
    {
        var settings = WorkerFactory.DefaultSettings("Host=127.0.0.1;Port=1;Username=x;Database=x;Timeout=1", null);
        using var factory = new WorkerFactory(settings);
        using var client = factory.CreateClient();

        var report = await (await client.GetAsync("/health")).Content.ReadFromJsonAsync<JsonElement>();

        Assert.Equal("Unhealthy", report.GetProperty("checks").GetProperty("appdb-schema").GetProperty("status").GetString());
        Assert.Equal(HttpStatusCode.OK, (await client.GetAsync("/alive")).StatusCode);
    }

    [Fact]
    public async Task Failing_checks_are_named_with_their_status_but_no_exception_text()
    {
        var settings = WorkerFactory.DefaultSettings(
            "Host=127.0.0.1;Port=1;Username=orders_owner;Password=hunter2;Database=appdb;Timeout=1", WorkerFactory.UnreachableRedis);
        using var factory = new WorkerFactory(settings);
        using var client = factory.CreateClient();

        // Several probes: the background connection attempts fail within the first second, and their errors
        // would show from then on.
        var body = "";
        for (var probe = 0; probe < 8; probe++)
        {
            body = await (await client.GetAsync("/health")).Content.ReadAsStringAsync();
            foreach (var leak in new[] { "127.0.0.1", "orders_owner", "password", "transport", "refused" })
            {
                Assert.DoesNotContain(leak, body, StringComparison.OrdinalIgnoreCase);
            }
            await Task.Delay(250);
        }

        var checks = JsonDocument.Parse(body).RootElement.GetProperty("checks");
        foreach (var name in new[] { "appdb", "appdb-schema", "temporal", "temporal-worker" })
        {
            Assert.Equal("Unhealthy", checks.GetProperty(name).GetProperty("status").GetString());
        }
        Assert.Equal("Degraded", checks.GetProperty("redis").GetProperty("status").GetString());
    }

    [Fact]
    public void Host_waits_longer_than_the_workers_graceful_shutdown_window()
    {
        var settings = WorkerFactory.DefaultSettings(db.ConnectionString, null);
        settings["Temporal:GracefulShutdownTimeout"] = "00:00:45";
        using var factory = new WorkerFactory(settings);

        var host = factory.Services.GetRequiredService<IOptions<HostOptions>>().Value;
        var temporal = factory.Services.GetRequiredService<IOptions<TemporalSettings>>().Value;
        var workerOptions = WorkerPollingService.CreateOptions(factory.Services, temporal, NullLoggerFactory.Instance);

        Assert.Equal(TimeSpan.FromSeconds(45), workerOptions.GracefulShutdownTimeout);
        Assert.True(host.ShutdownTimeout > workerOptions.GracefulShutdownTimeout, $"host waits {host.ShutdownTimeout}");
        Assert.Equal("orders", workerOptions.TaskQueue);
    }

    private static async Task<List<string>> CheckNamesAsync(HttpClient client)
    {
        var report = await (await client.GetAsync("/health")).Content.ReadFromJsonAsync<JsonElement>();
        return report.GetProperty("checks").EnumerateObject().Select(p => p.Name).ToList();
    }
}

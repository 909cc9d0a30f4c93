using System.Text;
using Microsoft.AspNetCore.Hosting;
using Microsoft.Extensions.Logging;

namespace Worker.Tests.Api;

/// <summary>Authentication, idempotency bookkeeping, reads and the anonymous infrastructure endpoints.</summary>
public sealed class OrderApiTests : IClassFixture<OrdersDatabase>, IDisposable
{
    private const string ValidOrder = """{"orderId":"ID","lines":[{"sku":"TAMPER","quantity":2}],"paymentToken":"tok_visa"}""";
    private readonly OrdersDatabase db;
    private readonly WorkerFactory factory;

    public OrderApiTests(OrdersDatabase db)
    {
        this.db = db;
        factory = new WorkerFactory(WorkerFactory.DefaultSettings(db.ConnectionString, TestSettings.RedisConnection));
    }

    public void Dispose() => factory.Dispose();

    [Theory]
    [InlineData(null)]
    [InlineData("wrong-key")]
    [InlineData("test-api-key ")]
    public async Task Api_without_a_valid_key_is_401(string? key)
    {
        using var client = factory.CreateClient();
        if (key is not null)
        {
            client.DefaultRequestHeaders.Add("X-Api-Key", key);
        }

        var responses = new[]
        {
            await client.GetAsync("/api/products"),
            await client.GetAsync("/api/orders/x"),
            await client.PostAsync("/api/orders", Json(ValidOrder.Replace("ID", "unauth", StringComparison.Ordinal))),
            await client.PostAsync("/api/orders/x/cancel", null),
        };

        foreach (var response in responses)
        {
            await OrderApiValidationTests.AssertProblemAsync(response, HttpStatusCode.Unauthorized);
        }
        Assert.Equal(0L, await db.ScalarAsync<long>("SELECT count(*) FROM orders WHERE id = 'unauth'"));
    }

    [Fact]
    public async Task Products_lists_the_seeded_catalogue()
    {
        using var client = factory.CreateAuthorizedClient();

        var products = await client.GetFromJsonAsync<List<Product>>("/api/products");

        Assert.Contains(products!, p => p.Sku == "ESPRESSO-MACHINE" && p.Price == 499m);
        Assert.Equal(products!.OrderBy(p => p.Sku, StringComparer.Ordinal).Select(p => p.Sku), products!.Select(p => p.Sku));
    }

    [Fact]
    public async Task Order_is_kept_when_temporal_is_down_and_a_retry_is_not_a_conflict_but_another_body_is()
    {
        using var client = factory.CreateAuthorizedClient();
        var id = $"idem-{Guid.NewGuid():N}";
        var body = ValidOrder.Replace("ID", id, StringComparison.Ordinal);

        var first = await client.PostAsync("/api/orders", Json(body));
        var retry = await client.PostAsync("/api/orders", Json(body));
        var different = await client.PostAsync("/api/orders", Json(body.Replace("\"quantity\":2", "\"quantity\":3", StringComparison.Ordinal)));

        await OrderApiValidationTests.AssertProblemAsync(first, HttpStatusCode.ServiceUnavailable);
        await OrderApiValidationTests.AssertProblemAsync(retry, HttpStatusCode.ServiceUnavailable);
        await OrderApiValidationTests.AssertProblemAsync(different, HttpStatusCode.Conflict);
        Assert.Equal("Pending", await db.ScalarAsync<string>("SELECT status FROM orders WHERE id = @p0", id));
    }

    [Fact]
    public async Task Temporal_down_is_a_503_with_a_fixed_text_and_the_cause_only_in_the_log()
    {
        var logs = new LogCapture();
        using var logged = factory.WithWebHostBuilder(b => b.ConfigureLogging(l => l.AddProvider(logs)));
        using var client = logged.CreateClient();
        client.DefaultRequestHeaders.Add("X-Api-Key", WorkerFactory.ApiKey);

        var response = await client.PostAsync("/api/orders", Json(ValidOrder.Replace("ID", $"down-{Guid.NewGuid():N}", StringComparison.Ordinal)));

        var problem = await OrderApiValidationTests.AssertProblemAsync(response, HttpStatusCode.ServiceUnavailable);
        Assert.Equal("Temporal is not reachable. Try again shortly.", problem.GetProperty("detail").GetString());
        var text = problem.GetRawText();
        Assert.DoesNotContain("transport", text, StringComparison.OrdinalIgnoreCase);
        Assert.DoesNotContain("127.0.0.1", text, StringComparison.Ordinal);
        Assert.Contains(logs.Entries, e => e.Level == LogLevel.Warning && e.Exception is not null && e.Category.StartsWith("Worker.Orders.Api", StringComparison.Ordinal));
    }

    [Fact]
    public async Task Get_reads_the_database_then_serves_from_the_cache()
    {
        using var client = factory.CreateAuthorizedClient();
        var id = await db.AddOrderAsync([new("TAMPER", 1)], OrderStatus.Shipping);

        var first = await client.GetAsync($"/api/orders/{id}");
        var second = await client.GetAsync($"/api/orders/{id}");

        Assert.Equal("miss", first.Headers.GetValues("X-Cache").Single());
        Assert.Equal("hit", second.Headers.GetValues("X-Cache").Single());
        var order = await second.Content.ReadFromJsonAsync<OrderView>();
        Assert.Equal(OrderStatus.Shipping, order!.Status);
        Assert.Equal([new OrderLine("TAMPER", 1)], order.Lines);
    }

    [Fact]
    public async Task Health_and_metrics_and_openapi_are_anonymous()
    {
        using var client = factory.CreateClient();

        Assert.Equal(HttpStatusCode.OK, (await client.GetAsync("/alive")).StatusCode);
        Assert.NotEqual(HttpStatusCode.Unauthorized, (await client.GetAsync("/health")).StatusCode);
        var metrics = await client.GetAsync("/metrics");
        Assert.Equal(HttpStatusCode.OK, metrics.StatusCode);
        var openApi = await client.GetFromJsonAsync<JsonElement>("/openapi/v1.json");
        Assert.True(openApi.GetProperty("paths").TryGetProperty("/api/orders", out _));
    }

    [Fact]
    public async Task Readiness_is_503_naming_temporal_while_liveness_stays_200()
    {
        using var client = factory.CreateClient();

        var health = await client.GetAsync("/health");
        var alive = await client.GetAsync("/alive");

        Assert.Equal(HttpStatusCode.ServiceUnavailable, health.StatusCode);
        var report = await health.Content.ReadFromJsonAsync<JsonElement>();
        Assert.Equal("Unhealthy", report.GetProperty("checks").GetProperty("temporal").GetProperty("status").GetString());
        Assert.Equal("Unhealthy", report.GetProperty("checks").GetProperty("temporal-worker").GetProperty("status").GetString());
        Assert.Equal("Healthy", report.GetProperty("checks").GetProperty("redis").GetProperty("status").GetString());
        Assert.Equal(HttpStatusCode.OK, alive.StatusCode);
    }

    [Fact]
    public async Task Metrics_expose_http_server_instruments_in_prometheus_format()
    {
        using var client = factory.CreateAuthorizedClient();
        await client.GetAsync("/api/products");

        var text = await client.GetStringAsync("/metrics");

        Assert.Contains("# TYPE http_server_request_duration_seconds histogram", text, StringComparison.Ordinal);
    }

    private static StringContent Json(string body) => new(body, Encoding.UTF8, "application/json");
}

using Microsoft.Extensions.DependencyInjection;
using Temporalio.Client;
using Temporalio.Exceptions;

namespace Worker.Tests.EndToEnd;

/// <summary>A POST repeated after Temporal has forgotten the order (its history is past retention).</summary>
public sealed class RepeatedPostTests(EndToEndEnvironment env) : IClassFixture<EndToEndEnvironment>
{
    [Fact]
    public async Task After_the_history_is_gone_a_repeated_post_answers_the_finished_order_and_starts_nothing()
    {
        var id = $"history-gone-{Guid.NewGuid():N}"[..30];
        await env.PlaceOrderAsync(id, "tok_visa", new OrderLine("TAMPER", 1));
        Assert.Equal(OrderStatus.Completed, (await env.ResultAsync(id, "history-gone-first-run")).Status);
        var stock = await env.Database.StockAsync("TAMPER");

        // A Temporal that never saw the order, on the same database: as after the namespace's retention.
        await using var freshTemporal = await TemporalTestServer.TemporalTestServer.StartAsync();
        var settings = WorkerFactory.DefaultSettings(env.Database.ConnectionString, env.RedisConnection);
        settings["Temporal:Address"] = freshTemporal.Address;
        settings["Temporal:TaskQueue"] = $"orders-fresh-{Guid.NewGuid():N}";
        await using var factory = new WorkerFactory(settings);
        using var api = factory.CreateAuthorizedClient();
        await Wait.UntilAsync(async () => (await api.GetAsync("/health")).IsSuccessStatusCode);

        var repeat = await api.PostAsJsonAsync("/api/orders", new { orderId = id, lines = new[] { new OrderLine("TAMPER", 1) }, paymentToken = "tok_visa" });

        Assert.Equal(HttpStatusCode.Accepted, repeat.StatusCode);
        Assert.Equal(OrderStatus.Completed, (await repeat.Content.ReadFromJsonAsync<OrderAccepted>())!.Status);
        var temporal = factory.Services.GetRequiredService<ITemporalClient>();
        var notStarted = await Assert.ThrowsAsync<RpcException>(() => temporal.GetWorkflowHandle(OrderEndpoints.WorkflowId(id)).DescribeAsync());
        Assert.Equal(RpcException.StatusCode.NotFound, notStarted.Code);
        await Task.Delay(500);
        Assert.Equal("Completed", await env.Database.ScalarAsync<string>("SELECT status FROM orders WHERE id = @p0", id));
        Assert.Equal(stock, await env.Database.StockAsync("TAMPER"));
        Assert.Equal(1L, await env.Database.ScalarAsync<long>("SELECT count(*) FROM payments WHERE order_id = @p0", id));
    }
}

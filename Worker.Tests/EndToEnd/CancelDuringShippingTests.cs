using System.Net;
using Worker.Orders;

namespace Worker.Tests.EndToEnd;

public sealed class CancelDuringShippingTests(SlowShippingEnvironment env) : IClassFixture<SlowShippingEnvironment>
{
    [Fact]
    public async Task Cancel_while_shipping_reaches_the_activity_through_its_heartbeat_and_everything_is_compensated()
    {
        var id = $"ship-cancel-{Guid.NewGuid():N}"[..30];
        var stockBefore = await env.Database.StockAsync("ESPRESSO-MACHINE");
        await env.PlaceOrderAsync(id, "tok_visa", new OrderLine("ESPRESSO-MACHINE", 1));
        await env.WaitForStatusAsync(id, OrderStatus.Shipping);

        var cancel = await env.Api.PostAsync($"/api/orders/{id}/cancel", null);

        Assert.Equal(HttpStatusCode.Accepted, cancel.StatusCode);
        var result = await env.ResultAsync(id, "cancel-during-shipping");
        Assert.Equal(OrderStatus.Cancelled, result.Status);
        Assert.Equal("Cancelled", await env.Database.ScalarAsync<string>("SELECT status FROM shipments WHERE order_id = @p0", id));
        Assert.Equal(0m, await env.Database.ScalarAsync<decimal>("SELECT sum(amount) FROM payments WHERE order_id = @p0", id));
        Assert.Equal(stockBefore, await env.Database.StockAsync("ESPRESSO-MACHINE"));
        Assert.Equal(HttpStatusCode.Conflict, (await env.Api.PostAsync($"/api/orders/{id}/cancel", null)).StatusCode);
    }
}

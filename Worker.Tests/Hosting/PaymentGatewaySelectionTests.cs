using Microsoft.Extensions.DependencyInjection;
using Worker.Orders.Payments;

namespace Worker.Tests.Hosting;

/// <summary>The ledger-only gateway (demo behaviour) exists only where no payment gateway is configured.</summary>
public sealed class PaymentGatewaySelectionTests(OrdersDatabase db) : IClassFixture<OrdersDatabase>
{
    [Theory]
    [InlineData(null, typeof(LedgerPaymentGateway))]
    [InlineData("http://127.0.0.1:1/", typeof(HttpPaymentGateway))]
    public void Payments_endpoint_selects_the_gateway(string? endpoint, Type expected)
    {
        var settings = WorkerFactory.DefaultSettings(db.ConnectionString, null);
        settings["Payments:Endpoint"] = endpoint;
        using var factory = new WorkerFactory(settings);
        using var scope = factory.Services.CreateScope();

        var gateway = scope.ServiceProvider.GetRequiredService<IPaymentGateway>();

        Assert.IsType(expected, gateway);
        Assert.Equal(expected == typeof(HttpPaymentGateway), gateway.IsExternal);
    }
}

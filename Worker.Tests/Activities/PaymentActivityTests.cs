using System.Net;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Http;
using Temporalio.Exceptions;
using Temporalio.Testing;
using Worker.Orders;
using Worker.Tests.Infrastructure;

namespace Worker.Tests.Activities;

public sealed class PaymentActivityTests(OrdersDatabase db) : IClassFixture<OrdersDatabase>
{
    private readonly ActivityEnvironment env = new();

    [Fact]
    public async Task Charge_records_one_ledger_row_even_when_run_twice()
    {
        await using var harness = await ActivityHarness.CreateAsync(db, null);
        var order = await db.AddOrderAsync([new("TAMPER", 1)]);

        var first = await env.RunAsync(() => harness.Activities.ChargePaymentAsync(new(order, "tok_visa", 19.90m)));
        var second = await env.RunAsync(() => harness.Activities.ChargePaymentAsync(new(order, "tok_visa", 19.90m)));

        Assert.Equal(first, second);
        Assert.Equal(19.90m, first.Amount);
        Assert.Equal(1L, await db.ScalarAsync<long>("SELECT count(*) FROM payments WHERE order_id = @p0", order));
        Assert.Equal("Charged", await db.ScalarAsync<string>("SELECT status FROM orders WHERE id = @p0", order));
    }

    [Fact]
    public async Task Declined_token_is_a_non_retryable_failure_and_charges_nothing()
    {
        await using var harness = await ActivityHarness.CreateAsync(db, null);
        var order = await db.AddOrderAsync([new("TAMPER", 1)]);

        var failure = await Assert.ThrowsAsync<ApplicationFailureException>(() =>
            env.RunAsync(() => harness.Activities.ChargePaymentAsync(new(order, OrderActivities.DeclinedPaymentToken, 5m))));

        Assert.Equal(OrderErrors.PaymentDeclined, failure.ErrorType);
        Assert.True(failure.NonRetryable);
        Assert.Equal(0L, await db.ScalarAsync<long>("SELECT count(*) FROM payments WHERE order_id = @p0", order));
    }

    [Fact]
    public async Task Refund_nets_the_charge_to_zero_once_even_when_run_twice()
    {
        await using var harness = await ActivityHarness.CreateAsync(db, null);
        var order = await db.AddOrderAsync([new("TAMPER", 1)]);
        await env.RunAsync(() => harness.Activities.ChargePaymentAsync(new(order, "tok_visa", 42m)));

        await env.RunAsync(() => harness.Activities.RefundPaymentAsync(order));
        await env.RunAsync(() => harness.Activities.RefundPaymentAsync(order));

        Assert.Equal(0m, await db.ScalarAsync<decimal>("SELECT sum(amount) FROM payments WHERE order_id = @p0", order));
        Assert.Equal(2L, await db.ScalarAsync<long>("SELECT count(*) FROM payments WHERE order_id = @p0", order));
    }

    [Fact]
    public async Task Refund_without_a_charge_records_nothing()
    {
        await using var harness = await ActivityHarness.CreateAsync(db, null);
        var order = await db.AddOrderAsync([new("TAMPER", 1)]);

        await env.RunAsync(() => harness.Activities.RefundPaymentAsync(order));

        Assert.Equal(0L, await db.ScalarAsync<long>("SELECT count(*) FROM payments WHERE order_id = @p0", order));
    }

    [Fact]
    public async Task Configured_gateway_is_called_with_the_api_key_and_an_idempotency_key()
    {
        await using var gateway = await FakeGateway.StartAsync(HttpStatusCode.OK);
        await using var harness = await ActivityHarness.CreateAsync(db, null,
            payments: new PaymentsOptions { Endpoint = gateway.Address, ApiKey = "gateway-secret" });
        var order = await db.AddOrderAsync([new("TAMPER", 1)]);

        var receipt = await env.RunAsync(() => harness.Activities.ChargePaymentAsync(new(order, "tok_visa", 10m)));

        var call = Assert.Single(gateway.Calls);
        Assert.Equal("/charges", call.Path);
        Assert.Equal("Bearer gateway-secret", call.Authorization);
        Assert.Equal($"charge-{order}", call.IdempotencyKey);
        Assert.Equal("gw-ref-1", receipt.Reference);
        Assert.Equal("gw-ref-1", await db.ScalarAsync<string>("SELECT reference FROM payments WHERE order_id = @p0", order));
    }

    [Fact]
    public async Task Gateway_402_is_a_non_retryable_decline()
    {
        await using var gateway = await FakeGateway.StartAsync(HttpStatusCode.PaymentRequired);
        await using var harness = await ActivityHarness.CreateAsync(db, null,
            payments: new PaymentsOptions { Endpoint = gateway.Address, ApiKey = "k" });
        var order = await db.AddOrderAsync([new("TAMPER", 1)]);

        var failure = await Assert.ThrowsAsync<ApplicationFailureException>(() =>
            env.RunAsync(() => harness.Activities.ChargePaymentAsync(new(order, "tok_visa", 10m))));

        Assert.Equal(OrderErrors.PaymentDeclined, failure.ErrorType);
        Assert.True(failure.NonRetryable);
        Assert.Equal(0L, await db.ScalarAsync<long>("SELECT count(*) FROM payments WHERE order_id = @p0", order));
    }

    /// <summary>A real HTTP server on loopback playing the payment gateway, recording what it receives.</summary>
    private sealed class FakeGateway : IAsyncDisposable
    {
        private readonly WebApplication app;

        private FakeGateway(WebApplication app) => this.app = app;

        public List<(string Path, string? Authorization, string? IdempotencyKey)> Calls { get; } = [];

        public Uri Address => new(app.Urls.First() + "/");

        public static async Task<FakeGateway> StartAsync(HttpStatusCode status)
        {
            var builder = WebApplication.CreateSlimBuilder();
            builder.WebHost.UseUrls("http://127.0.0.1:0");
            var app = builder.Build();
            var gateway = new FakeGateway(app);
            app.MapPost("/{kind}", (HttpContext http) =>
            {
                lock (gateway.Calls)
                {
                    gateway.Calls.Add((http.Request.Path, http.Request.Headers.Authorization, http.Request.Headers["Idempotency-Key"]));
                }
                return status == HttpStatusCode.OK
                    ? Results.Json(new { reference = $"gw-ref-{gateway.Calls.Count}" })
                    : Results.StatusCode((int)status);
            });
            await app.StartAsync();
            return gateway;
        }

        public async ValueTask DisposeAsync() => await app.DisposeAsync();
    }
}

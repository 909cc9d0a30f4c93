using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Http;
using Temporalio.Exceptions;
using Temporalio.Testing;
using Worker.Orders.Payments;

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
            env.RunAsync(() => harness.Activities.ChargePaymentAsync(new(order, LedgerPaymentGateway.DeclinedPaymentToken, 5m))));

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
        await using var gateway = await FakePaymentGateway.StartAsync(HttpStatusCode.OK);
        await using var harness = await ActivityHarness.CreateAsync(db, null,
            payments: new PaymentsOptions { Endpoint = gateway.Address, ApiKey = "gateway-secret" });
        var order = await db.AddOrderAsync([new("TAMPER", 1)]);

        var receipt = await env.RunAsync(() => harness.Activities.ChargePaymentAsync(new(order, "tok_visa", 10m)));

        var call = Assert.Single(gateway.Calls);
        Assert.Equal("/charges", call.Path);
        Assert.Equal("tok_visa", call.Body.GetProperty("paymentToken").GetString());
        Assert.Equal("Bearer gateway-secret", call.Authorization);
        Assert.Equal($"charge-{order}", call.IdempotencyKey);
        Assert.Equal("gw-ref-1", receipt.Reference);
        Assert.Equal("gw-ref-1", await db.ScalarAsync<string>("SELECT reference FROM payments WHERE order_id = @p0", order));
    }

    [Fact]
    public async Task A_configured_gateway_decides_on_every_token_the_demo_decline_token_included()
    {
        await using var gateway = await FakePaymentGateway.StartAsync(HttpStatusCode.OK);
        await using var harness = await ActivityHarness.CreateAsync(db, null, payments: new PaymentsOptions { Endpoint = gateway.Address });
        var order = await db.AddOrderAsync([new("TAMPER", 1)]);

        var receipt = await env.RunAsync(() =>
            harness.Activities.ChargePaymentAsync(new(order, LedgerPaymentGateway.DeclinedPaymentToken, 10m)));

        Assert.Equal(LedgerPaymentGateway.DeclinedPaymentToken, Assert.Single(gateway.Calls).Body.GetProperty("paymentToken").GetString());
        Assert.Equal("gw-ref-1", receipt.Reference);
    }

    [Fact]
    public async Task Gateway_402_is_a_non_retryable_decline()
    {
        await using var gateway = await FakePaymentGateway.StartAsync(HttpStatusCode.PaymentRequired);
        await using var harness = await ActivityHarness.CreateAsync(db, null,
            payments: new PaymentsOptions { Endpoint = gateway.Address, ApiKey = "k" });
        var order = await db.AddOrderAsync([new("TAMPER", 1)]);

        var failure = await Assert.ThrowsAsync<ApplicationFailureException>(() =>
            env.RunAsync(() => harness.Activities.ChargePaymentAsync(new(order, "tok_visa", 10m))));

        Assert.Equal(OrderErrors.PaymentDeclined, failure.ErrorType);
        Assert.True(failure.NonRetryable);
        Assert.Equal(0L, await db.ScalarAsync<long>("SELECT count(*) FROM payments WHERE order_id = @p0", order));
    }

    [Fact]
    public async Task Charge_reads_the_token_from_the_database_when_its_input_has_none_and_deletes_it_once_settled()
    {
        await using var gateway = await FakePaymentGateway.StartAsync();
        await using var harness = await ActivityHarness.CreateAsync(db, null, payments: new PaymentsOptions { Endpoint = gateway.Address });
        var order = await db.AddOrderAsync([new("TAMPER", 1)]);

        await env.RunAsync(() => harness.Activities.ChargePaymentAsync(new(order, null, 10m)));

        Assert.Equal("tok_visa", Assert.Single(gateway.Calls).Body.GetProperty("paymentToken").GetString());
        Assert.Equal(0L, await db.ScalarAsync<long>("SELECT count(*) FROM payment_tokens WHERE order_id = @p0", order));
        Assert.Equal(10m, await db.ScalarAsync<decimal>("SELECT amount FROM payments WHERE order_id = @p0 AND kind = 'charge'", order));
        Assert.Equal(0L, await db.ScalarAsync<long>("SELECT count(*) FROM pending_charges WHERE order_id = @p0", order));
    }

    [Fact]
    public async Task A_charge_whose_gateway_outcome_is_unknown_stays_pending_outside_the_ledger_and_the_refund_finds_it()
    {
        // The gateway may have charged (a 500, a timeout, a ledger write that then kept failing): the pending row
        // written before the call is what lets the refund ask the gateway to undo it. It is not in the ledger, where
        // a build that reads every charge row as money received would take it for a settled charge.
        await using var gateway = await FakePaymentGateway.StartAsync(HttpStatusCode.InternalServerError);
        await using var harness = await ActivityHarness.CreateAsync(db, null, payments: new PaymentsOptions { Endpoint = gateway.Address });
        var order = await db.AddOrderAsync([new("TAMPER", 1)]);

        await Assert.ThrowsAsync<HttpRequestException>(() => env.RunAsync(() => harness.Activities.ChargePaymentAsync(new(order, null, 10m))));
        Assert.Equal($"charge-{order}", await db.ScalarAsync<string>("SELECT idempotency_key FROM pending_charges WHERE order_id = @p0", order));
        Assert.Equal(0L, await db.ScalarAsync<long>("SELECT count(*) FROM payments WHERE order_id = @p0", order));

        await env.RunAsync(() => harness.Activities.RefundPaymentAsync(order));

        var refund = Assert.Single(gateway.CallsTo("/refunds"));
        Assert.Equal($"charge-{order}", refund.Body.GetProperty("chargeIdempotencyKey").GetString());
        Assert.Equal(0L, await db.ScalarAsync<long>("SELECT count(*) FROM payments WHERE order_id = @p0", order));
        Assert.Equal(0L, await db.ScalarAsync<long>("SELECT count(*) FROM pending_charges WHERE order_id = @p0", order));
    }

    [Fact]
    public async Task A_pending_charge_the_gateway_never_made_is_refunded_as_nothing()
    {
        await using var gateway = await FakePaymentGateway.StartAsync(HttpStatusCode.InternalServerError);
        gateway.RefundStatus = HttpStatusCode.NotFound;
        await using var harness = await ActivityHarness.CreateAsync(db, null, payments: new PaymentsOptions { Endpoint = gateway.Address });
        var order = await db.AddOrderAsync([new("TAMPER", 1)]);
        await Assert.ThrowsAsync<HttpRequestException>(() => env.RunAsync(() => harness.Activities.ChargePaymentAsync(new(order, null, 10m))));

        await env.RunAsync(() => harness.Activities.RefundPaymentAsync(order));

        Assert.Single(gateway.CallsTo("/refunds"));
        Assert.Equal(0L, await db.ScalarAsync<long>("SELECT count(*) FROM payments WHERE order_id = @p0", order));
        Assert.Equal(0L, await db.ScalarAsync<long>("SELECT count(*) FROM pending_charges WHERE order_id = @p0", order));
    }

    [Fact]
    public async Task A_settled_charge_unknown_to_the_gateway_fails_the_refund_for_an_operator_to_see()
    {
        await using var gateway = await FakePaymentGateway.StartAsync();
        gateway.RefundStatus = HttpStatusCode.NotFound;
        await using var harness = await ActivityHarness.CreateAsync(db, null, payments: new PaymentsOptions { Endpoint = gateway.Address });
        var order = await db.AddOrderAsync([new("TAMPER", 1)]);
        await env.RunAsync(() => harness.Activities.ChargePaymentAsync(new(order, null, 10m)));

        await Assert.ThrowsAsync<HttpRequestException>(() => env.RunAsync(() => harness.Activities.RefundPaymentAsync(order)));

        Assert.Equal(10m, await db.ScalarAsync<decimal>("SELECT sum(amount) FROM payments WHERE order_id = @p0", order));
    }

    [Fact]
    public async Task A_late_charge_attempt_on_an_order_completed_meanwhile_keeps_the_charge_that_paid_for_it()
    {
        // Attempt 1 outlives its timeout at the gateway; attempt 2 (same idempotency key: the same charge) settles and the
        // order ships. Attempt 1's answer then meets a completed order: its charge is the one that was paid.
        await using var gateway = await FakePaymentGateway.StartAsync(delay: TimeSpan.FromSeconds(1));
        await using var harness = await ActivityHarness.CreateAsync(db, null, payments: new PaymentsOptions { Endpoint = gateway.Address });
        var order = await db.AddOrderAsync([new("TAMPER", 1)], OrderStatus.Reserved);

        var late = env.RunAsync(() => harness.Activities.ChargePaymentAsync(new(order, null, 10m)));
        await Wait.UntilAsync(() => Task.FromResult(gateway.CallsTo("/charges").Length > 0)); // pending at the gateway
        await db.ExecuteAsync("""
            DELETE FROM pending_charges WHERE order_id = @p0;
            INSERT INTO payments (order_id, kind, amount, reference) VALUES (@p0, 'charge', 10, 'gw-ref-paid');
            UPDATE orders SET status = 'Completed' WHERE id = @p0;
            """, order);

        var failure = await Assert.ThrowsAsync<ApplicationFailureException>(() => late);
        Assert.Equal(OrderErrors.OrderClosed, failure.ErrorType);
        Assert.Empty(gateway.CallsTo("/refunds"));
        Assert.Equal(10m, await db.ScalarAsync<decimal>("SELECT sum(amount) FROM payments WHERE order_id = @p0", order));
    }

    [Fact]
    public async Task A_late_charge_attempt_on_an_order_compensated_meanwhile_is_refunded_at_the_gateway()
    {
        await using var gateway = await FakePaymentGateway.StartAsync(delay: TimeSpan.FromSeconds(1));
        await using var harness = await ActivityHarness.CreateAsync(db, null, payments: new PaymentsOptions { Endpoint = gateway.Address });
        var order = await db.AddOrderAsync([new("TAMPER", 1)], OrderStatus.Reserved);

        var late = env.RunAsync(() => harness.Activities.ChargePaymentAsync(new(order, null, 10m)));
        await Wait.UntilAsync(() => Task.FromResult(gateway.CallsTo("/charges").Length > 0)); // pending at the gateway
        await db.ExecuteAsync("UPDATE orders SET status = 'Cancelled' WHERE id = @p0", order);

        var failure = await Assert.ThrowsAsync<ApplicationFailureException>(() => late);
        Assert.Equal(OrderErrors.OrderClosed, failure.ErrorType);
        Assert.Single(gateway.CallsTo("/refunds"));
        Assert.Equal(0L, await db.ScalarAsync<long>("SELECT count(*) FROM payments WHERE order_id = @p0", order));
    }

    [Fact]
    public async Task A_decline_that_arrives_after_the_compensation_refunded_the_pending_charge_leaves_the_ledger_at_zero()
    {
        await using var gateway = await FakePaymentGateway.StartAsync(HttpStatusCode.PaymentRequired, delay: TimeSpan.FromSeconds(1.5));
        gateway.RefundDelay = TimeSpan.Zero;
        await using var harness = await ActivityHarness.CreateAsync(db, null, payments: new PaymentsOptions { Endpoint = gateway.Address });
        var order = await db.AddOrderAsync([new("TAMPER", 1)], OrderStatus.Reserved);

        var charging = env.RunAsync(() => harness.Activities.ChargePaymentAsync(new(order, null, 10m)));
        await Wait.UntilAsync(() => Task.FromResult(gateway.CallsTo("/charges").Length > 0)); // pending at the gateway
        await db.ExecuteAsync("UPDATE orders SET status = 'Compensating' WHERE id = @p0", order);
        await env.RunAsync(() => harness.Activities.RefundPaymentAsync(order));    // the compensation refunds it by key

        var declined = await Assert.ThrowsAsync<ApplicationFailureException>(() => charging);
        Assert.Equal(OrderErrors.PaymentDeclined, declined.ErrorType);
        Assert.Equal(0m, await db.ScalarAsync<decimal>("SELECT COALESCE(sum(amount), 0) FROM payments WHERE order_id = @p0", order));
        Assert.Equal(0L, await db.ScalarAsync<long>("SELECT count(*) FROM pending_charges WHERE order_id = @p0", order));
    }

    [Fact]
    public async Task Every_attempt_of_a_refund_sends_the_same_request_under_its_idempotency_key()
    {
        // A refund tried while the charge was pending, and again after the charge settled, is one refund to the gateway:
        // a gateway refuses a second request under the same key with another body.
        await using var gateway = await FakePaymentGateway.StartAsync(HttpStatusCode.InternalServerError);
        gateway.RefundStatus = HttpStatusCode.InternalServerError;
        await using var harness = await ActivityHarness.CreateAsync(db, null, payments: new PaymentsOptions { Endpoint = gateway.Address });
        var order = await db.AddOrderAsync([new("TAMPER", 1)], OrderStatus.Reserved);
        await Assert.ThrowsAsync<HttpRequestException>(() => env.RunAsync(() => harness.Activities.ChargePaymentAsync(new(order, null, 10m))));
        await db.ExecuteAsync("UPDATE orders SET status = 'Compensating' WHERE id = @p0", order);
        await Assert.ThrowsAsync<HttpRequestException>(() => env.RunAsync(() => harness.Activities.RefundPaymentAsync(order)));
        await db.ExecuteAsync("""
            DELETE FROM pending_charges WHERE order_id = @p0;
            INSERT INTO payments (order_id, kind, amount, reference) VALUES (@p0, 'charge', 10, 'gw-ref-late');
            """, order);                                                           // a late attempt settled meanwhile
        gateway.RefundStatus = HttpStatusCode.OK;

        await env.RunAsync(() => harness.Activities.RefundPaymentAsync(order));

        var refunds = gateway.CallsTo("/refunds");
        Assert.True(refunds.Length >= 2, $"{refunds.Length} refund calls");
        Assert.All(refunds, r => Assert.Equal(HttpPaymentGateway.RefundIdempotencyKey(order), r.IdempotencyKey));
        Assert.Single(refunds.Select(r => r.Body.GetRawText()).Distinct());
    }

    [Fact]
    public async Task Charge_is_refused_without_calling_the_gateway_once_the_order_is_being_compensated()
    {
        await using var gateway = await FakePaymentGateway.StartAsync();
        await using var harness = await ActivityHarness.CreateAsync(db, null, payments: new PaymentsOptions { Endpoint = gateway.Address });
        var order = await db.AddOrderAsync([new("TAMPER", 1)], OrderStatus.Compensating);

        var failure = await Assert.ThrowsAsync<ApplicationFailureException>(() =>
            env.RunAsync(() => harness.Activities.ChargePaymentAsync(new(order, null, 10m))));

        Assert.Equal(OrderErrors.OrderClosed, failure.ErrorType);
        Assert.True(failure.NonRetryable);
        Assert.Empty(gateway.Calls);
        Assert.Equal(0L, await db.ScalarAsync<long>("SELECT count(*) FROM payments WHERE order_id = @p0", order));
    }
}

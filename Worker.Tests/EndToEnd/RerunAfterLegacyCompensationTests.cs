using Microsoft.Extensions.DependencyInjection;
using Temporalio.Client;
using Worker.Orders.Payments;
using Worker.Orders.Persistence;

namespace Worker.Tests.EndToEnd;

/// <summary>
/// An order whose compensation was begun by a saga that does not record Compensating (the previous release
/// 7d18e1e, or this build's own pre-"cancel-safe-saga" path, OrderWorkflow.BeforeCancelSafeSaga.workflow.cs: refund, then
/// release, then the final status) and whose run was then terminated, is POSTed again, as docs/saga.md prescribes
/// ("an order the first run was compensating is compensated to the end").
/// </summary>
public sealed class RerunAfterLegacyCompensationTests(GatewayEnvironment env) : IClassFixture<GatewayEnvironment>
{
    [Theory]
    [InlineData(true)]  // terminated after refund and release
    [InlineData(false)] // terminated after the refund, before the release
    public async Task A_rerun_over_a_compensation_begun_without_Compensating_finishes_it_and_ships_nothing(bool released)
    {
        var id = $"legacy-comp-{Guid.NewGuid():N}"[..30];
        var lines = new[] { new OrderLine("GRINDER", 1) };
        var request = new OrderRequest(id, [new OrderLineRequest("GRINDER", 1)], "tok_visa");
        // The order as the API recorded it; its first run is driven below activity by activity, as that saga runs them.
        await new OrderStore(env.Database.DataSource).RegisterAsync(
            id, OrderRequestRules.Fingerprint(request), new OrderRequestRecord(lines), "tok_visa", CancellationToken.None);
        await using var harness = await ActivityHarness.CreateAsync(env.Database, null,
            payments: new PaymentsOptions { Endpoint = env.Gateway.Address });
        var activity = new Temporalio.Testing.ActivityEnvironment();
        var reservation = await activity.RunAsync(() => harness.Activities.ReserveInventoryAsync(new(id, lines)));
        await activity.RunAsync(() => harness.Activities.ChargePaymentAsync(new(id, null, reservation.Total)));
        // The customer cancels; the old saga compensates: RefundPayment, ReleaseInventory, then RecordOrderStatus(Cancelled).
        await activity.RunAsync(() => harness.Activities.RefundPaymentAsync(id));
        if (released)
        {
            await activity.RunAsync(() => harness.Activities.ReleaseInventoryAsync(id));
        }
        // ... and the run is terminated before its final status: the order still shows Charged.
        Assert.Equal("Charged", await env.Database.ScalarAsync<string>("SELECT status FROM orders WHERE id = @p0", id));
        Assert.Single(Calls("/refunds", id));

        var repost = await env.Api.PostAsJsonAsync("/api/orders", new { orderId = id, lines, paymentToken = "tok_visa" });
        Assert.Equal(HttpStatusCode.Accepted, repost.StatusCode);
        var result = await env.Temporal.GetWorkflowHandle(OrderEndpoints.WorkflowId(id))
            .GetResultAsync<OrderResult>().WaitAsync(TimeSpan.FromSeconds(60));

        var net = await env.Database.ScalarAsync<decimal>("SELECT COALESCE(sum(amount), 0) FROM payments WHERE order_id = @p0", id);
        var shipped = await env.Database.ScalarAsync<long>("SELECT count(*) FROM shipments WHERE order_id = @p0 AND status = 'Shipped'", id);
        var charges = Calls("/charges", id).Length;
        // Shipped goods must be paid for: the one charge at the gateway was refunded, and nothing charged again.
        Assert.False(shipped > 0 && net == 0m,
            $"order {result.Status}, shipped, ledger net {net}, gateway: {charges} charge(s), {Calls("/refunds", id).Length} refund(s)");
        // What docs/saga.md promises: the compensation is finished, and the order ends Cancelled.
        Assert.Equal(OrderStatus.Cancelled, result.Status);
    }

    private FakePaymentGateway.GatewayCall[] Calls(string path, string orderId) =>
        [.. env.Gateway.CallsTo(path).Where(c => c.Body.GetProperty("orderId").GetString() == orderId)];
}

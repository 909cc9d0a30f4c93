using Worker.Orders.Reconciliation;

namespace Worker.Tests.EndToEnd;

/// <summary>Review: what the stuck-order sweep does to orders whose clients acted on what the API told them.</summary>
public sealed class Review_StuckOrderSweepTests(StuckOrderEnvironment env) : IClassFixture<StuckOrderEnvironment>
{
    [Fact]
    public async Task Review_an_order_whose_start_failed_cannot_be_cancelled_and_the_sweep_then_charges_and_ships_it()
    {
        // The POST is answered 503 (Temporal unreachable from that replica): the order is recorded Pending, no workflow.
        var id = $"cancel-503-{Guid.NewGuid():N}"[..30];
        using (var cutOff = new WorkerFactory(WorkerFactory.DefaultSettings(env.Database.ConnectionString, null)))
        using (var client = cutOff.CreateAuthorizedClient())
        {
            var post = await client.PostAsJsonAsync("/api/orders", new { orderId = id, lines = new[] { new OrderLine("GRINDER", 1) }, paymentToken = "tok_visa" });
            Assert.Equal(HttpStatusCode.ServiceUnavailable, post.StatusCode);
        }

        // The customer changes their mind and cancels it, through a replica that reaches Temporal.
        var cancel = await env.Api.PostAsync($"/api/orders/{id}/cancel", null);
        var cancelAnswer = $"{(int)cancel.StatusCode} {await cancel.Content.ReadAsStringAsync()}";
        await env.AgeAsync(id);

        var actions = await env.Reconciler.SweepAsync(CancellationToken.None);
        var result = actions.Contains((id, StuckOrderReconciler.Action.Started))
            ? (await env.Temporal.GetWorkflowHandle(OrderEndpoints.WorkflowId(id)).GetResultAsync<OrderResult>().WaitAsync(TimeSpan.FromSeconds(60))).Status
            : Enum.Parse<OrderStatus>(await env.Database.ScalarAsync<string>("SELECT status FROM orders WHERE id = @p0", id));

        var charged = await env.Database.ScalarAsync<decimal>("SELECT COALESCE(sum(amount), 0) FROM payments WHERE order_id = @p0", id);
        Assert.True(result != OrderStatus.Completed && charged == 0m,
            $"cancel answered {cancelAnswer}; then the sweep {string.Join(", ", actions.Where(a => a.OrderId == id))}: the order ended {result}, charged {charged}");
    }
}

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

/// <summary>Review: the sweep beside the previous release, which records orders without a payment token on record.</summary>
public sealed class Review_StuckOrderSweepBesidePreviousReleaseTests(Review_SweepGatewayEnvironment env) : IClassFixture<Review_SweepGatewayEnvironment>
{
    [Fact]
    public async Task Review_an_order_the_previous_release_recorded_but_could_not_start_is_failed_by_the_sweep_before_its_client_retries()
    {
        // The previous release (7d18e1e) registers an order without a payment_tokens row (its token travels only in the
        // workflow input), and answers 503 when the start fails ("Temporal is not reachable. Try again shortly.").
        var id = $"n1-503-{Guid.NewGuid():N}"[..30];
        var request = new OrderRequest(id, [new OrderLineRequest("GRINDER", 1)], "tok_visa");
        await env.Database.ExecuteAsync(
            "INSERT INTO orders (id, request_hash, request, status) VALUES (@p0, @p1, @p2::jsonb, 'Pending')",
            id, OrderRequestRules.Fingerprint(request), JsonSerializer.Serialize(new Orders.Persistence.OrderRequestRecord([new("GRINDER", 1)])));
        await env.Database.ExecuteAsync("UPDATE orders SET created_at = now() - interval '3 minutes' WHERE id = @p0", id);

        var actions = await env.Reconciler.SweepAsync(CancellationToken.None);
        if (actions.Contains((id, StuckOrderReconciler.Action.Started)))
        {
            await env.Temporal.GetWorkflowHandle(OrderEndpoints.WorkflowId(id)).GetResultAsync<OrderResult>().WaitAsync(TimeSpan.FromSeconds(60));
        }

        // The client does as it was told and sends the same request again, now to this build (Orders:KeepLegacyFormats on,
        // as docs/rollouts.md prescribes for this rollout): its token is in this request.
        var retry = await env.Api.PostAsJsonAsync("/api/orders", new { orderId = id, lines = new[] { new OrderLine("GRINDER", 1) }, paymentToken = "tok_visa" });
        var status = (await retry.Content.ReadFromJsonAsync<OrderAccepted>())!.Status;
        Assert.True(!status.IsTerminal() || status == OrderStatus.Completed,
            $"sweep: {string.Join(", ", actions.Where(a => a.OrderId == id))}; the client's retry finds the order {status}: "
            + await env.Database.ScalarAsync<string>("SELECT coalesce(failure_reason, '') FROM orders WHERE id = @p0", id));
    }
}

/// <summary>The sweep's environment with an external payment gateway and Orders:KeepLegacyFormats (a rollout from the previous release).</summary>
public sealed class Review_SweepGatewayEnvironment : EndToEndEnvironment
{
    public FakePaymentGateway Gateway { get; private set; } = null!;

    public StuckOrderReconciler Reconciler =>
        Microsoft.Extensions.DependencyInjection.ServiceProviderServiceExtensions.GetServices<Microsoft.Extensions.Hosting.IHostedService>(Factory.Services)
            .OfType<StuckOrderReconciler>().Single();

    protected override async Task ConfigureAsync(Dictionary<string, string?> settings)
    {
        Gateway = await FakePaymentGateway.StartAsync();
        settings["Payments:Endpoint"] = Gateway.Address.ToString();
        settings["Orders:KeepLegacyFormats"] = "true";
        settings["Orders:ReconcileInterval"] = "01:00:00";
    }

    public override async Task DisposeAsync()
    {
        await base.DisposeAsync();
        await Gateway.DisposeAsync();
    }
}

using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using Worker.Orders.Reconciliation;

namespace Worker.Tests.EndToEnd;

/// <summary>
/// The stuck-order sweep on the real worker host, PostgreSQL and the Temporal test server: a POST whose start failed, a
/// client that never came back, and an application-database-only restore each end, instead of staying Pending.
/// </summary>
public sealed class StuckOrderReconcilerTests(StuckOrderEnvironment env) : IClassFixture<StuckOrderEnvironment>
{
    [Fact]
    public async Task An_order_whose_start_failed_is_started_by_the_sweep_and_completes()
    {
        // The API's insert ran, its start did not: Temporal was unreachable from that replica, and it answered 503.
        var id = $"start-failed-{Guid.NewGuid():N}"[..30];
        await PostWithoutTemporalAsync(id);
        Assert.Equal("Pending", await env.Database.ScalarAsync<string>("SELECT status FROM orders WHERE id = @p0", id));
        await env.AgeAsync(id);

        var actions = await env.Reconciler.SweepAsync(CancellationToken.None);

        Assert.Contains((id, StuckOrderReconciler.Action.Started), actions);
        Assert.Equal(OrderStatus.Completed, (await env.WaitForStatusAsync(id, OrderStatus.Completed)).Status);
    }

    [Fact]
    public async Task A_cancel_of_an_order_whose_start_failed_cancels_it_and_the_sweep_then_leaves_it()
    {
        // The client was told 503 and its customer changed their mind: the cancel must hold, not be answered
        // "finished" while the sweep later charges and ships the order.
        var id = $"cancel-503-{Guid.NewGuid():N}"[..30];
        await PostWithoutTemporalAsync(id);

        var cancel = await env.Api.PostAsync($"/api/orders/{id}/cancel", null);

        Assert.Equal(HttpStatusCode.Accepted, cancel.StatusCode);
        Assert.Equal("Cancelled", await env.Database.ScalarAsync<string>("SELECT status FROM orders WHERE id = @p0", id));
        Assert.Equal(0L, await env.Database.ScalarAsync<long>("SELECT count(*) FROM payment_tokens WHERE order_id = @p0", id));
        await env.AgeAsync(id);
        Assert.DoesNotContain(await env.Reconciler.SweepAsync(CancellationToken.None), a => a.OrderId == id);
        Assert.Equal(0L, await env.Database.ScalarAsync<long>("SELECT count(*) FROM payments WHERE order_id = @p0", id));
        Assert.Equal(OrderWorkflow.CancelledReason, (await env.Api.GetFromJsonAsync<OrderView>($"/api/orders/{id}"))!.FailureReason);
    }

    [Fact]
    public async Task An_order_older_than_ReconcileWithin_is_failed_instead_of_started()
    {
        // A client told to try again a day ago may have ordered anew under another id: starting this one would charge twice.
        var id = $"too-old-{Guid.NewGuid():N}"[..30];
        await PostWithoutTemporalAsync(id);
        await env.Database.ExecuteAsync("UPDATE orders SET created_at = now() - interval '25 hours' WHERE id = @p0", id);

        var actions = await env.Reconciler.SweepAsync(CancellationToken.None);

        Assert.Contains((id, StuckOrderReconciler.Action.Failed), actions);
        Assert.Equal(StuckOrderReconciler.NotStartedInTimeReason,
            await env.Database.ScalarAsync<string>("SELECT failure_reason FROM orders WHERE id = @p0 AND status = 'Failed'", id));
        Assert.Null(await WorkflowStatusAsync(id));
    }

    [Fact]
    public async Task An_order_whose_run_was_terminated_before_it_reserved_is_cancelled_not_started_again()
    {
        // An operator terminated the run (here before any worker took it): the order holds nothing, and the sweep
        // must not overrule the operator by starting it again.
        var id = $"terminated-{Guid.NewGuid():N}"[..30];
        await new Orders.Persistence.OrderStore(env.Database.DataSource).RegisterAsync(
            id, "hash", new Orders.Persistence.OrderRequestRecord([new("GRINDER", 1)]), "tok_visa", CancellationToken.None);
        var handle = await env.Temporal.StartWorkflowAsync(
            nameof(OrderWorkflow), [new OrderInput(id, [new("GRINDER", 1)], null, 1000m, TimeSpan.FromHours(1))],
            new(OrderEndpoints.WorkflowId(id), "no-worker-polls-this"));
        await handle.TerminateAsync("operator");
        await env.AgeAsync(id);

        var actions = await env.Reconciler.SweepAsync(CancellationToken.None);

        Assert.Contains((id, StuckOrderReconciler.Action.Cancelled), actions);
        Assert.Equal("Cancelled", await env.Database.ScalarAsync<string>("SELECT status FROM orders WHERE id = @p0", id));
        Assert.Equal(Temporalio.Api.Enums.V1.WorkflowExecutionStatus.Terminated, await WorkflowStatusAsync(id));
    }

    [Fact]
    public async Task After_an_application_database_restore_an_order_whose_workflow_finished_is_failed_for_an_operator()
    {
        // The order completed; then appdb alone was restored to before its progress: Pending, while Temporal holds a
        // completed run that no start may repeat. A repeated POST cannot start it either.
        var id = $"restored-{Guid.NewGuid():N}"[..30];
        await env.PlaceOrderAsync(id, "tok_visa", new OrderLine("GRINDER", 1));
        await env.WaitForStatusAsync(id, OrderStatus.Completed);
        // The order reads Completed a moment before its run closes; a restore comes long after.
        await env.Temporal.GetWorkflowHandle(OrderEndpoints.WorkflowId(id)).GetResultAsync<OrderResult>().WaitAsync(TimeSpan.FromSeconds(60));
        await env.Database.ExecuteAsync("""
            DELETE FROM shipments WHERE order_id = @p0;
            DELETE FROM payments WHERE order_id = @p0;
            UPDATE reservations SET released_at = now() WHERE order_id = @p0;
            UPDATE orders SET status = 'Pending', total = NULL, version = version + 1 WHERE id = @p0;
            """, id);
        Assert.Equal(HttpStatusCode.Accepted, (await env.PlaceOrderAsync(id, "tok_visa", new OrderLine("GRINDER", 1))).StatusCode);
        Assert.Equal("Pending", await env.Database.ScalarAsync<string>("SELECT status FROM orders WHERE id = @p0", id));
        await env.AgeAsync(id);

        var actions = await env.Reconciler.SweepAsync(CancellationToken.None);

        Assert.Contains((id, StuckOrderReconciler.Action.Failed), actions);
        Assert.Equal("Failed", await env.Database.ScalarAsync<string>("SELECT status FROM orders WHERE id = @p0", id));
        Assert.Equal(StuckOrderReconciler.LostProgressReason,
            await env.Database.ScalarAsync<string>("SELECT failure_reason FROM orders WHERE id = @p0", id));
    }

    [Fact]
    public async Task The_sweep_leaves_orders_younger_than_its_threshold_and_finished_ones_alone_and_one_replica_sweeps_at_a_time()
    {
        var young = $"young-{Guid.NewGuid():N}"[..30];
        await new Orders.Persistence.OrderStore(env.Database.DataSource).RegisterAsync(
            young, "hash", new Orders.Persistence.OrderRequestRecord([new("GRINDER", 1)]), "tok_visa", CancellationToken.None);
        await using var other = await env.Database.DataSource.OpenConnectionAsync();
        await using (var hold = new Npgsql.NpgsqlCommand("SELECT pg_advisory_lock(x'4F52444552530002'::bigint)", other))
        {
            await hold.ExecuteNonQueryAsync();
        }
        var aged = $"aged-{Guid.NewGuid():N}"[..30];
        await new Orders.Persistence.OrderStore(env.Database.DataSource).RegisterAsync(
            aged, "hash", new Orders.Persistence.OrderRequestRecord([new("GRINDER", 1)]), "tok_visa", CancellationToken.None);
        await env.AgeAsync(aged);

        Assert.Empty(await env.Reconciler.SweepAsync(CancellationToken.None)); // another replica holds the sweep
        await using (var release = new Npgsql.NpgsqlCommand("SELECT pg_advisory_unlock(x'4F52444552530002'::bigint)", other))
        {
            await release.ExecuteNonQueryAsync();
        }
        var actions = await env.Reconciler.SweepAsync(CancellationToken.None);

        Assert.Contains((aged, StuckOrderReconciler.Action.Started), actions);
        Assert.DoesNotContain(actions, a => a.OrderId == young);
        await env.WaitForStatusAsync(aged, OrderStatus.Completed);
        Assert.DoesNotContain(await env.Reconciler.SweepAsync(CancellationToken.None), a => a.OrderId == aged);
    }

    /// <summary>POSTs the order through a replica that cannot reach Temporal: recorded Pending, answered 503, no workflow.</summary>
    private async Task PostWithoutTemporalAsync(string id)
    {
        using var cutOff = new WorkerFactory(WorkerFactory.DefaultSettings(env.Database.ConnectionString, null));
        using var client = cutOff.CreateAuthorizedClient();
        var post = await client.PostAsJsonAsync("/api/orders", new { orderId = id, lines = new[] { new OrderLine("GRINDER", 1) }, paymentToken = "tok_visa" });
        Assert.Equal(HttpStatusCode.ServiceUnavailable, post.StatusCode);
    }

    private async Task<Temporalio.Api.Enums.V1.WorkflowExecutionStatus?> WorkflowStatusAsync(string id)
    {
        try
        {
            return (await env.Temporal.GetWorkflowHandle(OrderEndpoints.WorkflowId(id)).DescribeAsync()).Status;
        }
        catch (Temporalio.Exceptions.RpcException e) when (e.Code == Temporalio.Exceptions.RpcException.StatusCode.NotFound)
        {
            return null;
        }
    }
}

/// <summary>
/// The sweep beside the previous release (7d18e1e), which records an order without a payment token on record (its token
/// travels only in the workflow input) and answers 503 when the start fails.
/// </summary>
public sealed class StuckOrderBesidePreviousReleaseTests(LegacyFormatsEnvironment env) : IClassFixture<LegacyFormatsEnvironment>
{
    [Fact]
    public async Task An_order_recorded_without_a_token_waits_for_its_clients_repeat_which_brings_the_token_and_completes()
    {
        var id = $"n1-503-{Guid.NewGuid():N}"[..30];
        var request = new OrderRequest(id, [new OrderLineRequest("GRINDER", 1)], "tok_visa");
        await env.Database.ExecuteAsync(
            "INSERT INTO orders (id, request_hash, request, status, created_at) VALUES (@p0, @p1, @p2::jsonb, 'Pending', now() - interval '1 hour')",
            id, OrderRequestRules.Fingerprint(request), JsonSerializer.Serialize(new Orders.Persistence.OrderRequestRecord([new("GRINDER", 1)])));

        // Started now, it would be declined for want of a token before the client's repeat arrives.
        Assert.DoesNotContain(await env.Reconciler.SweepAsync(CancellationToken.None), a => a.OrderId == id);

        // The client does as it was told and sends the same request again, now to this build.
        var retry = await env.Api.PostAsJsonAsync("/api/orders", new { orderId = id, lines = new[] { new OrderLine("GRINDER", 1) }, paymentToken = "tok_visa" });

        Assert.Equal(HttpStatusCode.Accepted, retry.StatusCode);
        Assert.Equal(OrderStatus.Completed, (await env.WaitForStatusAsync(id, OrderStatus.Completed)).Status);
        Assert.Equal(1L, await env.Database.ScalarAsync<long>("SELECT count(*) FROM payments WHERE order_id = @p0 AND kind = 'charge'", id));
    }
}

/// <summary>The sweep's environment with an external payment gateway and Orders:KeepLegacyFormats (a rollout from the previous release).</summary>
public sealed class LegacyFormatsEnvironment : GatewayEnvironment
{
    protected override async Task ConfigureAsync(Dictionary<string, string?> settings)
    {
        await base.ConfigureAsync(settings);
        settings["Orders:KeepLegacyFormats"] = "true";
        settings["Orders:ReconcileInterval"] = "01:00:00";
    }
}

/// <summary>The worker with the sweep's own loop idle (a long interval), so that each test runs the sweep itself.</summary>
public sealed class StuckOrderEnvironment : EndToEndEnvironment
{
    /// <summary>Makes the order look older than the sweep's threshold.</summary>
    public Task AgeAsync(string orderId) =>
        Database.ExecuteAsync("UPDATE orders SET created_at = now() - interval '1 hour' WHERE id = @p0", orderId);

    protected override Task ConfigureAsync(Dictionary<string, string?> settings)
    {
        settings["Orders:ReconcileInterval"] = "01:00:00";
        settings["Orders:ReconcileAfter"] = "00:10:00";
        return Task.CompletedTask;
    }
}

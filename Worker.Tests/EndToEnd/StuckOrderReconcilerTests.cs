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
        using (var cutOff = new WorkerFactory(WorkerFactory.DefaultSettings(env.Database.ConnectionString, null)))
        using (var client = cutOff.CreateAuthorizedClient())
        {
            var post = await client.PostAsJsonAsync("/api/orders", new { orderId = id, lines = new[] { new OrderLine("GRINDER", 1) }, paymentToken = "tok_visa" });
            Assert.Equal(HttpStatusCode.ServiceUnavailable, post.StatusCode);
        }
        Assert.Equal("Pending", await env.Database.ScalarAsync<string>("SELECT status FROM orders WHERE id = @p0", id));
        await env.AgeAsync(id);

        var actions = await env.Reconciler.SweepAsync(CancellationToken.None);

        Assert.Contains((id, StuckOrderReconciler.Action.Started), actions);
        Assert.Equal(OrderStatus.Completed, (await env.WaitForStatusAsync(id, OrderStatus.Completed)).Status);
    }

    [Fact]
    public async Task After_an_application_database_restore_an_order_whose_workflow_finished_is_failed_for_an_operator()
    {
        // The order completed; then appdb alone was restored to before its progress: Pending, while Temporal holds a
        // completed run that no start may repeat. A repeated POST cannot start it either.
        var id = $"restored-{Guid.NewGuid():N}"[..30];
        await env.PlaceOrderAsync(id, "tok_visa", new OrderLine("GRINDER", 1));
        await env.WaitForStatusAsync(id, OrderStatus.Completed);
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
}

/// <summary>The worker with the sweep's own loop idle (a long interval), so that each test runs the sweep itself.</summary>
public sealed class StuckOrderEnvironment : EndToEndEnvironment
{
    public StuckOrderReconciler Reconciler => Factory.Services.GetServices<IHostedService>().OfType<StuckOrderReconciler>().Single();

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

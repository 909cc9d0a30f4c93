namespace Worker.Tests.EndToEnd;

/// <summary>The worker under faults: a database restart, a Redis outage, Temporal arriving late, SIGTERM mid-activity.</summary>
public sealed class FaultToleranceTests
{
    [Fact]
    public async Task Database_restart_during_charge_is_retried_and_charges_exactly_once()
    {
        await using var postgres = await PrivatePostgres.StartAsync();
        var env = new EndToEndEnvironment { PostgresServerConnection = postgres.ConnectionString };
        await env.InitializeAsync();
        try
        {
            var id = $"db-restart-{Guid.NewGuid():N}"[..30];
            await env.PlaceOrderAsync(id, "tok_visa", new OrderLine("ROASTER-PRO", 1));
            await env.WaitForStatusAsync(id, OrderStatus.AwaitingApproval);

            // Approve through Temporal directly (the API checks state in the database, which is about to go away):
            // the workflow moves to ChargePayment while PostgreSQL is down.
            await postgres.StopServerAsync();
            await env.Temporal.GetWorkflowHandle<OrderWorkflow>(OrderEndpoints.WorkflowId(id)).SignalAsync(wf => wf.ApproveAsync());
            await Task.Delay(TimeSpan.FromSeconds(3));
            await postgres.StartServerAsync();
            env.Database.DataSource.Clear(); // the test's own pooled connections died with the server

            var result = await env.ResultAsync(id, "database-restart-during-charge");
            Assert.Equal(OrderStatus.Completed, result.Status);
            Assert.Equal(1L, await env.Database.ScalarAsync<long>("SELECT count(*) FROM payments WHERE order_id = @p0", id));
            var events = (await env.Temporal.GetWorkflowHandle(OrderEndpoints.WorkflowId(id)).FetchHistoryAsync()).Events.ToList();
            var chargeStarted = events.Single(e =>
                e.EventType == Temporalio.Api.Enums.V1.EventType.ActivityTaskStarted
                && events[(int)e.ActivityTaskStartedEventAttributes.ScheduledEventId - 1].ActivityTaskScheduledEventAttributes.ActivityType.Name == "ChargePayment");
            Assert.True(chargeStarted.ActivityTaskStartedEventAttributes.Attempt > 1, "the charge should have been retried");
        }
        finally
        {
            await env.DisposeAsync();
        }
    }

    [Fact]
    public async Task Redis_stopped_orders_still_complete_and_readiness_is_degraded_not_unhealthy()
    {
        await using var redis = await PrivateRedis.StartAsync();
        var env = new EndToEndEnvironment { RedisConnection = redis.ConnectionString };
        await env.InitializeAsync();
        try
        {
            var before = $"redis-up-{Guid.NewGuid():N}"[..30];
            await env.PlaceOrderAsync(before);
            Assert.Equal(OrderStatus.Completed, (await env.ResultAsync(before, "redis-up")).Status);

            await redis.StopServerAsync();
            var id = $"redis-down-{Guid.NewGuid():N}"[..30];
            await env.PlaceOrderAsync(id);

            Assert.Equal(OrderStatus.Completed, (await env.ResultAsync(id, "redis-down")).Status);
            Assert.Equal(OrderStatus.Completed, (await env.GetOrderAsync(id)).Status);
            var health = await env.Api.GetAsync("/health");
            var report = await health.Content.ReadFromJsonAsync<JsonElement>();
            Assert.Equal(HttpStatusCode.OK, health.StatusCode);
            Assert.Equal("Degraded", report.GetProperty("status").GetString());
            Assert.Equal("Degraded", report.GetProperty("checks").GetProperty("redis").GetProperty("status").GetString());
            Assert.Equal(HttpStatusCode.OK, (await env.Api.GetAsync("/alive")).StatusCode);
        }
        finally
        {
            await env.DisposeAsync();
        }
    }

    [Fact]
    public async Task Temporal_arriving_after_start_makes_the_running_process_ready_without_restart()
    {
        var database = new OrdersDatabase();
        await database.InitializeAsync();
        var temporalPort = Loopback.FreePort();
        var environment = WorkerFactory.ProcessEnvironment(database.ConnectionString);
        environment["Temporal__Address"] = $"127.0.0.1:{temporalPort}";
        using var worker = WorkerProcess.Start(environment);
        await worker.WaitForAsync("/alive", HttpStatusCode.OK, TimeSpan.FromSeconds(30));
        await worker.WaitForAsync("/health", HttpStatusCode.ServiceUnavailable, TimeSpan.FromSeconds(5));

        await using var server = await TemporalTestServer.TemporalTestServer.StartAsync(new() { Port = temporalPort });
        // Within the connection keeper's backoff (at most 5 s between tries) and a loaded machine's connect and checks.
        await worker.WaitForAsync("/health", HttpStatusCode.OK, TimeSpan.FromSeconds(30));

        Assert.False(worker.HasExited);
        await database.DisposeAsync();
    }

    [Fact]
    public async Task Sigterm_lets_the_in_flight_activity_finish_and_nothing_is_lost()
    {
        var database = new OrdersDatabase();
        await database.InitializeAsync();
        await using var server = await TemporalTestServer.TemporalTestServer.StartAsync();
        var environment = WorkerFactory.ProcessEnvironment(database.ConnectionString);
        environment["Temporal__Address"] = server.Address;
        environment["Temporal__TaskQueue"] = "orders-sigterm";
        environment["Temporal__GracefulShutdownTimeout"] = "00:00:20";
        environment["Orders__ShippingStageDuration"] = "00:00:01";
        using var worker = WorkerProcess.Start(environment);
        await worker.WaitForAsync("/health", HttpStatusCode.OK, TimeSpan.FromSeconds(30));
        using var api = new HttpClient { BaseAddress = worker.BaseAddress };
        api.DefaultRequestHeaders.Add("X-Api-Key", WorkerFactory.ApiKey);
        var id = $"sigterm-{Guid.NewGuid():N}"[..30];
        var post = await api.PostAsJsonAsync("/api/orders", new { orderId = id, lines = new[] { new { sku = "GRINDER", quantity = 1 } }, paymentToken = "tok_visa" });
        Assert.Equal(HttpStatusCode.Accepted, post.StatusCode);
        // SIGTERM must meet ShipOrder in flight: the order is Shipping and its shipment still in progress (three
        // stages of a second each), or the test would prove nothing.
        var status = OrderStatus.Pending;
        for (var deadline = DateTime.UtcNow + TimeSpan.FromSeconds(30); status != OrderStatus.Shipping && DateTime.UtcNow < deadline;)
        {
            await Task.Delay(25);
            status = (await api.GetFromJsonAsync<OrderView>($"/api/orders/{id}"))!.Status;
        }
        Assert.Equal(OrderStatus.Shipping, status);
        Assert.Equal("InProgress", await database.ScalarAsync<string>("SELECT status FROM shipments WHERE order_id = @p0", id));

        worker.Terminate();

        Assert.Equal(0, await worker.WaitForExitAsync(TimeSpan.FromSeconds(30)));
        Assert.Equal("Shipped", await database.ScalarAsync<string>("SELECT status FROM shipments WHERE order_id = @p0", id));
        Assert.Equal("Completed", await database.ScalarAsync<string>("SELECT status FROM orders WHERE id = @p0", id));

        // The workflow itself finishes when a worker polls again: nothing was lost with the stopped process.
        using var successor = WorkerProcess.Start(environment);
        var client = await Temporalio.Client.TemporalClient.ConnectAsync(new(server.Address));
        var result = await client.GetWorkflowHandle(OrderEndpoints.WorkflowId(id)).GetResultAsync<OrderResult>().WaitAsync(TimeSpan.FromSeconds(30));
        Assert.Equal(OrderStatus.Completed, result.Status);
        await database.DisposeAsync();
    }
}

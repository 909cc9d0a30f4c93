using Microsoft.Extensions.DependencyInjection;
using Temporalio.Client;
using Worker.Orders.Reconciliation;

namespace Worker.Tests.EndToEnd;

/// <summary>
/// The real worker host (roles api,worker) on a fresh database, real Redis, and Temporal: the project's test
/// server, or a real Temporal when <c>TEMPORAL_TEST_ADDRESS</c> is set (e.g. <c>temporal server start-dev</c>).
/// </summary>
public class EndToEndEnvironment : IAsyncLifetime
{
    public static string? RealTemporalAddress => Environment.GetEnvironmentVariable("TEMPORAL_TEST_ADDRESS") is { Length: > 0 } a ? a : null;

    private TemporalTestServer.TemporalTestServer? testServer;
    private OrdersDatabase database = null!;

    public WorkerFactory Factory { get; private set; } = null!;

    /// <summary>The worker's stuck-order sweep, for a test to run a round itself (<see cref="StuckOrderReconciler.SweepAsync"/>).</summary>
    public StuckOrderReconciler Reconciler =>
        Factory.Services.GetServices<Microsoft.Extensions.Hosting.IHostedService>().OfType<StuckOrderReconciler>().Single();

    public OrdersDatabase Database => database;

    public HttpClient Api { get; private set; } = null!;

    public ITemporalClient Temporal { get; private set; } = null!;

    public string TemporalAddress => RealTemporalAddress ?? testServer!.Address;

    /// <summary>Simulated time per shipping stage; long enough to cancel during shipping in the tests that do.</summary>
    protected virtual TimeSpan ShippingStageDuration => TimeSpan.FromMilliseconds(50);

    /// <summary>Redis of this environment; the shared test server unless a test brings its own.</summary>
    public string RedisConnection { get; init; } = TestSettings.RedisConnection;

    /// <summary>PostgreSQL server the database is created on; the shared test server unless a test brings its own.</summary>
    public string? PostgresServerConnection { get; set; }

    public virtual async Task InitializeAsync()
    {
        database = new OrdersDatabase { ServerConnection = PostgresServerConnection };
        await database.InitializeAsync();
        testServer = RealTemporalAddress is null ? await TemporalTestServer.TemporalTestServer.StartAsync() : null;
        var settings = WorkerFactory.DefaultSettings(database.ConnectionString, RedisConnection);
        settings["Temporal:Address"] = TemporalAddress;
        settings["Temporal:TaskQueue"] = $"orders-e2e-{Guid.NewGuid():N}";
        settings["Orders:ShippingStageDuration"] = ShippingStageDuration.ToString();
        settings["Temporal:GracefulShutdownTimeout"] = "00:00:05";
        await ConfigureAsync(settings);
        Factory = CreateFactory(settings);
        Api = Factory.CreateAuthorizedClient();
        Temporal = Factory.Services.GetRequiredService<ITemporalClient>();
        await WaitHealthyAsync();
    }

    /// <summary>The host of the worker; an environment may change how it serves (a real port, see ObservedEnvironment).</summary>
    protected virtual WorkerFactory CreateFactory(Dictionary<string, string?> settings) => new(settings, ConfigureServices);

    /// <summary>Lets an environment add settings (and start what they point at) before the worker starts.</summary>
    protected virtual Task ConfigureAsync(Dictionary<string, string?> settings) => Task.CompletedTask;

    /// <summary>Lets an environment add or replace services of the worker host (after the application's own).</summary>
    protected virtual void ConfigureServices(IServiceCollection services)
    {
    }

    public virtual async Task DisposeAsync()
    {
        Api.Dispose();
        await Factory.DisposeAsync();
        if (testServer is not null)
        {
            await testServer.DisposeAsync();
        }
        await database.DisposeAsync();
    }

    /// <summary>Until /health answers 200: schema applied, Temporal connected, worker polling.</summary>
    public async Task WaitHealthyAsync()
    {
        for (var i = 0; i < 300; i++)
        {
            if ((await Api.GetAsync("/health")).IsSuccessStatusCode)
            {
                return;
            }
            await Task.Delay(50);
        }
        throw new TimeoutException($"worker not healthy: {await Api.GetStringAsync("/health")}");
    }

    public async Task<HttpResponseMessage> PlaceOrderAsync(string orderId, string paymentToken = "tok_visa", params OrderLine[] lines)
    {
        lines = lines.Length == 0 ? [new OrderLine("GRINDER", 1)] : lines;
        return await Api.PostAsJsonAsync("/api/orders", new { orderId, lines, paymentToken });
    }

    public async Task<OrderView> GetOrderAsync(string orderId) =>
        (await Api.GetFromJsonAsync<OrderView>($"/api/orders/{orderId}"))!;

    /// <summary>Polls the API until the order reaches <paramref name="status"/> (or any terminal status, then fails).</summary>
    public async Task<OrderView> WaitForStatusAsync(string orderId, OrderStatus status, TimeSpan? timeout = null)
    {
        var deadline = DateTime.UtcNow + (timeout ?? TimeSpan.FromSeconds(30));
        OrderView order;
        do
        {
            order = await GetOrderAsync(orderId);
            if (order.Status == status)
            {
                return order;
            }
            if (order.Status.IsTerminal())
            {
                throw new InvalidOperationException($"Order {orderId} ended {order.Status} ({order.FailureReason}), expected {status}.");
            }
            await Task.Delay(25);
        }
        while (DateTime.UtcNow < deadline);
        throw new TimeoutException($"Order {orderId} is {order.Status}, expected {status}.");
    }

    /// <summary>Waits for the workflow's result through the Temporal client (this also lets the test server skip time).</summary>
    public async Task<OrderResult> ResultAsync(string orderId, string scenario)
    {
        var handle = Temporal.GetWorkflowHandle(Orders.Api.OrderEndpoints.WorkflowId(orderId));
        var result = await handle.GetResultAsync<OrderResult>().WaitAsync(TimeSpan.FromSeconds(60));
        await HistoryExport.SaveAsync(scenario, await handle.FetchHistoryAsync());
        return result;
    }
}

/// <summary>
/// Shipping slow enough (3 x 2 s) to act while it is in flight: a cancel reaches the activity at its next heartbeat,
/// and a loaded machine needs a few seconds from seeing Shipping to that.
/// </summary>
public sealed class SlowShippingEnvironment : EndToEndEnvironment
{
    protected override TimeSpan ShippingStageDuration => TimeSpan.FromSeconds(2);
}

/// <summary>Skipped when a real Temporal is used: the test relies on the test server's time skipping.</summary>
public sealed class TimeSkippingFactAttribute : FactAttribute
{
    public TimeSkippingFactAttribute()
    {
        if (EndToEndEnvironment.RealTemporalAddress is not null)
        {
            Skip = "Needs the test server's time skipping; against a real Temporal the approval timer would take 24 h.";
        }
    }
}

/// <summary>The end-to-end worker with an external payment gateway (answering after <see cref="Delay"/>).</summary>
public class GatewayEnvironment : EndToEndEnvironment
{
    public FakePaymentGateway Gateway { get; private set; } = null!;

    protected virtual TimeSpan Delay => TimeSpan.Zero;

    protected override async Task ConfigureAsync(Dictionary<string, string?> settings)
    {
        Gateway = await FakePaymentGateway.StartAsync(delay: Delay);
        settings["Payments:Endpoint"] = Gateway.Address.ToString();
    }

    public override async Task DisposeAsync()
    {
        await base.DisposeAsync();
        await Gateway.DisposeAsync();
    }
}

/// <summary>A payment gateway that takes <see cref="GatewayDelay"/> to answer each charge and refund.</summary>
public sealed class SlowGatewayEnvironment : GatewayEnvironment
{
    public static readonly TimeSpan GatewayDelay = TimeSpan.FromSeconds(1.5);

    protected override TimeSpan Delay => GatewayDelay;
}

using System.Diagnostics.Metrics;
using Temporalio.Exceptions;
using Temporalio.Testing;
using Worker.Orders.Telemetry;

namespace Worker.Tests.Activities;

/// <summary>
/// The business metrics the status writes record: once per change whatever the retries, since Temporal runs an
/// activity at least once (a retry after a commit must not count the order twice).
/// </summary>
public sealed class OrderMetricsTests(OrdersDatabase db) : IClassFixture<OrdersDatabase>
{
    private readonly ActivityEnvironment env = new();

    [Fact]
    public async Task Compensation_and_final_status_are_counted_once_when_their_activities_run_twice()
    {
        await using var harness = await ActivityHarness.CreateAsync(db, null);
        using var recorded = new Recorded(harness.Metrics.Meter);
        var order = await db.AddOrderAsync([new("TAMPER", 1)], OrderStatus.Reserved);

        for (var attempt = 0; attempt < 2; attempt++)
        {
            await env.RunAsync(() => harness.Activities.RecordOrderStatusAsync(new(order, OrderStatus.Compensating, "declined")));
        }
        for (var attempt = 0; attempt < 2; attempt++)
        {
            await env.RunAsync(() => harness.Activities.RecordOrderStatusAsync(new(order, OrderStatus.Failed, "declined")));
        }

        Assert.Equal(["orders.compensated", "orders.finished order.status=failed", "orders.duration order.status=failed"],
            recorded.Names);
    }

    [Fact]
    public async Task A_shipment_completes_the_order_once()
    {
        await using var harness = await ActivityHarness.CreateAsync(db, null);
        using var recorded = new Recorded(harness.Metrics.Meter);
        var order = await db.AddOrderAsync([new("TAMPER", 1)], OrderStatus.Charged);

        await env.RunAsync(() => harness.Activities.ShipOrderAsync(order));
        await env.RunAsync(() => harness.Activities.ShipOrderAsync(order));

        Assert.Equal(["orders.finished order.status=completed", "orders.duration order.status=completed"], recorded.Names);
    }

    [Fact]
    public void Activity_errors_are_classified_by_their_type_and_refusals_apart()
    {
        Assert.Equal((OrderErrors.PaymentDeclined, true), OrderActivityMetricsInterceptor.Classify(
            new ApplicationFailureException("no", OrderErrors.PaymentDeclined, nonRetryable: true)));
        Assert.Equal(("System.TimeoutException", false), OrderActivityMetricsInterceptor.Classify(new TimeoutException()));
    }

    /// <summary>What one meter's instruments record: instrument name and tags, in order.</summary>
    [Fact]
    public async Task The_approval_backlog_measures_an_order_from_its_creation_whatever_touched_it_since()
    {
        var metrics = TestMetrics.Create();
        var backlog = new ApprovalBacklog(metrics, db.DataSource,
            Microsoft.Extensions.Options.Options.Create(new OrdersOptions()), Microsoft.Extensions.Logging.Abstractions.NullLogger<ApprovalBacklog>.Instance);
        var order = await db.AddOrderAsync([new("TAMPER", 1)], OrderStatus.AwaitingApproval);
        // Waiting for five hours, and a retried step has just touched the row.
        await using (var command = db.DataSource.CreateCommand("UPDATE orders SET created_at = now() - interval '5 hours', updated_at = now() WHERE id = @id"))
        {
            command.Parameters.AddWithValue("id", order);
            await command.ExecuteNonQueryAsync();
        }

        await backlog.RefreshAsync();

        double? oldest = null;
        using var listener = new MeterListener
        {
            InstrumentPublished = (instrument, l) =>
            {
                if (instrument.Meter == metrics.Meter && instrument.Name == "orders.awaiting_approval.oldest")
                {
                    l.EnableMeasurementEvents(instrument);
                }
            },
        };
        listener.SetMeasurementEventCallback<double>((_, value, _, _) => oldest = value);
        listener.Start();
        listener.RecordObservableInstruments();
        Assert.True(oldest >= TimeSpan.FromHours(5).TotalSeconds, $"oldest wait reported: {oldest} s");
    }

    private sealed class Recorded : IDisposable
    {
        private readonly MeterListener listener = new();
        private readonly List<string> names = [];

        public Recorded(Meter meter)
        {
            listener.InstrumentPublished = (instrument, l) =>
            {
                if (instrument.Meter == meter)
                {
                    l.EnableMeasurementEvents(instrument);
                }
            };
            listener.SetMeasurementEventCallback<long>((i, _, tags, _) => Add(i, tags));
            listener.SetMeasurementEventCallback<double>((i, _, tags, _) => Add(i, tags));
            listener.Start();
        }

        public IReadOnlyList<string> Names
        {
            get
            {
                lock (names)
                {
                    return [.. names];
                }
            }
        }

        private void Add(Instrument instrument, ReadOnlySpan<KeyValuePair<string, object?>> tags)
        {
            var text = instrument.Name;
            foreach (var (key, value) in tags)
            {
                text += $" {key}={value}";
            }
            lock (names)
            {
                names.Add(text);
            }
        }

        public void Dispose() => listener.Dispose();
    }
}

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

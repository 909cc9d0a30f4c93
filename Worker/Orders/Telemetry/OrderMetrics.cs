using System.Diagnostics.Metrics;

namespace Worker.Orders.Telemetry;

/// <summary>
/// The order saga's business instruments (meter <see cref="MeterName"/>), exported with the process's other
/// metrics (<c>/metrics</c>, OTLP). Each is recorded where its event happens exactly once, never in workflow
/// code, which replays:
/// - <c>orders.started</c>: by the API when its insert created the order row (a repeated POST finds the row);
/// - <c>orders.compensated</c>, <c>orders.finished</c> and <c>orders.duration</c>: by the status writes of
///   <see cref="Persistence.FulfilmentStore"/>, from the status the row had before the write, read under the row
///   lock in the same statement: an activity retried after its write committed finds the new status already
///   there and records nothing;
/// - <c>orders.activity.failures</c>: by <see cref="OrderActivityMetricsInterceptor"/>, once per failed attempt;
/// - <c>orders.awaiting_approval</c> and <c>orders.awaiting_approval.oldest</c>: read from the database by
///   <see cref="ApprovalBacklog"/>; every replica reports the same global value (aggregate with <c>max</c>).
/// Prometheus names: <c>orders_started_total</c>, <c>orders_compensated_total</c>,
/// <c>orders_finished_total{order_status}</c>, <c>orders_duration_seconds</c> (histogram),
/// <c>orders_activity_failures_total{activity_type,error_type,order_refusal}</c>, <c>orders_awaiting_approval</c>,
/// <c>orders_awaiting_approval_oldest_seconds</c>, <c>orders_reconciled_total{action}</c> (by the stuck-order sweep,
/// <see cref="Reconciliation.StuckOrderReconciler"/>).
/// </summary>
public sealed class OrderMetrics
{
    /// <summary>Name of the meter that carries the order metrics.</summary>
    public const string MeterName = "Worker.Orders";

    /// <summary>
    /// Bucket boundaries of <c>orders.duration</c>, in seconds: an order runs a second or two, one awaiting
    /// approval up to its timeout (a day by default).
    /// </summary>
    internal static readonly double[] DurationBucketsSeconds =
        [0.25, 0.5, 1, 2, 5, 10, 30, 60, 300, 900, 3600, 4 * 3600, 12 * 3600, 24 * 3600, 48 * 3600];

    private readonly Counter<long> started;
    private readonly Counter<long> compensated;
    private readonly Counter<long> finished;
    private readonly Histogram<double> duration;
    private readonly Counter<long> activityFailures;
    private readonly Counter<long> reconciled;

    public OrderMetrics(IMeterFactory meterFactory)
    {
        ArgumentNullException.ThrowIfNull(meterFactory);
        Meter = meterFactory.Create(MeterName);
        started = Meter.CreateCounter<long>("orders.started", "{order}", "Orders accepted by the API (a new order id).");
        compensated = Meter.CreateCounter<long>("orders.compensated", "{order}",
            "Orders whose saga began undoing its steps (refund, release) after a decline, rejection, timeout or cancellation.");
        finished = Meter.CreateCounter<long>("orders.finished", "{order}",
            "Orders that reached a final status (order.status: completed, cancelled, rejected, failed).");
        duration = Meter.CreateHistogram("orders.duration", "s",
            "Time from an order's creation to its final status (order.status).",
            advice: new InstrumentAdvice<double> { HistogramBucketBoundaries = DurationBucketsSeconds });
        activityFailures = Meter.CreateCounter<long>("orders.activity.failures", "{failure}",
            "Failed activity attempts by activity.type and error.type; order.refusal is true for a business refusal "
            + "(out of stock, declined: non-retryable), false for an error Temporal retries.");
        reconciled = Meter.CreateCounter<long>("orders.reconciled", "{order}",
            "Orders the stuck-order sweep acted on (action: started, its workflow started; failed, its progress lost).");
    }

    /// <summary>The meter, for instruments that read their value (<see cref="ApprovalBacklog"/>).</summary>
    public Meter Meter { get; }

    internal void OrderStarted() => started.Add(1);

    internal void OrderReconciled(string action) => reconciled.Add(1, new KeyValuePair<string, object?>("action", action));

    /// <summary>Records an order's status change, given the status it had before (null: the write changed nothing).</summary>
    internal void StatusChanged(OrderStatus? previous, OrderView order)
    {
        if (previous is not { } before || before == order.Status)
        {
            return;
        }
        if (order.Status == OrderStatus.Compensating)
        {
            compensated.Add(1);
        }
        else if (order.Status.IsTerminal())
        {
            var status = new KeyValuePair<string, object?>("order.status", StatusName(order.Status));
            finished.Add(1, status);
            duration.Record(Math.Max(0, (order.UpdatedAt - order.CreatedAt).TotalSeconds), status);
        }
    }

    internal void ActivityFailed(string activityType, string errorType, bool refusal) =>
        activityFailures.Add(1,
            new KeyValuePair<string, object?>("activity.type", activityType),
            new KeyValuePair<string, object?>("error.type", errorType),
            new KeyValuePair<string, object?>("order.refusal", refusal));

    private static string StatusName(OrderStatus status) => status switch
    {
        OrderStatus.Completed => "completed",
        OrderStatus.Cancelled => "cancelled",
        OrderStatus.Rejected => "rejected",
        OrderStatus.Failed => "failed",
        _ => status.ToString().ToLowerInvariant(),
    };
}

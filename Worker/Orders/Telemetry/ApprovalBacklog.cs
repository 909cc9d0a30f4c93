using System.Diagnostics.Metrics;
using Microsoft.Extensions.Options;
using Npgsql;

namespace Worker.Orders.Telemetry;

/// <summary>
/// The gauges <c>orders.awaiting_approval</c> (how many orders wait for an approver) and
/// <c>orders.awaiting_approval.oldest</c> (how long the oldest has waited, 0 when none), read from the database.
/// Measured from the order's creation, which nothing changes afterwards: <c>updated_at</c> moves with every retried
/// step, which would make a stuck order look young. An order is reserved seconds after it is created, so the two
/// differ by those seconds (or err towards alerting early when the reservation itself was held up).
/// The database is the one place that knows every order: a count kept in each replica's memory would see only
/// the orders whose steps ran there and be lost on restart. So every replica reports the same global value:
/// aggregate with <c>max</c>, never <c>sum</c>.
/// An export (a scrape) reads the last value and, when it is older than <see cref="OrdersOptions.GaugeRefreshInterval"/>,
/// starts one query in the background: an export never waits for the database, and the query runs at most
/// once per interval per replica, only while something exports. The query scans the orders table (an index
/// on status would stop PostgreSQL's in-place (HOT) updates of every saga step, which is a worse price).
/// </summary>
public sealed partial class ApprovalBacklog
{
    private readonly NpgsqlDataSource dataSource;
    private readonly ILogger<ApprovalBacklog> logger;
    private readonly TimeSpan refreshInterval;
    private Backlog? last;
    private long refreshDueAt; // Environment.TickCount64
    private int refreshing;

    public ApprovalBacklog(
        OrderMetrics metrics, NpgsqlDataSource dataSource, IOptions<OrdersOptions> options, ILogger<ApprovalBacklog> logger)
    {
        ArgumentNullException.ThrowIfNull(metrics);
        ArgumentNullException.ThrowIfNull(options);
        this.dataSource = dataSource;
        this.logger = logger;
        refreshInterval = options.Value.GaugeRefreshInterval;
        metrics.Meter.CreateObservableGauge("orders.awaiting_approval", () => Observe(v => v.Count), "{order}",
            "Orders waiting for an approver now (the same global value on every replica: use max).");
        metrics.Meter.CreateObservableGauge("orders.awaiting_approval.oldest", () => Observe(v => v.OldestSeconds), "s",
            "How long the oldest order waiting for approval has existed; 0 when none waits (global: use max).");
    }

    private IEnumerable<Measurement<T>> Observe<T>(Func<Backlog, T> select) where T : struct
    {
        if (Environment.TickCount64 >= Interlocked.Read(ref refreshDueAt)
            && Interlocked.CompareExchange(ref refreshing, 1, 0) == 0)
        {
            _ = RefreshAsync();
        }
        return Volatile.Read(ref last) is { } value ? [new Measurement<T>(select(value))] : [];
    }

    /// <summary>Reads the backlog now (the background refresh, and tests).</summary>
    public async Task RefreshAsync()
    {
        try
        {
            await using var command = dataSource.CreateCommand("""
                SELECT count(*), COALESCE(EXTRACT(EPOCH FROM now() - min(created_at))::float8, 0)
                FROM orders WHERE status = 'AwaitingApproval'
                """);
            await using var reader = await command.ExecuteReaderAsync();
            await reader.ReadAsync();
            Volatile.Write(ref last, new Backlog(reader.GetInt64(0), reader.GetDouble(1)));
        }
        catch (Exception e) when (e is NpgsqlException or InvalidOperationException or TimeoutException or ObjectDisposedException)
        {
            // No value is better than a stale one: the gauges disappear, and a missing series is what alerts see.
            // (ObjectDisposedException: a refresh still running while the host stops.)
            Volatile.Write(ref last, null);
            LogReadFailed(logger, e);
        }
        finally
        {
            Interlocked.Exchange(ref refreshDueAt, Environment.TickCount64 + (long)refreshInterval.TotalMilliseconds);
            Volatile.Write(ref refreshing, 0);
        }
    }

    [LoggerMessage(Level = LogLevel.Warning, Message = "Could not read the orders awaiting approval for the metrics")]
    private static partial void LogReadFailed(ILogger logger, Exception exception);

    private sealed record Backlog(long Count, double OldestSeconds);
}

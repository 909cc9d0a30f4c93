namespace Worker.Orders;

/// <summary>Business settings of the order saga (section <c>Orders</c>).</summary>
public sealed class OrdersOptions
{
    public const string Section = "Orders";

    /// <summary>Orders whose total is at or above this wait for an approval signal.</summary>
    public decimal ApprovalThreshold { get; set; } = 1000m;

    /// <summary>How long an order waits for approval before it is cancelled.</summary>
    public TimeSpan ApprovalTimeout { get; set; } = TimeSpan.FromHours(24);

    /// <summary>How long a cached finished order lives in Redis.</summary>
    public TimeSpan CacheTtl { get; set; } = TimeSpan.FromMinutes(10);

    /// <summary>
    /// How long a cached order that is still moving lives in Redis: the longest a reader can see a stale status
    /// when the replica that changed the order could not reach Redis.
    /// </summary>
    public TimeSpan InFlightCacheTtl { get; set; } = TimeSpan.FromSeconds(5);

    /// <summary>
    /// Adds the demo catalogue (six products) at start, after the migrations; existing products are left alone.
    /// Turn it off where the catalogue is managed elsewhere.
    /// </summary>
    public bool SeedCatalogue { get; set; } = true;

    /// <summary>
    /// Keeps writing what builds from before schema migration 2 read, for a rollout from (or a rollback to) such a
    /// build while it runs beside this one: the payment token in new workflows' input as well as the database, and
    /// each order's view in their cache entry (<c>order:&lt;id&gt;</c>) as well as this build's. Off by default: the
    /// token then never enters Temporal's history (docs/rollouts.md, "Mixed versions").
    /// </summary>
    public bool KeepLegacyFormats { get; set; }

    /// <summary>How often the stuck-order sweep looks for Pending orders no workflow moves.</summary>
    public TimeSpan ReconcileInterval { get; set; } = TimeSpan.FromMinutes(1);

    /// <summary>How long an order may stay Pending before the sweep looks at it (a start is under way meanwhile).</summary>
    public TimeSpan ReconcileAfter { get; set; } = TimeSpan.FromMinutes(2);

    /// <summary>
    /// The oldest an order with no workflow may be for the sweep to start it; an older one is failed instead (its client
    /// may have ordered anew, and a history past Temporal's retention looks the same as none).
    /// </summary>
    public TimeSpan ReconcileWithin { get; set; } = TimeSpan.FromDays(1);

    /// <summary>Time spent in each shipping stage (picking, packing, handing to the carrier).</summary>
    public TimeSpan ShippingStageDuration { get; set; } = TimeSpan.FromSeconds(1);

    /// <summary>
    /// How old the value of the approval-backlog gauges may be before an export reads it again from the database
    /// (see <see cref="Telemetry.ApprovalBacklog"/>).
    /// </summary>
    public TimeSpan GaugeRefreshInterval { get; set; } = TimeSpan.FromSeconds(10);
}

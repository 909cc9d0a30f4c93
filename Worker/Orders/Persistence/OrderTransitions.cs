namespace Worker.Orders.Persistence;

/// <summary>
/// Which status changes an order row accepts, as SQL written into the saga's statements so the check and
/// the change are one atomic step:
/// - forward steps (reserve, approval wait, charge, ship, complete) move only an order that is neither being
///   compensated nor finished, so a late or restarted step can never undo a compensation; and they never
///   move it back along the saga (a restarted run's charge leaves a shipping order shipping);
/// - <see cref="OrderStatus.Compensating"/> and the final statuses apply to any unfinished order;
/// - a finished order (Completed, Cancelled, Rejected, Failed) never changes status again.
/// </summary>
internal static class OrderTransitions
{
    /// <summary>Sets the fields every change of an order row sets: the time, and the version the cache compares.</summary>
    public const string Touch = "updated_at = now(), version = orders.version + 1";

    /// <summary>The order has not finished.</summary>
    public static readonly string Unfinished = $"status NOT IN ({Quoted(Enum.GetValues<OrderStatus>().Where(s => s.IsTerminal()))})";

    /// <summary>The order has not finished and is not being compensated.</summary>
    public static readonly string Forward =
        $"status NOT IN ({Quoted(Enum.GetValues<OrderStatus>().Where(s => s.IsTerminal() || s == OrderStatus.Compensating))})";

    /// <summary>The forward statuses in saga order.</summary>
    private static readonly OrderStatus[] ForwardOrder =
        [OrderStatus.Pending, OrderStatus.Reserved, OrderStatus.AwaitingApproval, OrderStatus.Charged, OrderStatus.Shipping, OrderStatus.Completed];

    /// <summary>The predicate an order must satisfy to move to <paramref name="target"/>.</summary>
    public static string Into(OrderStatus target) => IsForward(target) ? Forward : Unfinished;

    /// <summary>
    /// The assignment that moves an order to <paramref name="target"/>: a forward status only raises the order's
    /// place in the saga's order; any other is set as it is (its guard is <see cref="Into"/>).
    /// </summary>
    public static string SetStatus(OrderStatus target) => IsForward(target)
        ? $"status = CASE WHEN array_position(ARRAY[{Quoted(ForwardOrder)}], status) < {Array.IndexOf(ForwardOrder, target) + 1} THEN '{target}' ELSE status END"
        : $"status = '{target}'";

    /// <summary>True when the order has passed the approval step (it is charged or further).</summary>
    public static bool IsPastApproval(OrderStatus status) => Array.IndexOf(ForwardOrder, status) >= Array.IndexOf(ForwardOrder, OrderStatus.Charged);

    private static bool IsForward(OrderStatus status) => ForwardOrder.Contains(status);

    private static string Quoted(IEnumerable<OrderStatus> statuses) => string.Join(", ", statuses.Select(s => $"'{s}'"));
}

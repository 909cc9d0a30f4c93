namespace Worker.Orders.Persistence;

/// <summary>
/// Which status changes an order row accepts, as SQL predicates on its current <c>status</c>. Written into
/// the saga's statements so the check and the change are one atomic step:
/// - forward steps (reserve, approval wait, charge, ship, complete) move only an order that is neither being
///   compensated nor finished, so a late or restarted step can never undo a compensation;
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

    /// <summary>The predicate an order must satisfy to move to <paramref name="target"/>.</summary>
    public static string Into(OrderStatus target) =>
        target.IsTerminal() || target == OrderStatus.Compensating ? Unfinished : Forward;

    private static string Quoted(IEnumerable<OrderStatus> statuses) => string.Join(", ", statuses.Select(s => $"'{s}'"));
}

namespace Worker.Orders;

/// <summary>
/// An order as the API shows it; also the cached representation. <see cref="Version"/> grows with every
/// change of the order, so a reader (and the cache) can tell which of two views is newer.
/// </summary>
public sealed record OrderView(
    string OrderId,
    OrderStatus Status,
    decimal? Total,
    string? FailureReason,
    IReadOnlyList<OrderLine> Lines,
    DateTimeOffset CreatedAt,
    DateTimeOffset UpdatedAt,
    long Version);

namespace Worker.Orders;

/// <summary>An order as the API shows it; also the cached representation.</summary>
public sealed record OrderView(
    string OrderId,
    OrderStatus Status,
    decimal? Total,
    string? FailureReason,
    IReadOnlyList<OrderLine> Lines,
    DateTimeOffset CreatedAt,
    DateTimeOffset UpdatedAt);

/// <summary>A product of the catalogue.</summary>
public sealed record Product(string Sku, string Name, decimal Price, int Stock);

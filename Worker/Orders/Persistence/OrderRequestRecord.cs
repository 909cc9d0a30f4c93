namespace Worker.Orders.Persistence;

/// <summary>The accepted request as stored with the order (the payment token is not stored).</summary>
public sealed record OrderRequestRecord(IReadOnlyList<OrderLine> Lines);

namespace Worker.Orders;

// The types that cross the workflow boundary are serialized into Temporal's history: renaming or removing a
// property changes what old histories replay into, so treat them as a wire format.

/// <summary>One product line of an order.</summary>
public sealed record OrderLine(string Sku, int Quantity);

/// <summary>
/// Everything the workflow needs, fixed at start so the workflow never reads configuration.
/// <see cref="PaymentToken"/> is null in workflows started by this version: the token stays in the database
/// (<c>payment_tokens</c>) and never enters Temporal's history. Workflows started by earlier versions carry it.
/// </summary>
public sealed record OrderInput(
    string OrderId,
    IReadOnlyList<OrderLine> Lines,
    string? PaymentToken,
    decimal ApprovalThreshold,
    TimeSpan ApprovalTimeout);

/// <summary>Lifecycle of an order, as stored in PostgreSQL and reported by the API (by name, in JSON too).</summary>
[System.Text.Json.Serialization.JsonConverter(typeof(System.Text.Json.Serialization.JsonStringEnumConverter<OrderStatus>))]
public enum OrderStatus
{
    Pending,
    Reserved,
    AwaitingApproval,
    Charged,
    Shipping,
    Completed,
    Compensating,
    Cancelled,
    Rejected,
    Failed,
}

public static class OrderStatusExtensions
{
    public static bool IsTerminal(this OrderStatus status) =>
        status is OrderStatus.Completed or OrderStatus.Cancelled or OrderStatus.Rejected or OrderStatus.Failed;
}

/// <summary>The workflow's result.</summary>
public sealed record OrderResult(string OrderId, OrderStatus Status, string? FailureReason);

/// <summary>Answer of the <c>GetStatus</c> query: where the saga is and when each step began.</summary>
public sealed record OrderProgress(
    string Step,
    OrderStatus Status,
    string? FailureReason,
    IReadOnlyDictionary<string, DateTime> StepStartedAt);

/// <summary>Input of <c>ReserveInventory</c>.</summary>
public sealed record ReserveInventoryInput(string OrderId, IReadOnlyList<OrderLine> Lines);

/// <summary>
/// Result of <c>ReserveInventory</c>: the order total at the prices reserved. <see cref="PastApproval"/> is true
/// when a restarted workflow finds the order already charged or further: it was approved before, so it is
/// not asked again.
/// </summary>
public sealed record Reservation(string OrderId, decimal Total, bool PastApproval = false);

/// <summary>Input of <c>ChargePayment</c>; a null token is read from the database (see <see cref="OrderInput"/>).</summary>
public sealed record ChargePaymentInput(string OrderId, string? PaymentToken, decimal Amount);

/// <summary>Result of <c>ChargePayment</c>.</summary>
public sealed record PaymentReceipt(string OrderId, decimal Amount, string Reference);

/// <summary>Result of <c>ShipOrder</c>.</summary>
public sealed record Shipment(string OrderId, string TrackingNumber);

/// <summary>
/// Input of <c>RecordOrderStatus</c>. With <see cref="OrderStatus.Compensating"/>, <paramref name="Outcome"/> is the final
/// status the compensation will record, kept with the order; <paramref name="EndsRecordedCompensation"/> records that
/// kept outcome instead of <paramref name="Status"/>, when there is one, so that a run finishing a compensation an
/// earlier run began ends it as that run would have. (Both added later: histories from before carry neither.)
/// </summary>
public sealed record OrderStatusUpdate(
    string OrderId, OrderStatus Status, string? Reason, OrderStatus? Outcome = null, bool EndsRecordedCompensation = false);

/// <summary>Error types raised as non-retryable application failures.</summary>
public static class OrderErrors
{
    public const string OutOfStock = "OutOfStock";
    public const string UnknownSku = "UnknownSku";
    public const string PaymentDeclined = "PaymentDeclined";
    public const string UnknownOrder = "UnknownOrder";

    /// <summary>A forward step met an order that is being compensated or has finished.</summary>
    public const string OrderClosed = "OrderClosed";

    /// <summary>The refusals the business makes, whose messages are written for customers and operators alike.</summary>
    public static bool IsBusinessRefusal(string? errorType) =>
        errorType is OutOfStock or UnknownSku or PaymentDeclined or UnknownOrder or OrderClosed;
}

namespace Worker.Orders.Persistence;

/// <summary>Raised for a business refusal that retrying cannot change (stock, unknown sku or order, a closed order).</summary>
public sealed class FulfilmentRefusedException(string errorType, string message, OrderStatus? orderStatus = null) : Exception(message)
{
    /// <summary>One of <see cref="OrderErrors"/>.</summary>
    public string ErrorType { get; } = errorType;

    /// <summary>For <see cref="OrderErrors.OrderClosed"/>: the status that closed the order to the step.</summary>
    public OrderStatus? OrderStatus { get; } = orderStatus;
}

namespace Worker.Orders.Persistence;

/// <summary>Raised for a business refusal that retrying cannot change (stock, unknown sku or order, a closed order).</summary>
public sealed class FulfilmentRefusedException(string errorType, string message) : Exception(message)
{
    /// <summary>One of <see cref="OrderErrors"/>.</summary>
    public string ErrorType { get; } = errorType;
}

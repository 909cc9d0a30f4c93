namespace Worker.Orders.Payments;

/// <summary>Raised when the gateway refuses a payment (HTTP 402): retrying cannot change it.</summary>
public sealed class PaymentDeclinedException(string message) : Exception(message);

using Worker.Orders.Persistence;

namespace Worker.Orders.Payments;

/// <summary>
/// The payment gateway of a demo or a test environment, used when no <c>Payments:Endpoint</c> is set: nothing
/// leaves the process, the ledger row is the payment, and the token <see cref="DeclinedPaymentToken"/> is
/// declined so that anyone can try the compensation path.
/// </summary>
public sealed class LedgerPaymentGateway : IPaymentGateway
{
    /// <summary>Payment token that payment sandboxes decline.</summary>
    public const string DeclinedPaymentToken = "tok_decline";

    public bool IsExternal => false;

    public Task<string> ChargeAsync(string orderId, decimal amount, string? paymentToken, CancellationToken cancellationToken) =>
        paymentToken == DeclinedPaymentToken
            ? Task.FromException<string>(new PaymentDeclinedException($"Payment declined for order {orderId}"))
            : Task.FromResult($"ledger-{orderId}");

    /// <summary>Nothing was charged outside the ledger, and the ledger's refund row is recorded by the activity.</summary>
    public Task RefundAsync(string orderId, ChargeRecord charge, CancellationToken cancellationToken) => Task.CompletedTask;
}

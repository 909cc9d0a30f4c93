using Worker.Orders.Persistence;

namespace Worker.Orders.Payments;

/// <summary>
/// Takes the money for an order. <see cref="HttpPaymentGateway"/> when <c>Payments:Endpoint</c> is set;
/// otherwise <see cref="LedgerPaymentGateway"/>, where the ledger row is the whole payment.
/// </summary>
public interface IPaymentGateway
{
    /// <summary>
    /// True when money moves outside this database: a charge is then recorded as pending before the gateway is
    /// called (so a refund finds it whatever happens next), and refunds go to the gateway.
    /// </summary>
    bool IsExternal { get; }

    /// <summary>Charges the amount; returns the reference the ledger records. A refusal is a <see cref="PaymentDeclinedException"/>.</summary>
    Task<string> ChargeAsync(string orderId, decimal amount, string? paymentToken, CancellationToken cancellationToken);

    /// <summary>Undoes the order's charge, pending or settled.</summary>
    Task RefundAsync(string orderId, ChargeRecord charge, CancellationToken cancellationToken);
}

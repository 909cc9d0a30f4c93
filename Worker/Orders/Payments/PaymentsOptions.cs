namespace Worker.Orders.Payments;

/// <summary>Settings of the external payment gateway (section <c>Payments</c>).</summary>
public sealed class PaymentsOptions
{
    public const string Section = "Payments";

    /// <summary>Base address of the gateway; when unset, payments are recorded in the ledger only.</summary>
    public Uri? Endpoint { get; set; }

    /// <summary>Secret sent as a bearer token.</summary>
    public string? ApiKey { get; set; }
}

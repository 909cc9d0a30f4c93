namespace Worker.Orders.Persistence;

/// <summary>A charge in the ledger. A pending one was recorded before the gateway was called and never confirmed.</summary>
public sealed record ChargeRecord(decimal Amount, string Reference, bool Settled);

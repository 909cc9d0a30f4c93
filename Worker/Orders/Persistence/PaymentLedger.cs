using Npgsql;
using static Worker.Orders.Persistence.OrderTransitions;

namespace Worker.Orders.Persistence;

/// <summary>
/// The payment side of the saga: payment tokens, charges and refunds. At most one charge and one refund per
/// order (the table's key makes retries harmless); an order's net charge is the sum of its amounts.
/// With a payment gateway a charge is written as pending before the gateway is called and settled after it
/// answered, so that whatever happens between the two, a refund finds the charge.
/// </summary>
public sealed class PaymentLedger(NpgsqlDataSource dataSource)
{
    /// <summary>The order's payment token; null once the charge settled or the order finished.</summary>
    public async Task<string?> FindTokenAsync(string orderId, CancellationToken cancellationToken)
    {
        await using var command = OrderRows.Command(
            dataSource.CreateCommand("SELECT token FROM payment_tokens WHERE order_id = @id"), [("id", orderId)]);
        return await command.ExecuteScalarAsync(cancellationToken) as string;
    }

    /// <summary>
    /// The charge, pending or settled, of an order that has not finished: what a compensation may refund.
    /// A finished order's charge stays (a late compensation must not refund a completed order).
    /// </summary>
    public async Task<ChargeRecord?> FindRefundableChargeAsync(string orderId, CancellationToken cancellationToken)
    {
        await using var command = OrderRows.Command(dataSource.CreateCommand($"""
            SELECT p.amount, p.reference, p.state = 'settled'
            FROM payments p JOIN orders ON orders.id = p.order_id
            WHERE p.order_id = @id AND p.kind = 'charge' AND {Unfinished}
            """), [("id", orderId)]);
        await using var reader = await command.ExecuteReaderAsync(cancellationToken);
        return await reader.ReadAsync(cancellationToken)
            ? new ChargeRecord(reader.GetDecimal(0), reader.GetString(1), reader.GetBoolean(2))
            : null;
    }

    /// <summary>
    /// Records the charge as pending before the gateway is called, unless the order is closed to charging.
    /// Returns the charge as it now stands: a retry after the charge settled gets the settled charge back.
    /// </summary>
    public Task<ChargeRecord> BeginChargeAsync(string orderId, decimal amount, string idempotencyKey, CancellationToken cancellationToken) =>
        OrderRows.StatementAsync(dataSource, orderId, $"""
            WITH open AS (
                SELECT id FROM orders WHERE id = @id AND {Forward} FOR UPDATE),
            inserted AS (
                INSERT INTO payments (order_id, kind, amount, reference, state)
                SELECT id, 'charge', @amount, @key, 'pending' FROM open
                ON CONFLICT (order_id, kind) DO NOTHING
                RETURNING amount, reference, state)
            SELECT COALESCE(i.amount, p.amount), COALESCE(i.reference, p.reference), COALESCE(i.state, p.state) = 'settled'
            FROM open
            LEFT JOIN inserted i ON true
            LEFT JOIN payments p ON p.order_id = open.id AND p.kind = 'charge'
            """, reader => new ChargeRecord(reader.GetDecimal(0), reader.GetString(1), reader.GetBoolean(2)), cancellationToken,
            ("id", orderId), ("amount", amount), ("key", idempotencyKey));

    /// <summary>Removes a pending charge the gateway declined: nothing was charged, so nothing is to be refunded.</summary>
    public async Task AbandonPendingChargeAsync(string orderId, CancellationToken cancellationToken)
    {
        await using var command = OrderRows.Command(dataSource.CreateCommand(
            "DELETE FROM payments WHERE order_id = @id AND kind = 'charge' AND state = 'pending'"), [("id", orderId)]);
        await command.ExecuteNonQueryAsync(cancellationToken);
    }

    /// <summary>
    /// Records the charge as settled (inserting it, or confirming the pending one), marks the order charged and
    /// deletes its payment token; refused when the order is closed to charging. A retry gets the first
    /// settlement's receipt back.
    /// </summary>
    public Task<(PaymentReceipt Receipt, OrderView Order)> SettleChargeAsync(
        string orderId, decimal amount, string reference, CancellationToken cancellationToken) =>
        // One statement: the final SELECT sees the ledger as it was before the insert, so a retry gets the
        // charge settled by the first attempt and a first attempt gets the row it wrote.
        OrderRows.StatementAsync(dataSource, orderId, $"""
            WITH o AS (
                UPDATE orders SET {SetStatus(OrderStatus.Charged)}, failure_reason = NULL, {Touch} WHERE id = @id AND {Forward}
                RETURNING {OrderStore.ViewColumns}),
            settled AS (
                INSERT INTO payments (order_id, kind, amount, reference, state)
                SELECT id, 'charge', @amount, @reference, 'settled' FROM o
                ON CONFLICT (order_id, kind) DO UPDATE SET reference = EXCLUDED.reference, state = 'settled'
                    WHERE payments.state = 'pending'
                RETURNING amount, reference),
            token AS (
                DELETE FROM payment_tokens WHERE order_id IN (SELECT id FROM o))
            SELECT o.*, COALESCE(s.amount, p.amount), COALESCE(s.reference, p.reference)
            FROM o
            LEFT JOIN settled s ON true
            LEFT JOIN payments p ON p.order_id = o.id AND p.kind = 'charge'
            """, reader => (new PaymentReceipt(orderId, reader.GetDecimal(8), reader.GetString(9)), OrderStore.ReadView(reader)),
            cancellationToken, ("id", orderId), ("amount", amount), ("reference", reference));

    /// <summary>
    /// Adds the refund that cancels the order's charge, pending or settled; nothing when there is no charge, a
    /// refund exists, or the order has finished.
    /// </summary>
    public Task<OrderView> RecordRefundAsync(string orderId, CancellationToken cancellationToken) =>
        OrderRows.StatementAsync(dataSource, orderId, $"""
            WITH open AS (
                UPDATE orders SET {Touch} WHERE id = @id AND {Unfinished} RETURNING {OrderStore.ViewColumns}),
            refund AS (
                INSERT INTO payments (order_id, kind, amount, reference)
                SELECT order_id, 'refund', -amount, reference FROM payments
                WHERE order_id IN (SELECT id FROM open) AND kind = 'charge'
                ON CONFLICT (order_id, kind) DO NOTHING)
            {OrderRows.ChangedOrCurrent("open")}
            """, cancellationToken, ("id", orderId));
}

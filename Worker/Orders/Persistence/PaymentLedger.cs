using Npgsql;
using static Worker.Orders.Persistence.OrderTransitions;

namespace Worker.Orders.Persistence;

/// <summary>
/// The payment side of the saga: payment tokens, charges and refunds. The ledger (<c>payments</c>) holds money that
/// moved: at most one charge and one refund per order (the table's key makes retries harmless), and an order's net
/// charge is the sum of its amounts. With a payment gateway a charge is first written to <c>pending_charges</c>,
/// before the gateway is called, and moves to the ledger once the gateway answered, so that whatever happens between
/// the two, a refund finds the charge; a build that reads only the ledger never takes it for money received.
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
        // A settled charge in the ledger first; else one in flight at the gateway (payments rows with state 'pending'
        // come from the builds between migrations 2 and 3, which kept charges in flight there).
        await using var command = OrderRows.Command(dataSource.CreateCommand($"""
            SELECT c.amount, c.reference, c.settled
            FROM (SELECT amount, reference, state = 'settled' AS settled, 0 AS rank FROM payments WHERE order_id = @id AND kind = 'charge'
                  UNION ALL
                  SELECT amount, idempotency_key, false, 1 FROM pending_charges WHERE order_id = @id) c
            JOIN orders ON orders.id = @id AND {Unfinished}
            ORDER BY c.rank
            LIMIT 1
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
            charged AS (
                SELECT amount, reference, state = 'settled' AS settled FROM payments
                WHERE order_id IN (SELECT id FROM open) AND kind = 'charge'),
            begun AS (
                INSERT INTO pending_charges (order_id, amount, idempotency_key)
                SELECT id, @amount, @key FROM open WHERE NOT EXISTS (SELECT 1 FROM charged)
                ON CONFLICT (order_id) DO NOTHING
                RETURNING amount, idempotency_key)
            SELECT COALESCE(c.amount, b.amount, pc.amount), COALESCE(c.reference, b.idempotency_key, pc.idempotency_key),
                   COALESCE(c.settled, false)
            FROM open
            LEFT JOIN charged c ON true
            LEFT JOIN begun b ON true
            LEFT JOIN pending_charges pc ON pc.order_id = open.id
            """, reader => new ChargeRecord(reader.GetDecimal(0), reader.GetString(1), reader.GetBoolean(2)), cancellationToken,
            ("id", orderId), ("amount", amount), ("key", idempotencyKey));

    /// <summary>Removes a pending charge the gateway declined: nothing was charged, so nothing is to be refunded.</summary>
    public async Task AbandonPendingChargeAsync(string orderId, CancellationToken cancellationToken)
    {
        await using var command = OrderRows.Command(dataSource.CreateCommand("""
            DELETE FROM pending_charges WHERE order_id = @id;
            DELETE FROM payments WHERE order_id = @id AND kind = 'charge' AND state = 'pending';
            """), [("id", orderId)]);
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
                INSERT INTO payments (order_id, kind, amount, reference)
                SELECT id, 'charge', @amount, @reference FROM o
                ON CONFLICT (order_id, kind) DO UPDATE SET reference = EXCLUDED.reference, state = 'settled'
                    WHERE payments.state = 'pending'
                RETURNING amount, reference),
            confirmed AS (
                DELETE FROM pending_charges WHERE order_id IN (SELECT id FROM o)),
            token AS (
                DELETE FROM payment_tokens WHERE order_id IN (SELECT id FROM o))
            SELECT o.*, COALESCE(s.amount, p.amount), COALESCE(s.reference, p.reference)
            FROM o
            LEFT JOIN settled s ON true
            LEFT JOIN payments p ON p.order_id = o.id AND p.kind = 'charge'
            """, reader => (new PaymentReceipt(orderId, reader.GetDecimal(8), reader.GetString(9)), OrderStore.ReadView(reader)),
            cancellationToken, ("id", orderId), ("amount", amount), ("reference", reference));

    /// <summary>
    /// Records that the order's charge was refunded at the gateway: a ledger charge gets the refund that cancels
    /// it, a charge still in flight is dropped (no money moved for it in the ledger); nothing when there is no
    /// charge, a refund exists, or the order has finished.
    /// </summary>
    public Task<OrderView> RecordRefundAsync(string orderId, CancellationToken cancellationToken) =>
        OrderRows.StatementAsync(dataSource, orderId, $"""
            WITH open AS (
                UPDATE orders SET {Touch} WHERE id = @id AND {Unfinished} RETURNING {OrderStore.ViewColumns}),
            refund AS (
                INSERT INTO payments (order_id, kind, amount, reference)
                SELECT order_id, 'refund', -amount, reference FROM payments
                WHERE order_id IN (SELECT id FROM open) AND kind = 'charge'
                ON CONFLICT (order_id, kind) DO NOTHING),
            unconfirmed AS (
                DELETE FROM pending_charges WHERE order_id IN (SELECT id FROM open))
            {OrderRows.ChangedOrCurrent("open")}
            """, cancellationToken, ("id", orderId));
}

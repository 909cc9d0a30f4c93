using Npgsql;
using Worker.Orders.Telemetry;
using static Worker.Orders.Persistence.OrderTransitions;

namespace Worker.Orders.Persistence;

/// <summary>
/// The database side of the saga's stock, shipping and status steps (payments: <see cref="PaymentLedger"/>).
/// Every method is one transaction and idempotent: a second call for the same order finds the first call's
/// rows and changes nothing, which makes Temporal's at-least-once activity execution safe. Each returns the
/// order as it is after the step, for the cache. Status changes obey <see cref="OrderTransitions"/>: a
/// forward step on an order that is being compensated or has finished is refused (non-retryable), and a
/// status record on a finished order changes nothing.
/// Round trips are paid by every order, so most steps are one statement (data-modifying CTEs, atomic
/// without an explicit transaction); the two multi-statement steps run in a transaction whose first
/// statement locks the order row (or the shipment row) and so proves the order exists.
/// The steps that move an order to <c>Compensating</c> or a final status record it in <see cref="OrderMetrics"/>
/// when they changed the status, which happens once per order whatever the retries.
/// </summary>
public sealed class FulfilmentStore(NpgsqlDataSource dataSource, OrderMetrics metrics)
{
    /// <summary>
    /// Reserves every line or none; returns the total at reserved prices, and whether the order is already past
    /// approval (a restarted workflow that finds its order charged or further).
    /// </summary>
    public async Task<(decimal Total, bool PastApproval, OrderView Order)> ReserveAsync(
        string orderId, IReadOnlyList<OrderLine> lines, CancellationToken cancellationToken)
    {
        var (total, pastApproval, order, closedFrom) = await ReserveOrCloseAsync(orderId, lines, cancellationToken);
        if (closedFrom is not null)
        {
            metrics.StatusChanged(closedFrom, order); // counted once: the statement that changed the status
            throw OrderRows.Closed(orderId, nameof(OrderStatus.Compensating));
        }
        return (total, pastApproval, order);
    }

    /// <summary>
    /// Reserves, or, when an earlier run began compensating the order without recording Compensating (the saga
    /// before the cancel-safe-saga patch, and builds before it: a refund, then the release, then the final status),
    /// records Compensating now and says so: its stock released or its charge refunded, the order must not go
    /// forward again (it would ship with its charge refunded), and the run that meets it finishes the compensation.
    /// </summary>
    private Task<(decimal Total, bool PastApproval, OrderView Order, OrderStatus? ClosedFrom)> ReserveOrCloseAsync(
        string orderId, IReadOnlyList<OrderLine> lines, CancellationToken cancellationToken) =>
        InTransactionAsync<(decimal, bool, OrderView, OrderStatus?)>(async (connection, transaction) =>
        {
            // Locks the order, proves it exists, and finds its status, an earlier reservation still held, and whether
            // a compensation began (stock released or a refund), in one round trip.
            await using var locked = Command(connection, transaction, """
                SELECT status,
                       ARRAY(SELECT sum(quantity * unit_price) FROM reservations r
                             WHERE r.order_id = orders.id AND r.released_at IS NULL HAVING count(*) > 0),
                       EXISTS (SELECT 1 FROM reservations r WHERE r.order_id = orders.id AND r.released_at IS NOT NULL)
                       OR EXISTS (SELECT 1 FROM payments p WHERE p.order_id = orders.id AND p.kind = 'refund')
                FROM orders WHERE id = @id FOR UPDATE
                """, ("id", orderId));
            string status;
            decimal[] existing;
            bool compensationBegun;
            await using (var reader = await locked.ExecuteReaderAsync(cancellationToken))
            {
                if (!await reader.ReadAsync(cancellationToken))
                {
                    throw OrderRows.Unknown(orderId);
                }
                (status, existing, compensationBegun) = (reader.GetString(0), reader.GetFieldValue<decimal[]>(1), reader.GetBoolean(2));
            }
            if (Enum.Parse<OrderStatus>(status) is var current && (current.IsTerminal() || current == OrderStatus.Compensating))
            {
                throw OrderRows.Closed(orderId, status);
            }
            if (compensationBegun)
            {
                return (0m, false, await ReadViewAsync(connection, transaction,
                    $"UPDATE orders SET status = '{OrderStatus.Compensating}', {Touch} WHERE id = @id RETURNING {OrderStore.ViewColumns}",
                    cancellationToken, ("id", orderId)), (OrderStatus?)current);
            }
            if (existing.Length > 0)
            {
                // A retry (or a restarted workflow): the stock was taken by the first attempt.
                return (existing[0], IsPastApproval(current), await ReadViewAsync(connection, transaction,
                    $"UPDATE orders SET {Touch} WHERE id = @id RETURNING {OrderStore.ViewColumns}", cancellationToken, ("id", orderId)), null);
            }
            var total = 0m;
            // Sorted so that concurrent orders lock product rows in the same order and cannot deadlock.
            foreach (var line in lines.GroupBy(l => l.Sku, StringComparer.Ordinal)
                         .Select(g => new OrderLine(g.Key, g.Sum(l => l.Quantity)))
                         .OrderBy(l => l.Sku, StringComparer.Ordinal))
            {
                var price = await ScalarAsync<decimal?>(connection, transaction, """
                    WITH taken AS (
                        UPDATE products SET stock = stock - @qty WHERE sku = @sku AND stock >= @qty RETURNING price)
                    INSERT INTO reservations (order_id, sku, quantity, unit_price)
                    SELECT @id, @sku, @qty, price FROM taken
                    RETURNING unit_price
                    """, cancellationToken, ("id", orderId), ("qty", line.Quantity), ("sku", line.Sku));
                if (price is null)
                {
                    var known = await ScalarAsync<bool?>(connection, transaction,
                        "SELECT true FROM products WHERE sku = @sku", cancellationToken, ("sku", line.Sku));
                    throw known is null
                        ? new FulfilmentRefusedException(OrderErrors.UnknownSku, $"Unknown sku {line.Sku}")
                        : new FulfilmentRefusedException(OrderErrors.OutOfStock, $"Out of stock: {line.Sku} x{line.Quantity}");
                }
                total += price.Value * line.Quantity;
            }
            return (total, false, await ReadViewAsync(connection, transaction, $"""
                UPDATE orders SET {SetStatus(OrderStatus.Reserved)}, failure_reason = NULL, total = @total, {Touch}
                WHERE id = @id RETURNING {OrderStore.ViewColumns}
                """, cancellationToken, ("id", orderId), ("total", total)), null);
        }, cancellationToken);

    /// <summary>
    /// Returns reserved stock; a second call finds nothing left to release. A finished order keeps its
    /// reservation: a compensation that arrives after the order was completed must not restock shipped goods.
    /// </summary>
    public Task<OrderView> ReleaseAsync(string orderId, CancellationToken cancellationToken) =>
        OrderRows.StatementAsync(dataSource, orderId, $"""
            WITH open AS (
                UPDATE orders SET {Touch} WHERE id = @id AND {Unfinished} RETURNING {OrderStore.ViewColumns}),
            released AS (
                UPDATE reservations SET released_at = now()
                WHERE order_id IN (SELECT id FROM open) AND released_at IS NULL
                RETURNING sku, quantity),
            restocked AS (
                UPDATE products p SET stock = p.stock + r.quantity FROM released r WHERE p.sku = r.sku)
            {OrderRows.ChangedOrCurrent("open")}
            """, cancellationToken, ("id", orderId));

    /// <summary>
    /// Creates the shipment (or reopens a cancelled one) and returns the stage it has reached and its
    /// tracking number when it was shipped already.
    /// </summary>
    public Task<(int Stage, string? TrackingNumber, OrderView Order)> StartShipmentAsync(
        string orderId, CancellationToken cancellationToken) =>
        InTransactionAsync(async (connection, transaction) =>
        {
            // The shipment row comes first: it locks the shipment, and its foreign key proves the order exists.
            await using var command = Command(connection, transaction, """
                INSERT INTO shipments (order_id, status) VALUES (@id, 'InProgress')
                ON CONFLICT (order_id) DO UPDATE
                    SET status = CASE WHEN shipments.status = 'Cancelled' THEN 'InProgress' ELSE shipments.status END,
                        updated_at = now()
                RETURNING stage, tracking_number
                """, ("id", orderId));
            int stage;
            string? tracking;
            try
            {
                await using var reader = await command.ExecuteReaderAsync(cancellationToken);
                await reader.ReadAsync(cancellationToken);
                stage = reader.GetInt32(0);
                tracking = reader.IsDBNull(1) ? null : reader.GetString(1);
            }
            catch (PostgresException e) when (e.SqlState == PostgresErrorCodes.ForeignKeyViolation)
            {
                throw OrderRows.Unknown(orderId);
            }
            if (tracking is not null)
            {
                return (stage, (string?)tracking, await ReadViewAsync(connection, transaction,
                    $"UPDATE orders SET {Touch} WHERE id = @id RETURNING {OrderStore.ViewColumns}", cancellationToken, ("id", orderId)));
            }
            var order = await TryReadViewAsync(connection, transaction, $"""
                UPDATE orders SET {SetStatus(OrderStatus.Shipping)}, failure_reason = NULL, {Touch} WHERE id = @id AND {Forward}
                RETURNING {OrderStore.ViewColumns}
                """, cancellationToken, ("id", orderId));
            // The transaction is rolled back with the refusal, so the shipment row is not kept either.
            return (stage, (string?)null, order ?? throw await OrderRows.RefusalAsync(dataSource, orderId, cancellationToken));
        }, cancellationToken);

    /// <summary>Marks the shipment handed to the carrier (all stages done) and the order completed.</summary>
    public async Task<OrderView> CompleteShipmentAsync(string orderId, int stages, string trackingNumber, CancellationToken cancellationToken)
    {
        // The guard admits only an unfinished order, so a row back means this statement completed it.
        var order = await OrderRows.StatementAsync(dataSource, orderId, $"""
            WITH completed AS (
                UPDATE orders SET {SetStatus(OrderStatus.Completed)}, failure_reason = NULL, {Touch} WHERE id = @id AND {Forward}
                RETURNING {OrderStore.ViewColumns}),
            shipped AS (
                UPDATE shipments SET status = 'Shipped', stage = @stage, tracking_number = COALESCE(tracking_number, @tracking),
                    updated_at = now()
                WHERE order_id IN (SELECT id FROM completed))
            SELECT * FROM completed
            """, cancellationToken, ("id", orderId), ("stage", stages), ("tracking", trackingNumber));
        metrics.StatusChanged(OrderStatus.Shipping, order);
        return order;
    }

    /// <summary>Marks an unfinished shipment cancelled at the stage it reached (a shipped one stays shipped).</summary>
    public async Task CancelShipmentAsync(string orderId, int stage, CancellationToken cancellationToken)
    {
        await using var command = OrderRows.Command(dataSource.CreateCommand(
            "UPDATE shipments SET status = 'Cancelled', stage = @stage, updated_at = now() WHERE order_id = @id AND status <> 'Shipped'"),
            [("id", orderId), ("stage", stage)]);
        await command.ExecuteNonQueryAsync(cancellationToken);
    }

    /// <summary>
    /// Sets the order's status, and its reason when one is given, as far as <see cref="OrderTransitions"/>
    /// allows, and otherwise returns the order unchanged: a compensation's final record is retried until it
    /// succeeds, so it must not fail on an order that has already finished. The caller reads the status the
    /// order has afterwards. A final status also deletes the order's payment token. Compensating keeps the outcome
    /// the compensation is for (the first one recorded); a record that ends a recorded compensation sets that
    /// outcome instead of its own status, when there is one.
    /// The row is read under the lock the update takes anyway: FOR UPDATE waits for a concurrent change and then
    /// reads its result, so a change is seen, and counted, by one statement only, and an order that another
    /// transaction finished meanwhile is reported finished (the statement's own snapshot would still show it as it
    /// was when the statement began, and the saga would undo steps of a completed order).
    /// </summary>
    public async Task<OrderView> RecordStatusAsync(OrderStatusUpdate update, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(update);
        var (orderId, status, reason) = (update.OrderId, update.Status, update.Reason);
        var set = update.EndsRecordedCompensation && status.IsTerminal()
            ? $"status = COALESCE(compensation_outcome, '{status}')"
            : SetStatus(status);
        if (status == OrderStatus.Compensating && update.Outcome is { } outcome && outcome.IsTerminal())
        {
            set += $", compensation_outcome = COALESCE(compensation_outcome, '{outcome}')";
        }
        var (order, previous) = await OrderRows.StatementAsync(dataSource, orderId, $"""
            WITH locked AS (
                SELECT {Renamed("locked_")} FROM orders WHERE id = @id FOR UPDATE),
            changed AS (
                UPDATE orders SET {set}, failure_reason = COALESCE(@reason, failure_reason), {Touch}
                FROM locked
                WHERE id = @id AND {Into(status)}
                RETURNING {OrderStore.ViewColumns}, locked_status),
            token AS (
                DELETE FROM payment_tokens WHERE order_id IN (SELECT id FROM changed) AND @final)
            SELECT * FROM changed
            UNION ALL
            SELECT {Prefixed("locked_")}, NULL FROM locked WHERE NOT EXISTS (SELECT 1 FROM changed)
            """, reader => (OrderStore.ReadView(reader), reader.IsDBNull(8) ? (OrderStatus?)null : Enum.Parse<OrderStatus>(reader.GetString(8))),
            cancellationToken, ("id", orderId), ("reason", (object?)reason ?? DBNull.Value), ("final", status.IsTerminal()));
        metrics.StatusChanged(previous, order);
        return order;
    }

    /// <summary>
    /// Ends an order that never started (a cancel that found no workflow, the stuck-order sweep) with a final
    /// <paramref name="status"/>: only a Pending order, which holds nothing to undo (reserving is the saga's first
    /// step). Returns the order as it is after, or null when it was no longer Pending.
    /// </summary>
    public async Task<OrderView?> EndUnstartedAsync(string orderId, OrderStatus status, string reason, CancellationToken cancellationToken)
    {
        if (!status.IsTerminal())
        {
            throw new ArgumentException($"{status} is not a final status.", nameof(status));
        }
        await using var command = OrderRows.Command(dataSource.CreateCommand($"""
            WITH ended AS (
                UPDATE orders SET status = '{status}', failure_reason = @reason, {Touch}
                WHERE id = @id AND status = '{OrderStatus.Pending}'
                RETURNING {OrderStore.ViewColumns}),
            token AS (
                DELETE FROM payment_tokens WHERE order_id IN (SELECT id FROM ended))
            SELECT * FROM ended
            """), [("id", orderId), ("reason", reason)]);
        await using var reader = await command.ExecuteReaderAsync(cancellationToken);
        if (!await reader.ReadAsync(cancellationToken))
        {
            return null;
        }
        var order = OrderStore.ReadView(reader);
        metrics.StatusChanged(OrderStatus.Pending, order);
        return order;
    }

    /// <summary>The view's columns renamed with <paramref name="prefix"/>, so that a joined copy of the row is never ambiguous.</summary>
    private static string Renamed(string prefix) =>
        string.Join(", ", OrderStore.ViewColumns.Split(", ").Select(column => $"{column} AS {prefix}{column}"));

    /// <summary>The view's columns under the names <see cref="Renamed"/> gave them.</summary>
    private static string Prefixed(string prefix) =>
        string.Join(", ", OrderStore.ViewColumns.Split(", ").Select(column => prefix + column));

    private async Task<T> InTransactionAsync<T>(
        Func<NpgsqlConnection, NpgsqlTransaction, Task<T>> work, CancellationToken cancellationToken)
    {
        await using var connection = await dataSource.OpenConnectionAsync(cancellationToken);
        await using var transaction = await connection.BeginTransactionAsync(cancellationToken);
        var result = await work(connection, transaction);
        await transaction.CommitAsync(cancellationToken);
        return result;
    }

    private static async Task<OrderView?> TryReadViewAsync(
        NpgsqlConnection connection, NpgsqlTransaction transaction, string sql, CancellationToken cancellationToken,
        params (string Name, object Value)[] parameters)
    {
        await using var command = Command(connection, transaction, sql, parameters);
        await using var reader = await command.ExecuteReaderAsync(cancellationToken);
        return await reader.ReadAsync(cancellationToken) ? OrderStore.ReadView(reader) : null;
    }

    private static async Task<OrderView> ReadViewAsync(
        NpgsqlConnection connection, NpgsqlTransaction transaction, string sql, CancellationToken cancellationToken,
        params (string Name, object Value)[] parameters) =>
        await TryReadViewAsync(connection, transaction, sql, cancellationToken, parameters)
        ?? throw new InvalidOperationException("The order row locked by this transaction disappeared.");

    private static async Task<T?> ScalarAsync<T>(
        NpgsqlConnection connection, NpgsqlTransaction transaction, string sql, CancellationToken cancellationToken,
        params (string Name, object Value)[] parameters)
    {
        await using var command = Command(connection, transaction, sql, parameters);
        var value = await command.ExecuteScalarAsync(cancellationToken);
        return value is null or DBNull ? default : (T)value;
    }

    private static NpgsqlCommand Command(
        NpgsqlConnection connection, NpgsqlTransaction transaction, string sql, params (string Name, object Value)[] parameters) =>
        OrderRows.Command(new NpgsqlCommand(sql, connection, transaction), parameters);
}

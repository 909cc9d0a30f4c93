using Npgsql;

namespace Worker.Orders.Persistence;

/// <summary>Raised for a business refusal that retrying cannot change (stock, unknown sku or order).</summary>
public sealed class FulfilmentRefusedException(string errorType, string message) : Exception(message)
{
    /// <summary>One of <see cref="OrderErrors"/>.</summary>
    public string ErrorType { get; } = errorType;
}

/// <summary>
/// The database side of each saga step. Every method is one transaction and idempotent: a second call for
/// the same order finds the first call's rows and changes nothing, which makes Temporal's at-least-once
/// activity execution safe. Each returns the order as it is after the step, for the cache.
/// Round trips are paid by every order, so most steps are one statement (data-modifying CTEs, atomic
/// without an explicit transaction); the two multi-statement steps run in a transaction whose first
/// statement locks the order row (or the shipment row) and so proves the order exists.
/// </summary>
public sealed class FulfilmentStore(NpgsqlDataSource dataSource)
{
    /// <summary>Reserves every line or none; returns the total at reserved prices.</summary>
    public Task<(decimal Total, OrderView Order)> ReserveAsync(
        string orderId, IReadOnlyList<OrderLine> lines, CancellationToken cancellationToken) =>
        InTransactionAsync(orderId, async (connection, transaction) =>
        {
            // Locks the order, proves it exists and finds an earlier reservation, in one round trip.
            var existing = await ScalarAsync<decimal[]>(connection, transaction, """
                UPDATE orders SET updated_at = now() WHERE id = @id
                RETURNING ARRAY(SELECT sum(quantity * unit_price) FROM reservations r WHERE r.order_id = orders.id HAVING count(*) > 0)
                """, cancellationToken, ("id", orderId)) ?? throw new UnknownOrderException();
            decimal? existingTotal = existing.Length > 0 ? existing[0] : null;
            var total = existingTotal ?? 0m;
            if (existingTotal is null)
            {
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
            }
            return (total, await SetStatusAsync(connection, transaction, orderId, OrderStatus.Reserved, null, total, cancellationToken));
        }, cancellationToken);

    /// <summary>Returns reserved stock; a second call finds nothing left to release.</summary>
    public Task<OrderView> ReleaseAsync(string orderId, CancellationToken cancellationToken) =>
        StatementAsync(orderId, $"""
            WITH released AS (
                UPDATE reservations SET released_at = now()
                WHERE order_id = @id AND released_at IS NULL
                RETURNING sku, quantity),
            restocked AS (
                UPDATE products p SET stock = p.stock + r.quantity FROM released r WHERE p.sku = r.sku)
            UPDATE orders SET updated_at = now() WHERE id = @id RETURNING {OrderStore.ViewColumns}
            """, cancellationToken, ("id", orderId));

    /// <summary>The charge already recorded for the order, if any.</summary>
    public async Task<PaymentReceipt?> FindChargeAsync(string orderId, CancellationToken cancellationToken)
    {
        await using var command = dataSource.CreateCommand(
            "SELECT amount, reference FROM payments WHERE order_id = @id AND kind = 'charge'");
        command.Parameters.AddWithValue("id", orderId);
        await using var reader = await command.ExecuteReaderAsync(cancellationToken);
        return await reader.ReadAsync(cancellationToken)
            ? new PaymentReceipt(orderId, reader.GetDecimal(0), reader.GetString(1))
            : null;
    }

    /// <summary>Records the charge in the ledger (once per order) and marks the order charged.</summary>
    public async Task<(PaymentReceipt Receipt, OrderView Order)> RecordChargeAsync(
        string orderId, decimal amount, string reference, CancellationToken cancellationToken)
    {
        // One statement: the final SELECT sees the ledger as it was before the insert, so a retry gets the
        // charge recorded by the first attempt and a first attempt gets the row it inserted.
        await using var command = dataSource.CreateCommand($"""
            WITH o AS (
                UPDATE orders SET status = 'Charged', failure_reason = NULL, updated_at = now() WHERE id = @id
                RETURNING {OrderStore.ViewColumns}),
            inserted AS (
                INSERT INTO payments (order_id, kind, amount, reference)
                SELECT id, 'charge', @amount, @reference FROM o
                ON CONFLICT (order_id, kind) DO NOTHING
                RETURNING amount, reference)
            SELECT o.*, COALESCE(i.amount, p.amount), COALESCE(i.reference, p.reference)
            FROM o
            LEFT JOIN inserted i ON true
            LEFT JOIN payments p ON p.order_id = o.id AND p.kind = 'charge'
            """);
        command.Parameters.AddWithValue("id", orderId);
        command.Parameters.AddWithValue("amount", amount);
        command.Parameters.AddWithValue("reference", reference);
        await using var reader = await command.ExecuteReaderAsync(cancellationToken);
        if (!await reader.ReadAsync(cancellationToken))
        {
            throw Unknown(orderId);
        }
        return (new PaymentReceipt(orderId, reader.GetDecimal(7), reader.GetString(8)), OrderStore.ReadView(reader));
    }

    /// <summary>Adds the refund that cancels the order's charge; nothing when there is no charge or a refund exists.</summary>
    public Task<OrderView> RecordRefundAsync(string orderId, CancellationToken cancellationToken) =>
        StatementAsync(orderId, $"""
            WITH refund AS (
                INSERT INTO payments (order_id, kind, amount, reference)
                SELECT order_id, 'refund', -amount, reference FROM payments WHERE order_id = @id AND kind = 'charge'
                ON CONFLICT (order_id, kind) DO NOTHING)
            UPDATE orders SET updated_at = now() WHERE id = @id RETURNING {OrderStore.ViewColumns}
            """, cancellationToken, ("id", orderId));

    /// <summary>
    /// Creates the shipment (or reopens a cancelled one) and returns the stage it has reached and its
    /// tracking number when it was shipped already.
    /// </summary>
    public Task<(int Stage, string? TrackingNumber, OrderView Order)> StartShipmentAsync(
        string orderId, CancellationToken cancellationToken) =>
        InTransactionAsync(orderId, async (connection, transaction) =>
        {
            // The shipment row comes first: it locks the shipment, and its foreign key proves the order exists.
            await using var command = new NpgsqlCommand("""
                INSERT INTO shipments (order_id, status) VALUES (@id, 'InProgress')
                ON CONFLICT (order_id) DO UPDATE
                    SET status = CASE WHEN shipments.status = 'Cancelled' THEN 'InProgress' ELSE shipments.status END,
                        updated_at = now()
                RETURNING stage, tracking_number
                """, connection, transaction);
            command.Parameters.AddWithValue("id", orderId);
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
                throw new UnknownOrderException();
            }
            var order = tracking is null
                ? await SetStatusAsync(connection, transaction, orderId, OrderStatus.Shipping, null, null, cancellationToken)
                : await TouchAsync(connection, transaction, orderId, cancellationToken);
            return (stage, tracking, order);
        }, cancellationToken);

    /// <summary>Marks the shipment handed to the carrier (all stages done) and the order completed.</summary>
    public Task<OrderView> CompleteShipmentAsync(string orderId, int stages, string trackingNumber, CancellationToken cancellationToken) =>
        StatementAsync(orderId, $"""
            WITH shipped AS (
                UPDATE shipments SET status = 'Shipped', stage = @stage, tracking_number = COALESCE(tracking_number, @tracking),
                    updated_at = now()
                WHERE order_id = @id)
            UPDATE orders SET status = 'Completed', failure_reason = NULL, updated_at = now() WHERE id = @id
            RETURNING {OrderStore.ViewColumns}
            """, cancellationToken, ("id", orderId), ("stage", stages), ("tracking", trackingNumber));

    /// <summary>Marks an unfinished shipment cancelled at the stage it reached (a shipped one stays shipped).</summary>
    public async Task CancelShipmentAsync(string orderId, int stage, CancellationToken cancellationToken)
    {
        await using var command = dataSource.CreateCommand(
            "UPDATE shipments SET status = 'Cancelled', stage = @stage, updated_at = now() WHERE order_id = @id AND status <> 'Shipped'");
        command.Parameters.AddWithValue("id", orderId);
        command.Parameters.AddWithValue("stage", stage);
        await command.ExecuteNonQueryAsync(cancellationToken);
    }

    /// <summary>Sets the order's status and reason.</summary>
    public Task<OrderView> RecordStatusAsync(string orderId, OrderStatus status, string? reason, CancellationToken cancellationToken) =>
        StatementAsync(orderId, $"""
            UPDATE orders SET status = @status, failure_reason = @reason, updated_at = now() WHERE id = @id
            RETURNING {OrderStore.ViewColumns}
            """, cancellationToken, ("id", orderId), ("status", status.ToString()), ("reason", (object?)reason ?? DBNull.Value));

    /// <summary>A step that is one statement (atomic by itself) returning the order; no row means no such order.</summary>
    private async Task<OrderView> StatementAsync(
        string orderId, string sql, CancellationToken cancellationToken, params (string Name, object Value)[] parameters)
    {
        await using var command = dataSource.CreateCommand(sql);
        foreach (var (name, value) in parameters)
        {
            command.Parameters.AddWithValue(name, value);
        }
        await using var reader = await command.ExecuteReaderAsync(cancellationToken);
        return await reader.ReadAsync(cancellationToken) ? OrderStore.ReadView(reader) : throw Unknown(orderId);
    }

    private static FulfilmentRefusedException Unknown(string orderId) =>
        new(OrderErrors.UnknownOrder, $"Unknown order {orderId}");

    private async Task<T> InTransactionAsync<T>(
        string orderId, Func<NpgsqlConnection, NpgsqlTransaction, Task<T>> work, CancellationToken cancellationToken)
    {
        await using var connection = await dataSource.OpenConnectionAsync(cancellationToken);
        await using var transaction = await connection.BeginTransactionAsync(cancellationToken);
        T result;
        try
        {
            result = await work(connection, transaction);
        }
        catch (UnknownOrderException)
        {
            throw Unknown(orderId);
        }
        await transaction.CommitAsync(cancellationToken);
        return result;
    }

    /// <summary>Locks the order row for this transaction and returns it unchanged but for its timestamp.</summary>
    private static async Task<OrderView> TouchAsync(
        NpgsqlConnection connection, NpgsqlTransaction transaction, string orderId, CancellationToken cancellationToken) =>
        await ReadViewAsync(connection, transaction, $"UPDATE orders SET updated_at = now() WHERE id = @id RETURNING {OrderStore.ViewColumns}",
            cancellationToken, ("id", orderId));

    private static Task<OrderView> SetStatusAsync(
        NpgsqlConnection connection, NpgsqlTransaction transaction, string orderId, OrderStatus status,
        string? reason, decimal? total, CancellationToken cancellationToken) =>
        ReadViewAsync(connection, transaction, $"""
            UPDATE orders SET status = @status, failure_reason = @reason, total = COALESCE(@total, total), updated_at = now()
            WHERE id = @id RETURNING {OrderStore.ViewColumns}
            """, cancellationToken, ("id", orderId), ("status", status.ToString()),
            ("reason", (object?)reason ?? DBNull.Value), ("total", (object?)total ?? DBNull.Value));

    private static async Task<OrderView> ReadViewAsync(
        NpgsqlConnection connection, NpgsqlTransaction transaction, string sql, CancellationToken cancellationToken,
        params (string Name, object Value)[] parameters)
    {
        await using var command = Command(connection, transaction, sql, parameters);
        await using var reader = await command.ExecuteReaderAsync(cancellationToken);
        return await reader.ReadAsync(cancellationToken) ? OrderStore.ReadView(reader) : throw new UnknownOrderException();
    }

    private static async Task<T?> ScalarAsync<T>(
        NpgsqlConnection connection, NpgsqlTransaction transaction, string sql, CancellationToken cancellationToken,
        params (string Name, object Value)[] parameters)
    {
        await using var command = Command(connection, transaction, sql, parameters);
        var value = await command.ExecuteScalarAsync(cancellationToken);
        return value is null or DBNull ? default : (T)value;
    }

    private static NpgsqlCommand Command(
        NpgsqlConnection connection, NpgsqlTransaction transaction, string sql, (string Name, object Value)[] parameters)
    {
        var command = new NpgsqlCommand(sql, connection, transaction);
        foreach (var (name, value) in parameters)
        {
            command.Parameters.AddWithValue(name, value);
        }
        return command;
    }

    private sealed class UnknownOrderException : Exception;
}

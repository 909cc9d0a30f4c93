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
/// </summary>
public sealed class FulfilmentStore(NpgsqlDataSource dataSource)
{
    /// <summary>Reserves every line or none; returns the total at reserved prices.</summary>
    public async Task<(decimal Total, OrderView Order)> ReserveAsync(
        string orderId, IReadOnlyList<OrderLine> lines, CancellationToken cancellationToken)
    {
        await using var connection = await dataSource.OpenConnectionAsync(cancellationToken);
        await using var transaction = await connection.BeginTransactionAsync(cancellationToken);
        await LockOrderAsync(connection, transaction, orderId, cancellationToken);

        var existingTotal = await ScalarAsync<decimal?>(connection, transaction,
            "SELECT sum(quantity * unit_price) FROM reservations WHERE order_id = @id", cancellationToken, ("id", orderId));
        var total = existingTotal ?? 0m;
        if (existingTotal is null)
        {
            // Sorted so that concurrent orders lock product rows in the same order and cannot deadlock.
            foreach (var line in lines.GroupBy(l => l.Sku, StringComparer.Ordinal)
                         .Select(g => new OrderLine(g.Key, g.Sum(l => l.Quantity)))
                         .OrderBy(l => l.Sku, StringComparer.Ordinal))
            {
                var price = await ScalarAsync<decimal?>(connection, transaction,
                    "UPDATE products SET stock = stock - @qty WHERE sku = @sku AND stock >= @qty RETURNING price",
                    cancellationToken, ("qty", line.Quantity), ("sku", line.Sku));
                if (price is null)
                {
                    var known = await ScalarAsync<bool?>(connection, transaction,
                        "SELECT true FROM products WHERE sku = @sku", cancellationToken, ("sku", line.Sku));
                    throw known is null
                        ? new FulfilmentRefusedException(OrderErrors.UnknownSku, $"Unknown sku {line.Sku}")
                        : new FulfilmentRefusedException(OrderErrors.OutOfStock, $"Out of stock: {line.Sku} x{line.Quantity}");
                }
                await ExecuteAsync(connection, transaction,
                    "INSERT INTO reservations (order_id, sku, quantity, unit_price) VALUES (@id, @sku, @qty, @price)",
                    cancellationToken, ("id", orderId), ("sku", line.Sku), ("qty", line.Quantity), ("price", price.Value));
                total += price.Value * line.Quantity;
            }
        }
        var order = await SetStatusAsync(connection, transaction, orderId, OrderStatus.Reserved, null, total, cancellationToken);
        await transaction.CommitAsync(cancellationToken);
        return (total, order);
    }

    /// <summary>Returns reserved stock; a second call finds nothing left to release.</summary>
    public async Task<OrderView> ReleaseAsync(string orderId, CancellationToken cancellationToken)
    {
        await using var connection = await dataSource.OpenConnectionAsync(cancellationToken);
        await using var transaction = await connection.BeginTransactionAsync(cancellationToken);
        await LockOrderAsync(connection, transaction, orderId, cancellationToken);
        await ExecuteAsync(connection, transaction, """
            WITH released AS (
                UPDATE reservations SET released_at = now()
                WHERE order_id = @id AND released_at IS NULL
                RETURNING sku, quantity)
            UPDATE products p SET stock = p.stock + r.quantity FROM released r WHERE p.sku = r.sku
            """, cancellationToken, ("id", orderId));
        var order = await ReadOrderAsync(connection, transaction, orderId, cancellationToken);
        await transaction.CommitAsync(cancellationToken);
        return order;
    }

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
        await using var connection = await dataSource.OpenConnectionAsync(cancellationToken);
        await using var transaction = await connection.BeginTransactionAsync(cancellationToken);
        await LockOrderAsync(connection, transaction, orderId, cancellationToken);
        await ExecuteAsync(connection, transaction, """
            INSERT INTO payments (order_id, kind, amount, reference) VALUES (@id, 'charge', @amount, @reference)
            ON CONFLICT (order_id, kind) DO NOTHING
            """, cancellationToken, ("id", orderId), ("amount", amount), ("reference", reference));
        var order = await SetStatusAsync(connection, transaction, orderId, OrderStatus.Charged, null, null, cancellationToken);
        await transaction.CommitAsync(cancellationToken);
        var receipt = await FindChargeAsync(orderId, cancellationToken) ?? throw new InvalidOperationException("Charge vanished.");
        return (receipt, order);
    }

    /// <summary>Adds the refund that cancels the order's charge; nothing when there is no charge or a refund exists.</summary>
    public async Task<OrderView> RecordRefundAsync(string orderId, CancellationToken cancellationToken)
    {
        await using var connection = await dataSource.OpenConnectionAsync(cancellationToken);
        await using var transaction = await connection.BeginTransactionAsync(cancellationToken);
        await LockOrderAsync(connection, transaction, orderId, cancellationToken);
        await ExecuteAsync(connection, transaction, """
            INSERT INTO payments (order_id, kind, amount, reference)
            SELECT order_id, 'refund', -amount, reference FROM payments WHERE order_id = @id AND kind = 'charge'
            ON CONFLICT (order_id, kind) DO NOTHING
            """, cancellationToken, ("id", orderId));
        var order = await ReadOrderAsync(connection, transaction, orderId, cancellationToken);
        await transaction.CommitAsync(cancellationToken);
        return order;
    }

    /// <summary>Creates the shipment if needed and returns the stage it has reached and whether it is shipped.</summary>
    public async Task<(int Stage, string? TrackingNumber, OrderView Order)> StartShipmentAsync(
        string orderId, CancellationToken cancellationToken)
    {
        await using var connection = await dataSource.OpenConnectionAsync(cancellationToken);
        await using var transaction = await connection.BeginTransactionAsync(cancellationToken);
        await LockOrderAsync(connection, transaction, orderId, cancellationToken);
        await ExecuteAsync(connection, transaction, """
            INSERT INTO shipments (order_id, status) VALUES (@id, 'InProgress')
            ON CONFLICT (order_id) DO UPDATE SET status = 'InProgress', updated_at = now()
                WHERE shipments.status = 'Cancelled'
            """, cancellationToken, ("id", orderId));
        await using var command = new NpgsqlCommand(
            "SELECT stage, tracking_number FROM shipments WHERE order_id = @id", connection, transaction);
        command.Parameters.AddWithValue("id", orderId);
        int stage;
        string? tracking;
        await using (var reader = await command.ExecuteReaderAsync(cancellationToken))
        {
            await reader.ReadAsync(cancellationToken);
            stage = reader.GetInt32(0);
            tracking = reader.IsDBNull(1) ? null : reader.GetString(1);
        }
        var order = tracking is null
            ? await SetStatusAsync(connection, transaction, orderId, OrderStatus.Shipping, null, null, cancellationToken)
            : await ReadOrderAsync(connection, transaction, orderId, cancellationToken);
        await transaction.CommitAsync(cancellationToken);
        return (stage, tracking, order);
    }

    /// <summary>Records that the shipment reached <paramref name="stage"/>.</summary>
    public async Task AdvanceShipmentAsync(string orderId, int stage, CancellationToken cancellationToken)
    {
        await using var command = dataSource.CreateCommand(
            "UPDATE shipments SET stage = GREATEST(stage, @stage), updated_at = now() WHERE order_id = @id");
        command.Parameters.AddWithValue("id", orderId);
        command.Parameters.AddWithValue("stage", stage);
        await command.ExecuteNonQueryAsync(cancellationToken);
    }

    /// <summary>Marks the shipment handed to the carrier and the order completed.</summary>
    public async Task<OrderView> CompleteShipmentAsync(string orderId, string trackingNumber, CancellationToken cancellationToken)
    {
        await using var connection = await dataSource.OpenConnectionAsync(cancellationToken);
        await using var transaction = await connection.BeginTransactionAsync(cancellationToken);
        await LockOrderAsync(connection, transaction, orderId, cancellationToken);
        await ExecuteAsync(connection, transaction, """
            UPDATE shipments SET status = 'Shipped', tracking_number = COALESCE(tracking_number, @tracking), updated_at = now()
            WHERE order_id = @id
            """, cancellationToken, ("id", orderId), ("tracking", trackingNumber));
        var order = await SetStatusAsync(connection, transaction, orderId, OrderStatus.Completed, null, null, cancellationToken);
        await transaction.CommitAsync(cancellationToken);
        return order;
    }

    /// <summary>Marks an unfinished shipment cancelled (a shipped one stays shipped).</summary>
    public async Task CancelShipmentAsync(string orderId, CancellationToken cancellationToken)
    {
        await using var command = dataSource.CreateCommand(
            "UPDATE shipments SET status = 'Cancelled', updated_at = now() WHERE order_id = @id AND status <> 'Shipped'");
        command.Parameters.AddWithValue("id", orderId);
        await command.ExecuteNonQueryAsync(cancellationToken);
    }

    /// <summary>Sets the order's status and reason.</summary>
    public async Task<OrderView> RecordStatusAsync(
        string orderId, OrderStatus status, string? reason, CancellationToken cancellationToken)
    {
        await using var connection = await dataSource.OpenConnectionAsync(cancellationToken);
        await using var transaction = await connection.BeginTransactionAsync(cancellationToken);
        await LockOrderAsync(connection, transaction, orderId, cancellationToken);
        var order = await SetStatusAsync(connection, transaction, orderId, status, reason, null, cancellationToken);
        await transaction.CommitAsync(cancellationToken);
        return order;
    }

    private static async Task LockOrderAsync(
        NpgsqlConnection connection, NpgsqlTransaction transaction, string orderId, CancellationToken cancellationToken)
    {
        var found = await ScalarAsync<bool?>(connection, transaction,
            "SELECT true FROM orders WHERE id = @id FOR UPDATE", cancellationToken, ("id", orderId));
        if (found is null)
        {
            throw new FulfilmentRefusedException(OrderErrors.UnknownOrder, $"Unknown order {orderId}");
        }
    }

    private static async Task<OrderView> SetStatusAsync(
        NpgsqlConnection connection, NpgsqlTransaction transaction, string orderId, OrderStatus status,
        string? reason, decimal? total, CancellationToken cancellationToken)
    {
        await using var command = new NpgsqlCommand($"""
            UPDATE orders SET status = @status, failure_reason = @reason, total = COALESCE(@total, total), updated_at = now()
            WHERE id = @id RETURNING {OrderStore.ViewColumns}
            """, connection, transaction);
        command.Parameters.AddWithValue("id", orderId);
        command.Parameters.AddWithValue("status", status.ToString());
        command.Parameters.Add(new NpgsqlParameter<string?>("reason", reason) { NpgsqlDbType = NpgsqlTypes.NpgsqlDbType.Text });
        command.Parameters.Add(new NpgsqlParameter<decimal?>("total", total) { NpgsqlDbType = NpgsqlTypes.NpgsqlDbType.Numeric });
        await using var reader = await command.ExecuteReaderAsync(cancellationToken);
        await reader.ReadAsync(cancellationToken);
        return OrderStore.ReadView(reader);
    }

    private static async Task<OrderView> ReadOrderAsync(
        NpgsqlConnection connection, NpgsqlTransaction transaction, string orderId, CancellationToken cancellationToken)
    {
        await using var command = new NpgsqlCommand(
            $"SELECT {OrderStore.ViewColumns} FROM orders WHERE id = @id", connection, transaction);
        command.Parameters.AddWithValue("id", orderId);
        await using var reader = await command.ExecuteReaderAsync(cancellationToken);
        await reader.ReadAsync(cancellationToken);
        return OrderStore.ReadView(reader);
    }

    private static async Task<T?> ScalarAsync<T>(
        NpgsqlConnection connection, NpgsqlTransaction transaction, string sql, CancellationToken cancellationToken,
        params (string Name, object Value)[] parameters)
    {
        await using var command = Command(connection, transaction, sql, parameters);
        var value = await command.ExecuteScalarAsync(cancellationToken);
        return value is null or DBNull ? default : (T)value;
    }

    private static async Task ExecuteAsync(
        NpgsqlConnection connection, NpgsqlTransaction transaction, string sql, CancellationToken cancellationToken,
        params (string Name, object Value)[] parameters)
    {
        await using var command = Command(connection, transaction, sql, parameters);
        await command.ExecuteNonQueryAsync(cancellationToken);
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
}

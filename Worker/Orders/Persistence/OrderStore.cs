using System.Text.Json;
using Npgsql;
using NpgsqlTypes;

namespace Worker.Orders.Persistence;

/// <summary>
/// Reads and writes the <c>orders</c> and <c>products</c> tables. PostgreSQL is the source of truth for
/// order status; the cache only mirrors it.
/// </summary>
public sealed class OrderStore(NpgsqlDataSource dataSource)
{
    internal const string ViewColumns = "id, status, total, failure_reason, request, created_at, updated_at, version";

    /// <summary>
    /// Writes the order row and its payment token unless the id exists; tells a retry from a conflicting reuse
    /// of the id, and returns the status the order has now.
    /// </summary>
    public async Task<(OrderRegistration Outcome, OrderStatus Status)> RegisterAsync(
        string orderId, string requestHash, OrderRequestRecord request, string paymentToken, CancellationToken cancellationToken)
    {
        // A concurrent insert of the same id is invisible to this statement's snapshot, so the statement can
        // return no row; the next attempt sees the committed row.
        for (var attempt = 1; ; attempt++)
        {
            var stored = await TryRegisterAsync(orderId, requestHash, request, paymentToken, cancellationToken);
            if (stored is var (hash, created, status))
            {
                var outcome = created ? OrderRegistration.Created
                    : hash == requestHash ? OrderRegistration.Duplicate : OrderRegistration.Conflict;
                return (outcome, status);
            }
            if (attempt == 3)
            {
                throw new InvalidOperationException($"Order {orderId} could not be registered after {attempt} attempts.");
            }
        }
    }

    private async Task<(string Hash, bool Created, OrderStatus Status)?> TryRegisterAsync(
        string orderId, string requestHash, OrderRequestRecord request, string paymentToken, CancellationToken cancellationToken)
    {
        // The token goes to its own table in the same statement, never into the workflow's input (and so never
        // into Temporal's history); the charge step reads it and deletes it.
        await using var command = dataSource.CreateCommand("""
            WITH inserted AS (
                INSERT INTO orders (id, request_hash, request, status) VALUES (@id, @hash, @request, @status)
                ON CONFLICT (id) DO NOTHING
                RETURNING id, request_hash, status),
            token AS (
                INSERT INTO payment_tokens (order_id, token) SELECT id, @token FROM inserted),
            -- A repeat of a Pending order a build before schema migration 2 recorded (it kept no token) brings its token.
            repeated_token AS (
                INSERT INTO payment_tokens (order_id, token)
                SELECT id, @token FROM orders
                WHERE id = @id AND request_hash = @hash AND status = 'Pending' AND NOT EXISTS (SELECT 1 FROM inserted)
                ON CONFLICT (order_id) DO NOTHING)
            SELECT request_hash, true, status FROM inserted
            UNION ALL
            SELECT request_hash, false, status FROM orders WHERE id = @id AND NOT EXISTS (SELECT 1 FROM inserted)
            """);
        command.Parameters.AddWithValue("id", orderId);
        command.Parameters.AddWithValue("hash", requestHash);
        command.Parameters.AddWithValue("request", NpgsqlDbType.Jsonb, JsonSerializer.Serialize(request));
        command.Parameters.AddWithValue("status", nameof(OrderStatus.Pending));
        command.Parameters.AddWithValue("token", paymentToken);
        await using var reader = await command.ExecuteReaderAsync(cancellationToken);
        return await reader.ReadAsync(cancellationToken)
            ? (reader.GetString(0), reader.GetBoolean(1), Enum.Parse<OrderStatus>(reader.GetString(2)))
            : null;
    }

    /// <summary>The order, or null when unknown.</summary>
    public async Task<OrderView?> FindAsync(string orderId, CancellationToken cancellationToken)
    {
        await using var command = dataSource.CreateCommand($"SELECT {ViewColumns} FROM orders WHERE id = @id");
        command.Parameters.AddWithValue("id", orderId);
        await using var reader = await command.ExecuteReaderAsync(cancellationToken);
        return await reader.ReadAsync(cancellationToken) ? ReadView(reader) : null;
    }

    /// <summary>The catalogue, ordered by sku.</summary>
    public async Task<IReadOnlyList<Product>> ListProductsAsync(CancellationToken cancellationToken)
    {
        await using var command = dataSource.CreateCommand("SELECT sku, name, price, stock FROM products ORDER BY sku");
        await using var reader = await command.ExecuteReaderAsync(cancellationToken);
        var products = new List<Product>();
        while (await reader.ReadAsync(cancellationToken))
        {
            products.Add(new Product(reader.GetString(0), reader.GetString(1), reader.GetDecimal(2), reader.GetInt32(3)));
        }
        return products;
    }

    /// <summary>The skus among <paramref name="skus"/> that are not in the catalogue.</summary>
    public async Task<IReadOnlyList<string>> FindUnknownSkusAsync(IEnumerable<string> skus, CancellationToken cancellationToken)
    {
        await using var command = dataSource.CreateCommand(
            "SELECT s FROM unnest(@skus) AS s WHERE NOT EXISTS (SELECT 1 FROM products p WHERE p.sku = s) ORDER BY s");
        command.Parameters.AddWithValue("skus", skus.Distinct().ToArray());
        await using var reader = await command.ExecuteReaderAsync(cancellationToken);
        var unknown = new List<string>();
        while (await reader.ReadAsync(cancellationToken))
        {
            unknown.Add(reader.GetString(0));
        }
        return unknown;
    }

    internal static OrderView ReadView(NpgsqlDataReader reader)
    {
        var request = JsonSerializer.Deserialize<OrderRequestRecord>(reader.GetString(4))
            ?? throw new InvalidDataException($"Order {reader.GetString(0)} has an empty request.");
        return new OrderView(
            reader.GetString(0),
            Enum.Parse<OrderStatus>(reader.GetString(1)),
            reader.IsDBNull(2) ? null : reader.GetDecimal(2),
            reader.IsDBNull(3) ? null : reader.GetString(3),
            request.Lines,
            reader.GetFieldValue<DateTimeOffset>(5),
            reader.GetFieldValue<DateTimeOffset>(6),
            reader.GetInt64(7));
    }
}

using Npgsql;

namespace Worker.Orders.Persistence;

/// <summary>
/// Creates the application schema and seeds the catalogue. Runs at every start-up; safe with many replicas
/// starting together because the whole script runs in one transaction under an advisory lock, and every
/// statement is idempotent (the seed never resets stock of existing products).
/// </summary>
public static class DatabaseSchema
{
    // Arbitrary but fixed: identifies "schema migration of the orders app" among advisory locks.
    private const long MigrationLockKey = 0x4F52444552530001;

    private const string Script = """
        CREATE TABLE IF NOT EXISTS products (
            sku        text PRIMARY KEY,
            name       text NOT NULL,
            price      numeric(12,2) NOT NULL CHECK (price >= 0),
            stock      integer NOT NULL CHECK (stock >= 0)
        );
        CREATE TABLE IF NOT EXISTS orders (
            id             text PRIMARY KEY,
            request_hash   text NOT NULL,
            request        jsonb NOT NULL,
            status         text NOT NULL,
            total          numeric(12,2),
            failure_reason text,
            created_at     timestamptz NOT NULL DEFAULT now(),
            updated_at     timestamptz NOT NULL DEFAULT now()
        );
        CREATE TABLE IF NOT EXISTS reservations (
            order_id    text NOT NULL REFERENCES orders(id),
            sku         text NOT NULL REFERENCES products(sku),
            quantity    integer NOT NULL CHECK (quantity > 0),
            unit_price  numeric(12,2) NOT NULL,
            reserved_at timestamptz NOT NULL DEFAULT now(),
            released_at timestamptz,
            PRIMARY KEY (order_id, sku)
        );
        -- The payment ledger: at most one charge and one refund per order (the keys make retries harmless);
        -- an order's net charge is the sum of its amounts.
        CREATE TABLE IF NOT EXISTS payments (
            order_id   text NOT NULL REFERENCES orders(id),
            kind       text NOT NULL CHECK (kind IN ('charge', 'refund')),
            amount     numeric(12,2) NOT NULL,
            reference  text NOT NULL,
            created_at timestamptz NOT NULL DEFAULT now(),
            PRIMARY KEY (order_id, kind)
        );
        CREATE TABLE IF NOT EXISTS shipments (
            order_id        text PRIMARY KEY REFERENCES orders(id),
            status          text NOT NULL,
            stage           integer NOT NULL DEFAULT 0,
            tracking_number text,
            created_at      timestamptz NOT NULL DEFAULT now(),
            updated_at      timestamptz NOT NULL DEFAULT now()
        );
        INSERT INTO products (sku, name, price, stock) VALUES
            ('ESPRESSO-MACHINE', 'Espresso machine', 499.00, 500),
            ('GRINDER', 'Burr grinder', 149.00, 1000),
            ('BEANS-1KG', 'Coffee beans, 1 kg', 24.50, 100000),
            ('MILK-FROTHER', 'Milk frother', 79.00, 1000),
            ('TAMPER', 'Tamper', 19.90, 5000),
            ('ROASTER-PRO', 'Professional roaster', 4999.00, 50)
        ON CONFLICT (sku) DO NOTHING;
        """;

    /// <summary>Applies the schema; returns once it is in place.</summary>
    public static async Task EnsureCreatedAsync(NpgsqlDataSource dataSource, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(dataSource);
        await using var connection = await dataSource.OpenConnectionAsync(cancellationToken);
        await using var transaction = await connection.BeginTransactionAsync(cancellationToken);
        await using (var lockCommand = new NpgsqlCommand("SELECT pg_advisory_xact_lock(@key)", connection, transaction))
        {
            lockCommand.Parameters.AddWithValue("key", MigrationLockKey);
            await lockCommand.ExecuteNonQueryAsync(cancellationToken);
        }
        await using (var command = new NpgsqlCommand(Script, connection, transaction))
        {
            await command.ExecuteNonQueryAsync(cancellationToken);
        }
        await transaction.CommitAsync(cancellationToken);
    }
}

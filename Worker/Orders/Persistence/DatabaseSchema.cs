using Microsoft.Extensions.Logging.Abstractions;
using Npgsql;

namespace Worker.Orders.Persistence;

/// <summary>
/// The application schema as ordered migrations, recorded in <c>schema_migrations</c>.
/// A start against a current schema only reads that table, so replicas whose role has table rights and no
/// DDL rights start normally; only a start that finds migrations missing needs DDL rights. Missing
/// migrations are applied by <see cref="MigrationRunner"/>: by one replica however many start together, and
/// never holding up order traffic for longer than its lock timeout. Migrations only ever add (columns with
/// defaults, tables): replicas of the previous version keep working during a rolling update. Never edit a
/// published migration; append a new one.
/// </summary>
public static class DatabaseSchema
{
    /// <summary>The migrations, in order; the index + 1 is the version.</summary>
    public static readonly IReadOnlyList<Migration> Migrations =
    [
        // Version 1 is the schema from before versioning: IF NOT EXISTS lets it adopt a database created then.
        new("initial tables", """
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
            """),
        new("order versions, pending charges, payment tokens out of workflow history", """
            -- Incremented by every change of an order row: the cache keeps only the newest version it was given.
            ALTER TABLE orders ADD COLUMN version bigint NOT NULL DEFAULT 1;
            -- A charge is recorded as pending before a payment gateway is called, so a refund can always find it.
            ALTER TABLE payments ADD COLUMN state text NOT NULL DEFAULT 'settled' CHECK (state IN ('pending', 'settled'));
            -- The payment token of an order that has not been charged yet; deleted once the charge settles or the
            -- order ends. Workflows carry only the order id, so the token never enters Temporal's history.
            CREATE TABLE payment_tokens (
                order_id   text PRIMARY KEY REFERENCES orders(id),
                token      text NOT NULL,
                created_at timestamptz NOT NULL DEFAULT now()
            );
            """),
        new("charges in flight at a gateway kept out of the ledger", """
            -- Every row of payments is money that moved: builds from before migration 2 read every charge row as a
            -- settled charge, so a pending row there, read by such a build running beside this one, shipped an
            -- order nobody had charged. A charge begun at a payment gateway waits here until it settles (its row
            -- moves to payments), is declined or is refunded unconfirmed (its row is deleted).
            CREATE TABLE pending_charges (
                order_id        text PRIMARY KEY REFERENCES orders(id),
                amount          numeric(12,2) NOT NULL,
                idempotency_key text NOT NULL,
                created_at      timestamptz NOT NULL DEFAULT now()
            );
            -- Pending rows written since migration 2 move here; one already refunded, with its refund, leaves the
            -- ledger (nothing moved for it). payments.state stays for the builds since migration 2 and is dropped
            -- by a later release (docs/rollouts.md, "Mixed versions").
            INSERT INTO pending_charges (order_id, amount, idempotency_key, created_at)
                SELECT c.order_id, c.amount, c.reference, c.created_at FROM payments c
                WHERE c.kind = 'charge' AND c.state = 'pending'
                  AND NOT EXISTS (SELECT 1 FROM payments r WHERE r.order_id = c.order_id AND r.kind = 'refund');
            DELETE FROM payments r USING payments c
                WHERE r.order_id = c.order_id AND r.kind = 'refund' AND c.kind = 'charge' AND c.state = 'pending';
            DELETE FROM payments WHERE state = 'pending';
            """),
        new("the outcome a compensation is for", """
            -- Recorded with Compensating: the final status the compensation will set (Cancelled, Failed or Rejected), so
            -- that a run finishing a compensation an earlier run began (terminated mid-way, the order POSTed again)
            -- ends it the same way. Builds before this one neither write nor read it.
            ALTER TABLE orders ADD COLUMN compensation_outcome text
                CHECK (compensation_outcome IN ('Cancelled', 'Failed', 'Rejected'));
            """),
    ];

    /// <summary>The version this code expects: the number of migrations.</summary>
    public static int LatestVersion => Migrations.Count;

    /// <summary>Applies the missing migrations; returns the version the database is at.</summary>
    public static Task<int> MigrateAsync(NpgsqlDataSource dataSource, CancellationToken cancellationToken) =>
        MigrateAsync(dataSource, NullLogger.Instance, cancellationToken);

    /// <summary>
    /// Applies the missing migrations, logging a warning each time one gives way to traffic and is retried;
    /// returns the version the database is at.
    /// </summary>
    public static Task<int> MigrateAsync(NpgsqlDataSource dataSource, ILogger logger, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(dataSource);
        ArgumentNullException.ThrowIfNull(logger);
        return new MigrationRunner(dataSource, Migrations, logger).RunAsync(cancellationToken);
    }
}

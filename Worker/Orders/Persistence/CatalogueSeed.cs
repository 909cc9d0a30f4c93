using Npgsql;

namespace Worker.Orders.Persistence;

/// <summary>
/// The demo catalogue, added after the migrations when <see cref="OrdersOptions.SeedCatalogue"/> is on (the
/// default). Products that exist are left alone, so a restart never resets stock, and an insert that skips
/// conflicts needs table rights only, like every other start against a current schema.
/// </summary>
public static class CatalogueSeed
{
    private const string Sql = """
        INSERT INTO products (sku, name, price, stock) VALUES
            ('ESPRESSO-MACHINE', 'Espresso machine', 499.00, 500),
            ('GRINDER', 'Burr grinder', 149.00, 1000),
            ('BEANS-1KG', 'Coffee beans, 1 kg', 24.50, 100000),
            ('MILK-FROTHER', 'Milk frother', 79.00, 1000),
            ('TAMPER', 'Tamper', 19.90, 5000),
            ('ROASTER-PRO', 'Professional roaster', 4999.00, 50)
        ON CONFLICT (sku) DO NOTHING
        """;

    /// <summary>Adds the catalogue's missing products; returns how many it added.</summary>
    public static async Task<int> SeedAsync(NpgsqlDataSource dataSource, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(dataSource);
        await using var command = dataSource.CreateCommand(Sql);
        return await command.ExecuteNonQueryAsync(cancellationToken);
    }
}

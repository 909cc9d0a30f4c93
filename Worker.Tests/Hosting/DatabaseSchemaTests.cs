using Npgsql;
using Worker.Orders.Persistence;
using Worker.Tests.Infrastructure;

namespace Worker.Tests.Hosting;

public sealed class DatabaseSchemaTests
{
    [Fact]
    public async Task Three_replicas_applying_the_schema_together_all_succeed()
    {
        var connection = await TestServers.CreateDatabaseAsync("schema");
        var sources = Enumerable.Range(0, 3).Select(_ => NpgsqlDataSource.Create(connection)).ToList();
        try
        {
            await Task.WhenAll(sources.Select(s => DatabaseSchema.EnsureCreatedAsync(s, CancellationToken.None)));

            await using var count = sources[0].CreateCommand("SELECT count(*) FROM products");
            Assert.Equal(6L, await count.ExecuteScalarAsync());
        }
        finally
        {
            foreach (var source in sources)
            {
                await source.DisposeAsync();
            }
        }
    }

    [Fact]
    public async Task Applying_the_schema_again_keeps_data_and_does_not_reset_stock()
    {
        await using var source = NpgsqlDataSource.Create(await TestServers.CreateDatabaseAsync("schema"));
        await DatabaseSchema.EnsureCreatedAsync(source, CancellationToken.None);
        await using (var sell = source.CreateCommand("UPDATE products SET stock = 3 WHERE sku = 'GRINDER'"))
        {
            await sell.ExecuteNonQueryAsync();
        }

        await DatabaseSchema.EnsureCreatedAsync(source, CancellationToken.None);

        await using var stock = source.CreateCommand("SELECT stock FROM products WHERE sku = 'GRINDER'");
        Assert.Equal(3, await stock.ExecuteScalarAsync());
    }
}

using Microsoft.Extensions.DependencyInjection;
using Npgsql;
using Worker.Orders.Persistence;

namespace Worker.Tests.Hosting;

public sealed class DatabaseSchemaTests
{
    [Fact]
    public async Task Three_replicas_applying_the_schema_together_all_succeed()
    {
        var connection = await TestDatabases.CreateAsync("schema");
        var sources = Enumerable.Range(0, 3).Select(_ => NpgsqlDataSource.Create(connection)).ToList();
        try
        {
            await Task.WhenAll(sources.Select(async s =>
            {
                await DatabaseSchema.MigrateAsync(s, CancellationToken.None);
                await CatalogueSeed.SeedAsync(s, CancellationToken.None);
            }));

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
    public async Task Applying_the_schema_and_seed_again_keeps_data_and_does_not_reset_stock()
    {
        await using var source = NpgsqlDataSource.Create(await TestDatabases.CreateAsync("schema"));
        await DatabaseSchema.MigrateAsync(source, CancellationToken.None);
        Assert.Equal(6, await CatalogueSeed.SeedAsync(source, CancellationToken.None));
        await using (var sell = source.CreateCommand("UPDATE products SET stock = 3 WHERE sku = 'GRINDER'"))
        {
            await sell.ExecuteNonQueryAsync();
        }

        await DatabaseSchema.MigrateAsync(source, CancellationToken.None);
        Assert.Equal(0, await CatalogueSeed.SeedAsync(source, CancellationToken.None));

        await using var stock = source.CreateCommand("SELECT stock FROM products WHERE sku = 'GRINDER'");
        Assert.Equal(3, await stock.ExecuteScalarAsync());
    }

    [Fact]
    public async Task Each_migration_is_recorded_once_in_order()
    {
        await using var source = NpgsqlDataSource.Create(await TestDatabases.CreateAsync("schema"));

        Assert.Equal(DatabaseSchema.LatestVersion, await DatabaseSchema.MigrateAsync(source, CancellationToken.None));
        Assert.Equal(DatabaseSchema.LatestVersion, await DatabaseSchema.MigrateAsync(source, CancellationToken.None));

        await using var versions = source.CreateCommand("SELECT array_agg(version ORDER BY version) FROM schema_migrations");
        Assert.Equal(Enumerable.Range(1, DatabaseSchema.LatestVersion), (int[])(await versions.ExecuteScalarAsync())!);
    }

    [Fact]
    public async Task A_database_created_before_versioning_is_adopted_and_migrated_keeping_its_orders()
    {
        await using var source = NpgsqlDataSource.Create(await TestDatabases.CreateAsync("schema"));
        await using (var old = source.CreateCommand(DatabaseSchema.Migrations[0].Script +
            "; INSERT INTO orders (id, request_hash, request, status) VALUES ('old-1', 'h', '{}', 'Completed')"))
        {
            await old.ExecuteNonQueryAsync();
        }

        await DatabaseSchema.MigrateAsync(source, CancellationToken.None);

        await using var order = source.CreateCommand("SELECT status || ' v' || version FROM orders WHERE id = 'old-1'");
        Assert.Equal("Completed v1", await order.ExecuteScalarAsync());
    }

    [Fact]
    public async Task A_start_against_a_current_schema_needs_only_table_rights()
    {
        var owner = await TestDatabases.CreateAsync("schema");
        await using var ownerSource = NpgsqlDataSource.Create(owner);
        await DatabaseSchema.MigrateAsync(ownerSource, CancellationToken.None);
        var role = $"app_{Guid.NewGuid():N}";
        await using (var grant = ownerSource.CreateCommand($"""
            CREATE ROLE {role} LOGIN;
            GRANT USAGE ON SCHEMA public TO {role};
            GRANT SELECT, INSERT, UPDATE, DELETE ON ALL TABLES IN SCHEMA public TO {role};
            """))
        {
            await grant.ExecuteNonQueryAsync();
        }
        var asRole = new NpgsqlConnectionStringBuilder(owner) { Username = role }.ConnectionString;
        await using var roleSource = NpgsqlDataSource.Create(asRole);

        Assert.Equal(DatabaseSchema.LatestVersion, await DatabaseSchema.MigrateAsync(roleSource, CancellationToken.None));
        // The migrations hold no data: the catalogue seed after them adds it, with the same table rights.
        Assert.Equal(6, await CatalogueSeed.SeedAsync(roleSource, CancellationToken.None));

        // The same role on a database that still needs its migrations is refused: the rights are really that narrow.
        await using var freshAsRole = NpgsqlDataSource.Create(
            new NpgsqlConnectionStringBuilder(await TestDatabases.CreateAsync("schema")) { Username = role }.ConnectionString);
        var denied = await Assert.ThrowsAsync<PostgresException>(() => DatabaseSchema.MigrateAsync(freshAsRole, CancellationToken.None));
        Assert.Equal(PostgresErrorCodes.InsufficientPrivilege, denied.SqlState);
    }

    [Theory]
    [InlineData(null, 6)]
    [InlineData("false", 0)]
    public async Task The_worker_seeds_the_catalogue_unless_told_not_to(string? seedCatalogue, int products)
    {
        var settings = WorkerFactory.DefaultSettings(await TestDatabases.CreateAsync("schema"), null);
        settings["Orders:SeedCatalogue"] = seedCatalogue;
        using var factory = new WorkerFactory(settings);
        using var client = factory.CreateAuthorizedClient();
        using var timeout = new CancellationTokenSource(TimeSpan.FromSeconds(30));
        await factory.Services.GetRequiredService<DatabaseInitializer>().WaitReadyAsync(timeout.Token);

        var catalogue = await client.GetFromJsonAsync<JsonElement>("/api/products");

        Assert.Equal(products, catalogue.GetArrayLength());
    }
}

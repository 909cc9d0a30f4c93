using Npgsql;
using Worker.Orders.Persistence;

namespace Worker.Tests.Infrastructure;

/// <summary>A fresh application database with the schema applied, shared by one test class.</summary>
public sealed class OrdersDatabase : IAsyncLifetime
{
    /// <summary>PostgreSQL server to create the database on; the shared test server when null.</summary>
    public string? ServerConnection { get; init; }

    public string ConnectionString { get; private set; } = "";

    public NpgsqlDataSource DataSource { get; private set; } = null!;

    public async Task InitializeAsync()
    {
        ConnectionString = await TestDatabases.CreateAsync("orders", ServerConnection);
        DataSource = NpgsqlDataSource.Create(ConnectionString);
        await DatabaseSchema.MigrateAsync(DataSource, CancellationToken.None);
        await CatalogueSeed.SeedAsync(DataSource, CancellationToken.None);
    }

    public async Task DisposeAsync()
    {
        if (DataSource is not null)
        {
            await DataSource.DisposeAsync();
        }
    }

    /// <summary>Adds a product only this test uses, so stock assertions are not disturbed by other tests.</summary>
    public async Task<string> AddProductAsync(decimal price, int stock)
    {
        var sku = $"TEST-{Guid.NewGuid():N}"[..20].ToUpperInvariant();
        await ExecuteAsync("INSERT INTO products (sku, name, price, stock) VALUES (@p0, 'Test product', @p1, @p2)", sku, price, stock);
        return sku;
    }

    /// <summary>Writes an order row as the API would, in the given status.</summary>
    public async Task<string> AddOrderAsync(IReadOnlyList<OrderLine> lines, OrderStatus status = OrderStatus.Pending)
    {
        var id = $"t-{Guid.NewGuid():N}";
        var store = new OrderStore(DataSource);
        await store.RegisterAsync(id, "hash", new OrderRequestRecord(lines), "tok_visa", CancellationToken.None);
        if (status != OrderStatus.Pending)
        {
            await ExecuteAsync("UPDATE orders SET status = @p0 WHERE id = @p1", status.ToString(), id);
        }
        return id;
    }

    public async Task<int> StockAsync(string sku) => await ScalarAsync<int>("SELECT stock FROM products WHERE sku = @p0", sku);

    public async Task<T> ScalarAsync<T>(string sql, params object[] parameters)
    {
        await using var command = Command(sql, parameters);
        return (T)(await command.ExecuteScalarAsync())!;
    }

    public async Task ExecuteAsync(string sql, params object[] parameters)
    {
        await using var command = Command(sql, parameters);
        await command.ExecuteNonQueryAsync();
    }

    private NpgsqlCommand Command(string sql, object[] parameters)
    {
        var command = DataSource.CreateCommand(sql);
        for (var i = 0; i < parameters.Length; i++)
        {
            command.Parameters.AddWithValue($"p{i}", parameters[i]);
        }
        return command;
    }
}

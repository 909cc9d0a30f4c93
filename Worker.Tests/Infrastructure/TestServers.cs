using Npgsql;

namespace Worker.Tests.Infrastructure;

/// <summary>
/// The real PostgreSQL and Redis servers started by the test command (test.sh). Tests never substitute
/// in-memory fakes for them; without the variables they fail with instructions instead of skipping.
/// </summary>
public static class TestServers
{
    public static string PostgresConnection => Required("TEST_POSTGRES_CONNECTION");

    public static string RedisConnection => Required("TEST_REDIS_CONNECTION");

    /// <summary>A Redis endpoint where nothing listens: "Redis configured but down".</summary>
    public static string DeadRedisConnection => "127.0.0.1:1,abortConnect=false,connectTimeout=500";

    /// <summary>Creates a fresh, empty database and returns its connection string.</summary>
    public static async Task<string> CreateDatabaseAsync(string prefix, string? serverConnection = null)
    {
        serverConnection ??= PostgresConnection;
        var name = $"{prefix}_{Guid.NewGuid():N}".ToLowerInvariant();
        await using (var admin = new NpgsqlConnection(serverConnection))
        {
            await admin.OpenAsync();
            await using var command = new NpgsqlCommand($"CREATE DATABASE \"{name}\"", admin);
            await command.ExecuteNonQueryAsync();
        }
        return new NpgsqlConnectionStringBuilder(serverConnection) { Database = name }.ConnectionString;
    }

    private static string Required(string variable) =>
        Environment.GetEnvironmentVariable(variable) is { Length: > 0 } value
            ? value
            : throw new InvalidOperationException(
                $"{variable} is not set. Run the tests with ./test.sh, which starts PostgreSQL and Redis and sets it.");
}

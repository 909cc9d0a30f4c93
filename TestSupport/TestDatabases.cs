using Npgsql;

namespace TestSupport;

/// <summary>
/// A database of one test's own on a shared PostgreSQL server, so tests running in parallel never see each
/// other's rows. Databases are not dropped: the test command throws the whole server away afterwards.
/// </summary>
public static class TestDatabases
{
    /// <summary>Creates an empty database named <c>{prefix}_{guid}</c> and returns its connection string.</summary>
    /// <param name="prefix">Says which tests made the database, for whoever looks at the server.</param>
    /// <param name="serverConnection">The server to create it on; <see cref="TestSettings.PostgresConnection"/> when null.</param>
    public static async Task<string> CreateAsync(string prefix, string? serverConnection = null)
    {
        serverConnection ??= TestSettings.PostgresConnection;
        var name = $"{prefix}_{Guid.NewGuid():N}".ToLowerInvariant();
        await using (var admin = new NpgsqlConnection(serverConnection))
        {
            await admin.OpenAsync();
            await using var command = new NpgsqlCommand($"CREATE DATABASE \"{name}\"", admin);
            await command.ExecuteNonQueryAsync();
        }
        return new NpgsqlConnectionStringBuilder(serverConnection) { Database = name }.ConnectionString;
    }
}

namespace TestSupport;

/// <summary>
/// The settings the test command (test.sh, through scripts/test-services.sh) exports for the real servers it
/// started. Tests never fall back to in-memory substitutes or skip: without a setting they fail and say how to
/// get it.
/// </summary>
public static class TestSettings
{
    /// <summary>Connection string of the shared PostgreSQL server (<c>TEST_POSTGRES_CONNECTION</c>), database <c>postgres</c>.</summary>
    public static string PostgresConnection => Required("TEST_POSTGRES_CONNECTION");

    /// <summary>Endpoint of the shared Redis server (<c>TEST_REDIS_CONNECTION</c>).</summary>
    public static string RedisConnection => Required("TEST_REDIS_CONNECTION");

    /// <summary>
    /// The folder of the PostgreSQL binaries the test command found (<c>TEST_PG_BIN</c>), for tests that run a
    /// server of their own.
    /// </summary>
    public static string PostgresBinaries => Required("TEST_PG_BIN");

    private static string Required(string variable) =>
        Required(variable, "Run through ./test.sh (benchmarks through their bench/ script), which starts PostgreSQL and Redis and sets it.");

    /// <summary>The value of a variable the test command exports, or an exception that says how to get it.</summary>
    internal static string Required(string variable, string howToGetIt) =>
        Environment.GetEnvironmentVariable(variable) is { Length: > 0 } value
            ? value
            : throw new InvalidOperationException($"{variable} is not set. {howToGetIt}");
}

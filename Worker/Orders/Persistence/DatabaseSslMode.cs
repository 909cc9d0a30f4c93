using Npgsql;

namespace Worker.Orders.Persistence;

/// <summary>
/// <c>Database:SslMode</c>: TLS to PostgreSQL in libpq's words (<c>disable</c>, <c>allow</c>, <c>prefer</c>,
/// <c>require</c>, <c>verify-ca</c>, <c>verify-full</c>), so one setting serves the worker and the psql-based jobs
/// beside it. Unset leaves the connection string's own <c>SSL Mode</c>. The CA certificate comes from the
/// connection string's <c>Root Certificate</c> or, as for libpq, <c>PGSSLROOTCERT</c>.
/// </summary>
public static class DatabaseSslMode
{
    public const string Key = "Database:SslMode";

    /// <summary>The mode the configuration names; null when unset.</summary>
    /// <exception cref="InvalidOperationException">The setting names no mode.</exception>
    public static SslMode? From(IConfiguration configuration)
    {
        ArgumentNullException.ThrowIfNull(configuration);
        return configuration[Key] is { Length: > 0 } mode ? Parse(mode) : null;
    }

    public static SslMode Parse(string mode) => mode.Trim().ToLowerInvariant() switch
    {
        "disable" => SslMode.Disable,
        "allow" => SslMode.Allow,
        "prefer" => SslMode.Prefer,
        "require" => SslMode.Require,
        "verify-ca" => SslMode.VerifyCA,
        "verify-full" => SslMode.VerifyFull,
        _ => throw new InvalidOperationException(
            $"{Key} must be one of disable, allow, prefer, require, verify-ca, verify-full (libpq's sslmode), not '{mode}'."),
    };
}

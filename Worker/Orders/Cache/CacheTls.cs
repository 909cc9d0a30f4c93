using StackExchange.Redis;

namespace Worker.Orders.Cache;

/// <summary>
/// TLS to Redis from settings, beside the connection string the deployment writes: <c>Redis:Tls</c> turns it on, and
/// <c>Redis:CaCertificatePath</c> names the CA that issued the server's certificate (a private one); the server's host
/// name is verified as the connection string names it (docs/security.md, "Encryption in transit").
/// </summary>
/// <param name="CaCertificatePath">The CA to trust; null trusts the system's store.</param>
public sealed record CacheTls(string? CaCertificatePath)
{
    /// <summary>The settings' TLS, or null when off; read at start so that a wrong path stops it, named.</summary>
    /// <exception cref="InvalidOperationException">The CA certificate named does not exist.</exception>
    public static CacheTls? From(IConfiguration configuration)
    {
        ArgumentNullException.ThrowIfNull(configuration);
        if (!configuration.GetValue("Redis:Tls", false))
        {
            return null;
        }
        var path = configuration["Redis:CaCertificatePath"] is { Length: > 0 } configured ? configured : null;
        if (path is not null && !File.Exists(path))
        {
            throw new InvalidOperationException($"Redis:CaCertificatePath names {path}, which does not exist (Redis:Tls is on).");
        }
        return new CacheTls(path);
    }

    public void Apply(ConfigurationOptions options)
    {
        ArgumentNullException.ThrowIfNull(options);
        options.Ssl = true;
        if (CaCertificatePath is not null)
        {
            options.TrustIssuer(CaCertificatePath);
        }
    }
}

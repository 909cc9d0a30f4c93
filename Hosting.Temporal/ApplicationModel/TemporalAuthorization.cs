namespace Aspire.Hosting.ApplicationModel;

/// <summary>
/// Temporal's authorizer on a <see cref="TemporalServerResource"/>: each call needs a JWT whose <c>permissions</c> claim
/// names what it may do (<c>orders:write</c>, <c>temporal-system:admin</c>), signed by a key of the JWKS at
/// <see cref="JwksUrl"/>; the server's own worker calls an internal frontend instead, which internode mutual TLS guards.
/// Off while the URL is empty (its default everywhere: docs/security.md, "Temporal authorization").
/// </summary>
/// <param name="JwksUrl">A non-secret parameter: the identity provider's JWKS URL, or empty.</param>
/// <param name="WorkerTokenFile">A non-secret parameter: where a worker reads its token (<c>Temporal:ApiKeyFile</c>), or empty.</param>
public sealed record TemporalAuthorization(IResourceBuilder<ParameterResource> JwksUrl, IResourceBuilder<ParameterResource> WorkerTokenFile)
{
    /// <summary>The Secret of the tokens: <see cref="WorkerKey"/> for workers, <see cref="AdminKey"/> for the jobs.</summary>
    public const string TokenSecret = "temporal-token";

    /// <summary>The worker's token (<c>&lt;namespace&gt;:write</c>).</summary>
    public const string WorkerKey = "worker";

    /// <summary>The jobs' token (<c>temporal-system:admin</c>: namespaces, worker deployments).</summary>
    public const string AdminKey = "admin";

    /// <summary>Where clients mount <see cref="TokenSecret"/>.</summary>
    public const string TokenPath = "/etc/temporal-token";

    /// <summary>The variable the server's start script reads the JWKS URL from.</summary>
    public const string JwksVariable = "TEMPORAL_SERVER_JWKS_URL";
}

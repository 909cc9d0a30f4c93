namespace Aspire.Hosting.ApplicationModel;

/// <summary>
/// TLS from Temporal's schema job and server to PostgreSQL, verifying the server's certificate and host name against
/// a CA: off while <see cref="Enabled"/> is <c>false</c> (its default), on in production (the deployments' production
/// forms set it to <c>true</c>).
/// </summary>
/// <param name="Enabled">A non-secret parameter, <c>false</c> or <c>true</c>.</param>
/// <param name="CaSecret">The Secret Kubernetes mounts the CA certificate from (its key <c>ca.crt</c>).</param>
/// <param name="CaDirectory">Where the CA certificate is mounted.</param>
public sealed record TemporalDatabaseTls(IResourceBuilder<ParameterResource> Enabled, string CaSecret, string CaDirectory)
{
    /// <summary>The CA certificate's path in the container.</summary>
    public string CaFile => $"{CaDirectory.TrimEnd('/')}/ca.crt";
}

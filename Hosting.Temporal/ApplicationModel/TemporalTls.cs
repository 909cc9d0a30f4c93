namespace Aspire.Hosting.ApplicationModel;

/// <summary>
/// Mutual TLS of a <see cref="TemporalServerResource"/>: its frontend and its services among themselves serve the
/// Secret <see cref="ServerSecret"/> and ask every caller for a certificate of that Secret's CA; its clients present
/// <see cref="ClientSecret"/>'s. Off while <see cref="Enabled"/> is <c>false</c> (its default, and what Compose and the
/// AppHost run), on in the deployments' production forms (docs/security.md, "Encryption in transit").
/// </summary>
/// <param name="Enabled">A non-secret parameter, <c>false</c> or <c>true</c>: the server, its jobs and its Web UI.</param>
/// <param name="ClientDirectory">A non-secret parameter, empty or <see cref="ClientPath"/>: where a worker
/// (<c>Temporal:TlsDirectory</c>) finds its client certificate, empty while TLS is off.</param>
/// <param name="ServerName">The name the server's certificate carries and clients check: the frontend's host name.</param>
public sealed record TemporalTls(IResourceBuilder<ParameterResource> Enabled, IResourceBuilder<ParameterResource> ClientDirectory, string ServerName)
{
    /// <summary>The server's certificate (<c>tls.crt</c>, <c>tls.key</c>, <c>ca.crt</c>), for server and client authentication.</summary>
    public const string ServerSecret = "temporal-tls";

    /// <summary>The clients' certificate (<c>tls.crt</c>, <c>tls.key</c>, <c>ca.crt</c>), of the same CA.</summary>
    public const string ClientSecret = "temporal-client-tls";

    /// <summary>Where the server mounts <see cref="ServerSecret"/>.</summary>
    public const string ServerPath = "/etc/temporal-tls";

    /// <summary>Where clients mount <see cref="ClientSecret"/>.</summary>
    public const string ClientPath = "/etc/temporal-client-tls";

    /// <summary>The variable the server's, the jobs' and the UI's start scripts read the switch from.</summary>
    public const string SwitchVariable = "TEMPORAL_SERVER_TLS";
}

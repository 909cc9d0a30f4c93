namespace TemporalTestServer;

/// <summary>Settings of a <see cref="TemporalTestServer"/>.</summary>
public sealed class TestServerOptions
{
    /// <summary>Loopback port; 0 picks a free one.</summary>
    public int Port { get; set; }

    /// <summary>
    /// Skip time to the next durable timer when nothing is runnable and a client is waiting for a workflow
    /// result (as Temporal's own time-skipping test server does). Off: timers fire in real time.
    /// </summary>
    public bool TimeSkipping { get; set; } = true;

    /// <summary>Namespaces that exist besides <c>default</c>.</summary>
    public IList<string> Namespaces { get; } = [];

    /// <summary>Longest a poll waits before an empty answer (also bounded by the caller's deadline).</summary>
    public TimeSpan LongPollTimeout { get; set; } = TimeSpan.FromSeconds(20);

    /// <summary>
    /// How long after a version stops being current or ramping its open pinned workflows are first counted
    /// for its drainage status (the real server waits minutes for its visibility store).
    /// </summary>
    public TimeSpan DrainageGracePeriod { get; set; } = TimeSpan.FromSeconds(1);

    /// <summary>
    /// Serve TLS with this certificate (its private key included) instead of plain HTTP/2, as a self-hosted frontend with
    /// TLS does; null serves plain text.
    /// </summary>
    public System.Security.Cryptography.X509Certificates.X509Certificate2? TlsCertificate { get; set; }

    /// <summary>With <see cref="TlsCertificate"/>: require a client certificate this CA issued (mutual TLS); null asks none.</summary>
    public System.Security.Cryptography.X509Certificates.X509Certificate2? ClientCertificateAuthority { get; set; }

    /// <summary>
    /// Decides each call by its <c>authorization</c> header (null when absent), as a frontend with an authorizer does:
    /// refused calls fail with PERMISSION_DENIED, except the health check and GetSystemInfo without a token, which Temporal
    /// exempts (a token sent with them is checked: the SDK's connect call fails with an expired one).
    /// Null lets every call through.
    /// </summary>
    public Func<string?, bool>? Authorize { get; set; }

    /// <summary>How often a draining version counts its open pinned workflows again.</summary>
    public TimeSpan DrainageRefreshInterval { get; set; } = TimeSpan.FromSeconds(1);
}

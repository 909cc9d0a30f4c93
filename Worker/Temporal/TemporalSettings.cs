using System.Reflection;
using Temporalio.Common;

namespace Worker.Temporal;

/// <summary>
/// Connection to Temporal: the reference in <c>ConnectionStrings:temporal</c> (see <see cref="TemporalConnectionString"/>),
/// and section <c>Temporal</c>, whose keys override it when set. Only the address is required.
/// </summary>
public sealed class TemporalSettings
{
    public const string Section = "Temporal";

    private const int MaxVersionPartLength = 255;

    /// <summary>
    /// host:port of the Temporal frontend, e.g. <c>localhost:7233</c> or <c>ns.acct.tmprl.cloud:7233</c>; by default
    /// the connection string's endpoint.
    /// </summary>
    public string? Address { get; set; }

    /// <summary>The namespace; by default the connection string's, else <c>default</c>.</summary>
    public string Namespace { get; set; } = "default";

    /// <summary>The task queue the worker polls and the API starts workflows on; the application sets its default.</summary>
    public string TaskQueue { get; set; } = "default";

    /// <summary>Temporal Cloud API key (a secret). Setting it turns TLS on unless <see cref="Tls"/> says otherwise.</summary>
    public string? ApiKey { get; set; }

    /// <summary>
    /// A file holding the API key or a token (a JWT for a self-hosted server's authorizer, say), instead of
    /// <see cref="ApiKey"/>: read at start and again every <see cref="ApiKeyFileCheckInterval"/>, so a rotated token (a
    /// mounted Secret the kubelet updates) is used without a restart. Turns TLS on as the key does.
    /// </summary>
    public string? ApiKeyFile { get; set; }

    /// <summary>How often <see cref="ApiKeyFile"/> is read again.</summary>
    public TimeSpan ApiKeyFileCheckInterval { get; set; } = TimeSpan.FromMinutes(1);

    /// <summary>Use TLS. Defaults to on when an API key or a client certificate is configured.</summary>
    public bool? Tls { get; set; }

    /// <summary>Overrides the TLS server name (SNI), for servers reached through a proxy.</summary>
    public string? TlsServerName { get; set; }

    /// <summary>PEM client certificate for mTLS (Temporal Cloud with certificates, self-hosted with mTLS).</summary>
    public string? TlsClientCertPath { get; set; }

    /// <summary>PEM private key of <see cref="TlsClientCertPath"/>.</summary>
    public string? TlsClientKeyPath { get; set; }

    /// <summary>PEM CA bundle to trust instead of the system roots.</summary>
    public string? TlsServerCaCertPath { get; set; }

    /// <summary>
    /// A mounted Kubernetes TLS Secret: <c>tls.crt</c> and <c>tls.key</c> as the client certificate for mutual TLS, and
    /// <c>ca.crt</c> as the CA to trust, each unless its own path above is set. Turns TLS on. Empty: unused (a setting the
    /// deployments' production forms fill, docs/security.md, "Encryption in transit").
    /// </summary>
    public string? TlsDirectory { get; set; }

    /// <summary>How often the TLS files are compared with those the worker connected with (<see cref="TemporalCertificateWatcher"/>).</summary>
    public TimeSpan TlsFileCheckInterval { get; set; } = TimeSpan.FromMinutes(1);

    /// <summary>Once the TLS files changed, each replica stops within a random part of this, not all at once.</summary>
    public TimeSpan TlsRestartSpread { get; set; } = TimeSpan.FromMinutes(10);

    /// <summary>The client certificate: its own path, else <see cref="TlsDirectory"/>'s <c>tls.crt</c>.</summary>
    public string? ClientCertificateFile => FirstOf(TlsClientCertPath, "tls.crt");

    /// <summary>The client certificate's key: its own path, else <see cref="TlsDirectory"/>'s <c>tls.key</c>.</summary>
    public string? ClientKeyFile => FirstOf(TlsClientKeyPath, "tls.key");

    /// <summary>The CA to trust: its own path, else <see cref="TlsDirectory"/>'s <c>ca.crt</c>.</summary>
    public string? ServerCaFile => FirstOf(TlsServerCaCertPath, "ca.crt");

    private string? FirstOf(string? path, string fileInDirectory) =>
        !string.IsNullOrEmpty(path) ? path : string.IsNullOrEmpty(TlsDirectory) ? null : Path.Combine(TlsDirectory, fileInDirectory);

    /// <summary>
    /// Compression of the gRPC calls to Temporal. None by default, unlike the SDK: gzip took 5% of the CPU of the worker
    /// and test server under load (docs/benchmarks.md) to shrink messages whose payloads are encrypted, so do not
    /// compress, and that cross a cluster's network; Gzip saves bytes on a metered link with payloads in clear.
    /// </summary>
    public TemporalGrpcCompression GrpcCompression { get; set; } = TemporalGrpcCompression.None;

    /// <summary>How long a worker lets in-flight activities finish on shutdown before cancelling them.</summary>
    public TimeSpan GracefulShutdownTimeout { get; set; } = TimeSpan.FromSeconds(30);

    /// <summary>
    /// Identity prefix (default <c>&lt;task queue&gt;-worker</c>); the host name is appended so each replica is told
    /// apart in the Temporal UI.
    /// </summary>
    public string? Identity { get; set; }

    /// <summary>
    /// The Worker Deployment this worker polls as a version of (Temporal's Worker Deployment Versioning). Unset: the
    /// worker is unversioned, and every build on the task queue takes any task.
    /// </summary>
    public string? DeploymentName { get; set; }

    /// <summary>The build id of this worker's version; by default this build's informational version (version+commit).</summary>
    public string? BuildId { get; set; }

    /// <summary>The version this worker polls as, or null when it is unversioned.</summary>
    public WorkerDeploymentVersion? DeploymentVersion =>
        string.IsNullOrWhiteSpace(DeploymentName) ? null : new(DeploymentName, string.IsNullOrWhiteSpace(BuildId) ? DefaultBuildId : BuildId);

    /// <summary>This build's informational version: the version the build was given, and the commit it was built from.</summary>
    public static string DefaultBuildId { get; } =
        typeof(TemporalSettings).Assembly.GetCustomAttribute<AssemblyInformationalVersionAttribute>()?.InformationalVersion ?? "unknown";

    public bool UseTls => Tls ?? (!string.IsNullOrEmpty(ApiKey) || !string.IsNullOrEmpty(ApiKeyFile)
        || !string.IsNullOrEmpty(TlsClientCertPath) || !string.IsNullOrEmpty(TlsDirectory));

    /// <summary>The key to call with: <see cref="ApiKey"/>, else <see cref="ApiKeyFile"/>'s contents trimmed; null for none.</summary>
    public string? CurrentApiKey() =>
        !string.IsNullOrEmpty(ApiKey) ? ApiKey
        : string.IsNullOrEmpty(ApiKeyFile) || !File.Exists(ApiKeyFile) ? null
        : File.ReadAllText(ApiKeyFile).Trim() is { Length: > 0 } key ? key : null;

    /// <summary>
    /// True for <c>host:port</c> (the SDK adds the scheme itself): a host without spaces or a scheme, then a port
    /// from 1 to 65535.
    /// </summary>
    public static bool IsHostAndPort(string value)
    {
        ArgumentNullException.ThrowIfNull(value);
        var colon = value.LastIndexOf(':');
        return colon > 0
            && !value.Contains("://", StringComparison.Ordinal)
            && !value.Any(char.IsWhiteSpace)
            && int.TryParse(value.AsSpan(colon + 1), System.Globalization.NumberStyles.None, System.Globalization.CultureInfo.InvariantCulture, out var port)
            && port is > 0 and <= 65535;
    }

    /// <summary>Problems that make the settings unusable, each naming its configuration key.</summary>
    public IEnumerable<string> Validate()
    {
        if (string.IsNullOrWhiteSpace(Address))
        {
            yield return $"Temporal:Address or {TemporalConnectionString.ConfigurationKey} is required: the Temporal frontend, "
                + $"as environment variable ConnectionStrings__{TemporalConnectionString.Name}=Endpoint=localhost:7233;Namespace=orders "
                + "(or just localhost:7233), or Temporal__Address=localhost:7233.";
        }
        else if (!IsHostAndPort(Address))
        {
            yield return $"Temporal:Address must be host:port, without a scheme (got '{Address}').";
        }
        if (string.IsNullOrWhiteSpace(Namespace))
        {
            yield return "Temporal:Namespace must not be empty.";
        }
        if (string.IsNullOrWhiteSpace(TaskQueue))
        {
            yield return "Temporal:TaskQueue must not be empty.";
        }
        if (string.IsNullOrEmpty(TlsClientCertPath) != string.IsNullOrEmpty(TlsClientKeyPath))
        {
            yield return "Temporal:TlsClientCertPath and Temporal:TlsClientKeyPath must be set together.";
        }
        if (!string.IsNullOrEmpty(ApiKeyFile))
        {
            if (!string.IsNullOrEmpty(ApiKey))
            {
                yield return "Temporal:ApiKey and Temporal:ApiKeyFile are two sources of one key: set one.";
            }
            else if (CurrentApiKey() is null)
            {
                yield return $"Temporal:ApiKeyFile '{ApiKeyFile}' is missing or empty: mount the token's Secret there "
                    + "(docs/security.md, \"Temporal authorization\"), or leave the setting empty.";
            }
            if (ApiKeyFileCheckInterval <= TimeSpan.Zero)
            {
                yield return "Temporal:ApiKeyFileCheckInterval must be positive.";
            }
        }
        if (!string.IsNullOrEmpty(TlsDirectory))
        {
            // An optional Secret that was never created mounts as an empty directory: say which, rather than fail on the first read.
            var fromDirectory = new[] { (TlsClientCertPath, "tls.crt"), (TlsClientKeyPath, "tls.key"), (TlsServerCaCertPath, "ca.crt") }
                .Where(f => string.IsNullOrEmpty(f.Item1)).Select(f => f.Item2);
            var missing = fromDirectory.Where(name => !File.Exists(Path.Combine(TlsDirectory, name))).ToList();
            if (missing.Count > 0)
            {
                yield return $"Temporal:TlsDirectory '{TlsDirectory}' has no {string.Join(", ", missing)}: mount the client certificate's Secret there "
                    + "(docs/security.md, \"Encryption in transit\"), or leave the setting empty for a Temporal that needs no client certificate.";
            }
        }
        if (DeploymentVersion is { } version)
        {
            // The server's limits: a build id must not use the reserved "__" prefix, and both fit in 255 characters.
            if (version.DeploymentName.Length > MaxVersionPartLength || version.BuildId.Length > MaxVersionPartLength)
            {
                yield return $"Temporal:DeploymentName and Temporal:BuildId must each be at most {MaxVersionPartLength} characters.";
            }
            if (version.BuildId.StartsWith("__", StringComparison.Ordinal))
            {
                yield return "Temporal:BuildId must not start with '__' (reserved by Temporal).";
            }
        }
        else if (!string.IsNullOrWhiteSpace(BuildId))
        {
            yield return "Temporal:BuildId needs Temporal:DeploymentName: a build id names a version of a Worker Deployment.";
        }
        if (TlsFileCheckInterval <= TimeSpan.Zero || TlsRestartSpread < TimeSpan.Zero)
        {
            yield return "Temporal:TlsFileCheckInterval must be positive and Temporal:TlsRestartSpread not negative.";
        }
        if (GracefulShutdownTimeout < TimeSpan.Zero)
        {
            yield return "Temporal:GracefulShutdownTimeout must not be negative.";
        }
    }
}

/// <summary>How the worker's calls to Temporal are compressed.</summary>
public enum TemporalGrpcCompression
{
    /// <summary>Neither requests nor responses compressed (first: an empty setting binds to it).</summary>
    None,

    /// <summary>Requests gzip-compressed, and gzip-compressed responses accepted.</summary>
    Gzip,
}

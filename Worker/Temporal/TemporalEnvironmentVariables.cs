namespace Worker.Temporal;

/// <summary>
/// Temporal's standard environment variables, the ones its CLI and SDKs read and the temporal-worker-controller
/// injects into the worker pods it creates, as <c>Temporal:*</c> settings. They are added last, above every other
/// source: where the controller says which server, namespace and version a pod is, that is what it is.
/// </summary>
public static class TemporalEnvironmentVariables
{
    private static readonly (string Variable, string Setting)[] Mapping =
    [
        ("TEMPORAL_ADDRESS", nameof(TemporalSettings.Address)),
        ("TEMPORAL_NAMESPACE", nameof(TemporalSettings.Namespace)),
        ("TEMPORAL_API_KEY", nameof(TemporalSettings.ApiKey)),
        ("TEMPORAL_TLS", nameof(TemporalSettings.Tls)),
        ("TEMPORAL_TLS_SERVER_NAME", nameof(TemporalSettings.TlsServerName)),
        ("TEMPORAL_TLS_SERVER_CA_CERT_PATH", nameof(TemporalSettings.TlsServerCaCertPath)),
        ("TEMPORAL_TLS_CLIENT_CERT_PATH", nameof(TemporalSettings.TlsClientCertPath)),
        ("TEMPORAL_TLS_CLIENT_KEY_PATH", nameof(TemporalSettings.TlsClientKeyPath)),
        ("TEMPORAL_DEPLOYMENT_NAME", nameof(TemporalSettings.DeploymentName)),
        ("TEMPORAL_WORKER_BUILD_ID", nameof(TemporalSettings.BuildId)),
    ];

    /// <summary>Adds the variables that are set, as <c>Temporal:*</c> keys above every source added before.</summary>
    /// <param name="configuration">The configuration to add them to.</param>
    /// <param name="getVariable">Reads a variable; the process's environment by default.</param>
    public static IConfigurationBuilder AddTemporalEnvironmentVariables(
        this IConfigurationBuilder configuration, Func<string, string?>? getVariable = null)
    {
        getVariable ??= Environment.GetEnvironmentVariable;
        var values = Mapping
            .Select(m => (Key: $"{TemporalSettings.Section}:{m.Setting}", Value: getVariable(m.Variable)))
            .Where(m => !string.IsNullOrEmpty(m.Value))
            .ToDictionary(m => m.Key, m => m.Value);
        return values.Count == 0 ? configuration : configuration.AddInMemoryCollection(values);
    }
}

using System.Diagnostics.Metrics;
using Microsoft.Extensions.Options;
using OpenTelemetry.Metrics;
using Temporalio.Client;
using Temporalio.Runtime;
using Temporalio.Worker;
using Worker.Temporal.Codec;
using Worker.Temporal.Tracing;

namespace Worker.Temporal;

/// <summary>
/// Registers the Temporal client, the worker (worker role) and their health checks. Knows no workflow: the
/// application adds its workflows and activities with <c>services.Configure&lt;TemporalWorkerOptions&gt;</c> and
/// what the worker must wait for as <see cref="IWorkerReadinessGate"/>s.
/// </summary>
public static class TemporalHostingExtensions
{
    /// <param name="builder">The host.</param>
    /// <param name="roles">Whether this process runs the worker.</param>
    /// <param name="defaultTaskQueue">The application's task queue unless <c>Temporal:TaskQueue</c> says otherwise.</param>
    public static WebApplicationBuilder AddTemporal(this WebApplicationBuilder builder, WorkerRoles roles, string defaultTaskQueue)
    {
        ArgumentNullException.ThrowIfNull(builder);
        var services = builder.Services;
        builder.Configuration.AddTemporalEnvironmentVariables();
        var section = builder.Configuration.GetSection(TemporalSettings.Section);
        var reference = TemporalConnectionString.Parse(builder.Configuration.GetConnectionString(TemporalConnectionString.Name));
        services.AddOptions<TemporalSettings>()
            .Configure(settings => settings.TaskQueue = defaultTaskQueue)
            .Bind(section)
            .Configure(settings =>
            {
                // The connection string fills in what no Temporal:* key sets (an empty value counts as unset).
                if (reference is not null && string.IsNullOrWhiteSpace(section[nameof(TemporalSettings.Address)]))
                {
                    settings.Address = reference.Endpoint;
                }
                if (reference?.Namespace is not null && string.IsNullOrWhiteSpace(section[nameof(TemporalSettings.Namespace)]))
                {
                    settings.Namespace = reference.Namespace;
                }
            })
            .ValidateOnStart();
        services.AddSingleton<IValidateOptions<TemporalSettings>, TemporalSettingsValidator>();
        services.AddOptions<PayloadEncryptionSettings>().Bind(builder.Configuration.GetSection(PayloadEncryptionSettings.Section))
            .ValidateOnStart();
        services.AddSingleton<IValidateOptions<PayloadEncryptionSettings>, PayloadEncryptionSettingsValidator>();
        services.AddSingleton<PayloadEncryption>();
        services.AddPayloadCodecCors();

        services.AddSingleton(sp => new TemporalRuntime(new TemporalRuntimeOptions
        {
            Telemetry = new TelemetryOptions
            {
                Metrics = new MetricsOptions
                {
                    CustomMetricMeter = new TemporalMetricMeter(
                        sp.GetRequiredService<IMeterFactory>().Create(TemporalMetricMeter.MeterName)),
                    CustomMetricMeterOptions = new CustomMetricMeterOptions
                    {
                        // Seconds, the base unit OpenTelemetry and Prometheus expect for durations (as ASP.NET
                        // Core's http.server.request.duration); the view below gives them second-scale buckets.
                        HistogramDurationFormat = CustomMetricMeterOptions.DurationFormat.FloatSeconds,
                    },
                },
            },
        }));
        services.ConfigureOpenTelemetryMeterProvider(metrics => metrics
            .AddMeter(TemporalMetricMeter.MeterName)
            .AddView(instrument => TemporalMetricMeter.IsLatencyHistogram(instrument)
                ? new ExplicitBucketHistogramConfiguration { Boundaries = TemporalMetricMeter.LatencyBucketsSeconds }
                : null));

        // One lazy client per process (Temporalio.Extensions.Hosting): the API, the worker and the health check
        // share its connection. The package's hosted worker (AddHostedTemporalWorker) is not used: it connects
        // when the host starts and stops the host when connecting or polling fails, while this process must
        // stay up and live through a Temporal outage. So TemporalConnectionKeeper connects in the background
        // and WorkerPollingService polls once connected and the readiness gates are open, restarts polling
        // after a failure, and tells readiness whether it polls.
        services.AddTemporalClient().Configure<IOptions<TemporalSettings>, TemporalRuntime, ILoggerFactory, IServiceProvider>(
            (options, settings, runtime, loggerFactory, provider) =>
            {
                Configure(options, settings.Value, runtime, loggerFactory);
                // The worker made from this client converts through the same codec (workflow and activity payloads).
                options.DataConverter = provider.GetRequiredService<PayloadEncryption>().DataConverter;
                if (provider.GetService<TracingClientInterceptor>() is { } tracing)
                {
                    options.Interceptors = [.. options.Interceptors ?? [], tracing];
                }
            });
        // Spans and trace context across client, workflow and activity; Telemetry:Tracing=false turns them off.
        services.AddTemporalTracing(builder.Configuration);
        services.AddOptions<TemporalWorkerOptions>().Configure<TracingWorkerInterceptor>(
            (options, tracing) => options.Interceptors = [.. options.Interceptors ?? [], tracing]);
        services.AddSingleton<TemporalConnectionKeeper>();
        services.AddHostedService(sp => sp.GetRequiredService<TemporalConnectionKeeper>());
        services.AddHostedService<TemporalApiKeyFileWatcher>();
        services.AddHostedService<TemporalCertificateWatcher>();
        var health = services.AddHealthChecks().AddCheck<TemporalHealthCheck>("temporal");

        if (roles.Worker)
        {
            services.AddSingleton<WorkerPollingState>();
            services.AddHostedService<WorkerPollingService>();
            health.AddCheck<WorkerPollingHealthCheck>("temporal-worker");
        }

        // Let in-flight activities finish on SIGTERM: the host must wait longer than the worker's own
        // graceful-shutdown window, or the host would cut it short.
        var graceful = builder.Configuration.GetSection(TemporalSettings.Section)
            .GetValue(nameof(TemporalSettings.GracefulShutdownTimeout), TimeSpan.FromSeconds(30));
        services.Configure<HostOptions>(o => o.ShutdownTimeout = graceful + HostShutdownMargin);
        return builder;
    }

    /// <summary>How much longer than the worker's graceful-shutdown window the host waits (deployments' grace periods cover both).</summary>
    public static readonly TimeSpan HostShutdownMargin = TimeSpan.FromSeconds(10);

    /// <summary>Connection options from settings: namespace, API key, TLS and mTLS, identity, metrics runtime.</summary>
    public static TemporalClientConnectOptions CreateConnectOptions(
        TemporalSettings settings, TemporalRuntime runtime, ILoggerFactory loggerFactory)
    {
        var options = new TemporalClientConnectOptions();
        Configure(options, settings, runtime, loggerFactory);
        return options;
    }

    private static void Configure(
        TemporalClientConnectOptions options, TemporalSettings settings, TemporalRuntime runtime, ILoggerFactory loggerFactory)
    {
        ArgumentNullException.ThrowIfNull(settings);
        options.TargetHost = settings.Address;
        options.Namespace = settings.Namespace;
        options.ApiKey = settings.CurrentApiKey();
        // Off said explicitly: the SDK turns TLS on by itself for an API key unless told it is disabled.
        options.Tls = settings.UseTls ? CreateTls(settings) : new TlsOptions { Disabled = true };
        options.Runtime = runtime;
        options.LoggerFactory = loggerFactory;
        options.Identity = $"{settings.Identity ?? settings.TaskQueue + "-worker"}@{Environment.MachineName}";
        options.GrpcCompression = settings.GrpcCompression == TemporalGrpcCompression.None ? new GrpcCompression.None() : new GrpcCompression.Gzip();
    }

    private static TlsOptions CreateTls(TemporalSettings settings) => new()
    {
        Domain = settings.TlsServerName,
        ServerRootCACert = ReadOptional(settings.ServerCaFile),
        ClientCert = ReadOptional(settings.ClientCertificateFile),
        ClientPrivateKey = ReadOptional(settings.ClientKeyFile),
    };

    private static byte[]? ReadOptional(string? path) => string.IsNullOrEmpty(path) ? null : File.ReadAllBytes(path);

    private sealed class PayloadEncryptionSettingsValidator : IValidateOptions<PayloadEncryptionSettings>
    {
        public ValidateOptionsResult Validate(string? name, PayloadEncryptionSettings options)
        {
            var errors = options.Validate().ToList();
            return errors.Count == 0 ? ValidateOptionsResult.Success : ValidateOptionsResult.Fail(errors);
        }
    }

    private sealed class TemporalSettingsValidator : IValidateOptions<TemporalSettings>
    {
        public ValidateOptionsResult Validate(string? name, TemporalSettings options)
        {
            var errors = options.Validate().ToList();
            return errors.Count == 0 ? ValidateOptionsResult.Success : ValidateOptionsResult.Fail(errors);
        }
    }
}

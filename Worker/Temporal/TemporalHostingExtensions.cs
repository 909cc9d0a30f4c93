using System.Diagnostics.Metrics;
using Microsoft.Extensions.Options;
using OpenTelemetry.Metrics;
using Temporalio.Client;
using Temporalio.Runtime;
using Worker.Orders;

namespace Worker.Temporal;

/// <summary>Registers the Temporal client, the worker (worker role) and their health checks.</summary>
public static class TemporalHostingExtensions
{
    public static WebApplicationBuilder AddTemporal(this WebApplicationBuilder builder, WorkerRoles roles)
    {
        ArgumentNullException.ThrowIfNull(builder);
        var services = builder.Services;
        services.AddOptions<TemporalSettings>()
            .Bind(builder.Configuration.GetSection(TemporalSettings.Section))
            .ValidateOnStart();
        services.AddSingleton<IValidateOptions<TemporalSettings>, TemporalSettingsValidator>();

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

        // One lazy client per process: the API, the worker and the health check share its connection.
        services.AddSingleton<ITemporalClient>(sp => TemporalClient.CreateLazy(CreateConnectOptions(
            sp.GetRequiredService<IOptions<TemporalSettings>>().Value,
            sp.GetRequiredService<TemporalRuntime>(),
            sp.GetRequiredService<ILoggerFactory>())));
        services.AddSingleton<TemporalConnectionKeeper>();
        services.AddHostedService(sp => sp.GetRequiredService<TemporalConnectionKeeper>());
        var health = services.AddHealthChecks().AddCheck<TemporalHealthCheck>("temporal");

        if (roles.Worker)
        {
            services.AddScoped<OrderActivities>();
            services.AddSingleton<WorkerPollingState>();
            services.AddHostedService<OrderWorkerService>();
            health.AddCheck<WorkerPollingHealthCheck>("temporal-worker");
        }

        // Let in-flight activities finish on SIGTERM: the host must wait longer than the worker's own
        // graceful-shutdown window, or the host would cut it short.
        var graceful = builder.Configuration.GetSection(TemporalSettings.Section)
            .GetValue(nameof(TemporalSettings.GracefulShutdownTimeout), TimeSpan.FromSeconds(30));
        services.Configure<HostOptions>(o => o.ShutdownTimeout = graceful + TimeSpan.FromSeconds(10));
        return builder;
    }

    /// <summary>Connection options from settings: namespace, API key, TLS and mTLS, identity, metrics runtime.</summary>
    public static TemporalClientConnectOptions CreateConnectOptions(
        TemporalSettings settings, TemporalRuntime runtime, ILoggerFactory loggerFactory)
    {
        ArgumentNullException.ThrowIfNull(settings);
        return new TemporalClientConnectOptions(settings.Address!)
        {
            Namespace = settings.Namespace,
            ApiKey = string.IsNullOrEmpty(settings.ApiKey) ? null : settings.ApiKey,
            Tls = settings.UseTls ? CreateTls(settings) : null,
            Runtime = runtime,
            LoggerFactory = loggerFactory,
            Identity = $"{settings.Identity ?? "orders-worker"}@{Environment.MachineName}",
        };
    }

    private static TlsOptions CreateTls(TemporalSettings settings) => new()
    {
        Domain = settings.TlsServerName,
        ServerRootCACert = ReadOptional(settings.TlsServerCaCertPath),
        ClientCert = ReadOptional(settings.TlsClientCertPath),
        ClientPrivateKey = ReadOptional(settings.TlsClientKeyPath),
    };

    private static byte[]? ReadOptional(string? path) => string.IsNullOrEmpty(path) ? null : File.ReadAllBytes(path);

    private sealed class TemporalSettingsValidator : IValidateOptions<TemporalSettings>
    {
        public ValidateOptionsResult Validate(string? name, TemporalSettings options)
        {
            var errors = options.Validate().ToList();
            return errors.Count == 0 ? ValidateOptionsResult.Success : ValidateOptionsResult.Fail(errors);
        }
    }
}

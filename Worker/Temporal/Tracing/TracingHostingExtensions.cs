using OpenTelemetry.Trace;

namespace Worker.Temporal.Tracing;

/// <summary>Registers <see cref="TemporalTracing"/>: the interceptors, and the sources for the tracer provider.</summary>
public static class TracingHostingExtensions
{
    /// <summary>ActivitySource of Npgsql's command spans.</summary>
    public const string NpgsqlSource = "Npgsql";

    /// <summary>ActivitySource of the Redis instrumentation that Aspire's StackExchange.Redis integration carries.</summary>
    public const string RedisSource = "OpenTelemetry.Instrumentation.StackExchangeRedis";

    /// <summary>
    /// Adds the client and worker interceptors (as singletons, for the Temporal client and worker options) and, unless
    /// <c>Telemetry:Tracing</c> is false, Temporal's sources and Npgsql's to the tracer provider, with database and
    /// cache spans kept only under a parent. The tracer provider itself exists only where the service defaults make one
    /// (an OTLP endpoint is configured): without it no span is recorded and this costs next to nothing.
    /// </summary>
    public static IServiceCollection AddTemporalTracing(this IServiceCollection services, IConfiguration configuration)
    {
        var traced = configuration.GetValue(TemporalTracing.EnabledKey, defaultValue: true);
        services.AddSingleton<WorkflowRunContexts>();
        services.AddSingleton(sp => new TracingWorkerInterceptor(
            traced, sp.GetRequiredService<WorkflowRunContexts>(), sp.GetRequiredService<ILoggerFactory>().CreateLogger(typeof(TemporalTracing).FullName!)));
        if (traced)
        {
            services.AddSingleton<TracingClientInterceptor>();
            services.ConfigureOpenTelemetryTracerProvider(tracing => tracing
                .AddSource(TemporalTracing.ClientSource.Name, TemporalTracing.WorkflowSource.Name, TemporalTracing.ActivitySource.Name)
                .AddSource(NpgsqlSource)
                .AddProcessor(new RootSpanFilter(NpgsqlSource, RedisSource)));
        }
        return services;
    }
}

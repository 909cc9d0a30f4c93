using Microsoft.Extensions.Diagnostics.HealthChecks;
using OpenTelemetry.Metrics;
using Temporalio.Extensions.Hosting;
using Temporalio.Worker;
using Worker.Orders.Cache;
using Worker.Orders.Payments;
using Worker.Orders.Persistence;
using Worker.Orders.Telemetry;
using Worker.Temporal;

namespace Worker.Orders;

/// <summary>
/// Registers the order domain: PostgreSQL, the optional Redis cache, stores, options, and the saga's workflow,
/// activities and readiness gate for the Temporal worker (see <see cref="TemporalHostingExtensions"/>).
/// </summary>
public static class OrdersHostingExtensions
{
    /// <summary>The task queue of the order saga unless <c>Temporal:TaskQueue</c> says otherwise.</summary>
    public const string TaskQueue = "orders";

    /// <summary>Connection string names, as the AppHost and deployments provide them (<c>ConnectionStrings:*</c>).</summary>
    public const string DatabaseConnectionName = "appdb";
    public const string CacheConnectionName = "redis";

    public static WebApplicationBuilder AddOrders(this WebApplicationBuilder builder)
    {
        ArgumentNullException.ThrowIfNull(builder);
        var services = builder.Services;
        services.AddOptions<OrdersOptions>().Bind(builder.Configuration.GetSection(OrdersOptions.Section));
        services.AddOptions<PaymentsOptions>().Bind(builder.Configuration.GetSection(PaymentsOptions.Section));

        if (string.IsNullOrWhiteSpace(builder.Configuration.GetConnectionString(DatabaseConnectionName)))
        {
            throw new InvalidOperationException(
                $"ConnectionStrings:{DatabaseConnectionName} is required (environment variable ConnectionStrings__{DatabaseConnectionName}).");
        }
        var budget = builder.Configuration.GetSection(DatabaseBudget.Section).Get<DatabaseBudget>() ?? new DatabaseBudget();
        if (budget.Validate().ToList() is { Count: > 0 } problems)
        {
            throw new InvalidOperationException(string.Join(" ", problems));
        }
        var poolSize = budget.PoolSize(ExplicitPoolSize(builder.Configuration.GetConnectionString(DatabaseConnectionName)!));
        var sslMode = DatabaseSslMode.From(builder.Configuration);
        // Aspire's client integration: pooled NpgsqlDataSource, tracing and metrics. Its health check is
        // replaced by one with a stable name, so probes and dashboards can name the dependency.
        var tracing = builder.IsOtlpExporterEnabled();
        builder.AddNpgsqlDataSource(DatabaseConnectionName, settings =>
        {
            settings.DisableHealthChecks = true;
            settings.DisableTracing = !tracing;
        }, dataSource =>
        {
            // Every saga step runs the same few statements: prepared once per connection, PostgreSQL skips
            // parsing and planning them. A connection string that sets its own value wins.
            if (dataSource.ConnectionStringBuilder.MaxAutoPrepare == 0)
            {
                dataSource.ConnectionStringBuilder.MaxAutoPrepare = 32;
            }
            // Npgsql's default of 100 per process, times the replicas, is more than PostgreSQL's default max_connections.
            dataSource.ConnectionStringBuilder.MaxPoolSize = poolSize;
            dataSource.ConnectionStringBuilder.MinPoolSize = Math.Min(dataSource.ConnectionStringBuilder.MinPoolSize, poolSize);
            if (sslMode is { } mode)
            {
                dataSource.ConnectionStringBuilder.SslMode = mode;
            }
        });
        services.AddHealthChecks().AddNpgSql(sp => sp.GetRequiredService<Npgsql.NpgsqlDataSource>(), name: DatabaseConnectionName);
        // Business metrics (Telemetry/OrderMetrics.cs). The approval-backlog gauges exist once the meter provider
        // is built, so only where metrics are exported.
        services.AddSingleton<OrderMetrics>();
        services.AddSingleton<ApprovalBacklog>();
        services.ConfigureOpenTelemetryMeterProvider(metrics => metrics.AddMeter(OrderMetrics.MeterName));
        services.ConfigureOpenTelemetryMeterProvider((provider, _) => provider.GetRequiredService<ApprovalBacklog>());
        services.AddSingleton<OrderStore>();
        services.AddSingleton<FulfilmentStore>();
        services.AddSingleton<PaymentLedger>();
        services.AddSingleton<DatabaseInitializer>();
        services.AddHostedService(sp => sp.GetRequiredService<DatabaseInitializer>());
        services.AddHealthChecks().AddCheck<DatabaseInitializer>("appdb-schema");

        // The saga, for processes with the worker role: the worker polls once the schema is in place, and runs
        // each activity on an OrderActivities resolved from its own DI scope.
        services.AddScoped<OrderActivities>();
        services.AddSingleton<IWorkerReadinessGate>(sp => sp.GetRequiredService<DatabaseInitializer>());
        services.AddOptions<TemporalWorkerOptions>().Configure<IServiceProvider>((options, provider) =>
        {
            // A burst of activities waits for a slot here, not for a connection in the pool they share with the API.
            options.MaxConcurrentActivities = budget.ActivitySlots(poolSize);
            options.AddWorkflow<OrderWorkflow>();
            options.Interceptors = [.. options.Interceptors ?? [], new OrderActivityMetricsInterceptor(provider.GetRequiredService<OrderMetrics>())];
            foreach (var activity in provider.CreateTemporalActivityDefinitions<OrderActivities>())
            {
                options.AddActivity(activity);
            }
        });

        if (string.IsNullOrWhiteSpace(builder.Configuration.GetConnectionString(CacheConnectionName)))
        {
            services.AddSingleton<IOrderCache, NoOrderCache>();
        }
        else
        {
            var cacheTls = CacheTls.From(builder.Configuration);
            // The cache is optional by design: Aspire's Unhealthy Redis check is replaced by one that reports
            // Degraded, so a Redis outage never takes replicas out of rotation.
            builder.AddRedisClient(CacheConnectionName,
                settings =>
                {
                    settings.DisableHealthChecks = true;
                    settings.DisableTracing = !tracing;
                },
                options =>
                {
                    options.AbortOnConnectFail = false;
                    options.ConnectTimeout = 2000;
                    cacheTls?.Apply(options);
                });
            services.AddSingleton<IOrderCache, RedisOrderCache>();
            services.AddHealthChecks().AddCheck<RedisCacheHealthCheck>("redis", HealthStatus.Degraded);
        }

        // The ledger-only gateway is for demos and tests: a configured endpoint always means real money.
        if (string.IsNullOrWhiteSpace(builder.Configuration[$"{PaymentsOptions.Section}:{nameof(PaymentsOptions.Endpoint)}"]))
        {
            services.AddSingleton<IPaymentGateway, LedgerPaymentGateway>();
        }
        else
        {
            services.AddHttpClient<IPaymentGateway, HttpPaymentGateway>();
        }
        return builder;
    }

    /// <summary>The pool size a connection string names, if it names one (Npgsql's own default is not a decision).</summary>
    private static int? ExplicitPoolSize(string connectionString)
    {
        var parsed = new System.Data.Common.DbConnectionStringBuilder { ConnectionString = connectionString };
        foreach (var key in (string[])["Maximum Pool Size", "Max Pool Size", "MaxPoolSize"])
        {
            if (parsed.TryGetValue(key, out var value) && int.TryParse(Convert.ToString(value, System.Globalization.CultureInfo.InvariantCulture),
                    System.Globalization.CultureInfo.InvariantCulture, out var size))
            {
                return size;
            }
        }
        return null;
    }
}

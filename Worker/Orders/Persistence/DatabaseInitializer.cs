using Microsoft.Extensions.Diagnostics.HealthChecks;
using Npgsql;
using Worker.Temporal;

namespace Worker.Orders.Persistence;

/// <summary>
/// Applies <see cref="DatabaseSchema"/>, then <see cref="CatalogueSeed"/> unless turned off, in the background,
/// retrying while PostgreSQL is unreachable, so the process starts (and answers liveness) even when the database
/// comes up after it. Readiness stays unhealthy and the worker does not poll until both are done (this is the
/// worker's readiness gate).
/// </summary>
public sealed partial class DatabaseInitializer(
    NpgsqlDataSource dataSource, Microsoft.Extensions.Options.IOptions<OrdersOptions> options, ILogger<DatabaseInitializer> logger)
    : BackgroundService, IHealthCheck, IWorkerReadinessGate
{
    private readonly TaskCompletionSource ready = new(TaskCreationOptions.RunContinuationsAsynchronously);
    private Exception? lastError;

    public Task WaitReadyAsync(CancellationToken cancellationToken) => ready.Task.WaitAsync(cancellationToken);

    public Task<HealthCheckResult> CheckHealthAsync(HealthCheckContext context, CancellationToken cancellationToken = default) =>
        Task.FromResult(ready.Task.IsCompletedSuccessfully
            ? HealthCheckResult.Healthy()
            : HealthCheckResult.Unhealthy("Application schema not ready", lastError));

    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        var backoff = TimeSpan.FromMilliseconds(250);
        while (!stoppingToken.IsCancellationRequested)
        {
            try
            {
                await DatabaseSchema.MigrateAsync(dataSource, logger, stoppingToken);
                if (options.Value.SeedCatalogue)
                {
                    await CatalogueSeed.SeedAsync(dataSource, stoppingToken);
                }
                ready.TrySetResult();
                LogReady(logger);
                return;
            }
            catch (OperationCanceledException) when (stoppingToken.IsCancellationRequested)
            {
                return;
            }
            catch (Exception e) when (e is NpgsqlException or TimeoutException or InvalidOperationException)
            {
                lastError = e;
                LogRetry(logger, backoff.TotalSeconds, e.Message);
            }
            await Task.Delay(backoff, stoppingToken).ContinueWith(_ => { }, TaskScheduler.Default);
            backoff = TimeSpan.FromTicks(Math.Min(backoff.Ticks * 2, TimeSpan.FromSeconds(5).Ticks));
        }
    }

    [LoggerMessage(Level = LogLevel.Information, Message = "Application database schema is ready")]
    private static partial void LogReady(ILogger logger);

    [LoggerMessage(Level = LogLevel.Warning, Message = "Application database not ready; retrying in {DelaySeconds}s: {Error}")]
    private static partial void LogRetry(ILogger logger, double delaySeconds, string error);
}

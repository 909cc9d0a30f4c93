using Microsoft.Extensions.Options;
using Temporalio.Client;
using Temporalio.Extensions.Hosting;
using Temporalio.Worker;
using Worker.Orders;
using Worker.Orders.Persistence;

namespace Worker.Temporal;

/// <summary>Whether this process's Temporal worker is polling its task queue; read by readiness.</summary>
public sealed class WorkerPollingState
{
    private volatile bool polling;

    public bool IsPolling => polling;

    internal void Set(bool value) => polling = value;
}

/// <summary>
/// Runs the Temporal worker for the order saga once Temporal is connected and the database schema exists.
/// Differs from <c>AddHostedTemporalWorker</c> in one way that matters in production: a worker that cannot
/// reach Temporal, or whose polling fails, is restarted after a delay instead of stopping the host.
/// </summary>
public sealed partial class OrderWorkerService(
    ITemporalClient client,
    TemporalConnectionKeeper connection,
    DatabaseInitializer database,
    WorkerPollingState state,
    IServiceProvider services,
    Microsoft.Extensions.Options.IOptions<TemporalSettings> settings,
    ILoggerFactory loggerFactory) : BackgroundService
{
    private static readonly TimeSpan RestartDelay = TimeSpan.FromSeconds(2);
    private readonly ILogger logger = loggerFactory.CreateLogger<OrderWorkerService>();

    /// <summary>
    /// The worker options: the order workflow and its activities (resolved from a DI scope per execution),
    /// on top of whatever the host configured with <c>services.Configure&lt;TemporalWorkerOptions&gt;</c>
    /// (more workflows, interceptors, tuning).
    /// </summary>
    public static TemporalWorkerOptions CreateOptions(IServiceProvider services, TemporalSettings settings, ILoggerFactory loggerFactory)
    {
        ArgumentNullException.ThrowIfNull(services);
        ArgumentNullException.ThrowIfNull(settings);
        var options = (TemporalWorkerOptions)services.GetRequiredService<IOptions<TemporalWorkerOptions>>().Value.Clone();
        options.TaskQueue = settings.TaskQueue;
        options.GracefulShutdownTimeout = settings.GracefulShutdownTimeout;
        options.LoggerFactory = loggerFactory;
        // A cancellation reaches an activity only in the answer to a heartbeat, and the SDK sends heartbeats at
        // most every 0.8 x the heartbeat timeout (8 s for shipping) by default: a cancelled shipment would go on
        // for seconds. One heartbeat call per second per running activity is cheap.
        options.MaxHeartbeatThrottleInterval = TimeSpan.FromSeconds(1);
        options.AddWorkflow<OrderWorkflow>();
        foreach (var activity in services.CreateTemporalActivityDefinitions<OrderActivities>())
        {
            options.AddActivity(activity);
        }
        return options;
    }

    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        await connection.WaitConnectedAsync(stoppingToken);
        await database.WaitReadyAsync(stoppingToken);
        while (!stoppingToken.IsCancellationRequested)
        {
            try
            {
                using var worker = new TemporalWorker(client, CreateOptions(services, settings.Value, loggerFactory));
                state.Set(true);
                LogPolling(logger, settings.Value.TaskQueue, settings.Value.Namespace);
                await worker.ExecuteAsync(stoppingToken);
            }
            catch (OperationCanceledException) when (stoppingToken.IsCancellationRequested)
            {
                break;
            }
#pragma warning disable CA1031 // A failed worker is restarted; readiness reports it meanwhile.
            catch (Exception e)
#pragma warning restore CA1031
            {
                LogWorkerFailed(logger, e, RestartDelay.TotalSeconds);
            }
            finally
            {
                state.Set(false);
            }
            await Task.Delay(RestartDelay, stoppingToken).ContinueWith(_ => { }, TaskScheduler.Default);
        }
        LogStopped(logger);
    }

    [LoggerMessage(Level = LogLevel.Information, Message = "Temporal worker polling task queue {TaskQueue} in namespace {Namespace}")]
    private static partial void LogPolling(ILogger logger, string taskQueue, string @namespace);

    [LoggerMessage(Level = LogLevel.Error, Message = "Temporal worker failed; restarting in {DelaySeconds}s")]
    private static partial void LogWorkerFailed(ILogger logger, Exception exception, double delaySeconds);

    [LoggerMessage(Level = LogLevel.Information, Message = "Temporal worker stopped")]
    private static partial void LogStopped(ILogger logger);
}

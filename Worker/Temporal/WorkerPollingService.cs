using Microsoft.Extensions.Options;
using Temporalio.Client;
using Temporalio.Worker;

namespace Worker.Temporal;

/// <summary>
/// Runs this process's Temporal worker once Temporal is connected and every <see cref="IWorkerReadinessGate"/>
/// is open, with the workflows and activities the application registered through
/// <c>services.Configure&lt;TemporalWorkerOptions&gt;</c>. A worker whose polling fails is restarted after a
/// delay instead of stopping the host.
/// </summary>
public sealed partial class WorkerPollingService(
    ITemporalClient client,
    TemporalConnectionKeeper connection,
    IEnumerable<IWorkerReadinessGate> gates,
    WorkerPollingState state,
    IServiceProvider services,
    IOptions<TemporalSettings> settings,
    ILoggerFactory loggerFactory) : BackgroundService
{
    private static readonly TimeSpan RestartDelay = TimeSpan.FromSeconds(2);
    private readonly ILogger logger = loggerFactory.CreateLogger<WorkerPollingService>();

    /// <summary>
    /// The worker options: what the application configured with <c>services.Configure&lt;TemporalWorkerOptions&gt;</c>
    /// (workflows, activities, interceptors, tuning), with the task queue and shutdown window from settings.
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
        // most every 0.8 x the heartbeat timeout by default: an activity with a 10 s heartbeat timeout would
        // hear of its cancellation up to 8 s late. One heartbeat call per second per running activity is cheap.
        options.MaxHeartbeatThrottleInterval = TimeSpan.FromSeconds(1);
        if (settings.DeploymentVersion is { } version)
        {
            // Every workflow type states its own versioning behaviour ([Workflow(VersioningBehavior = ...)]): no default
            // here, so that a workflow added without one fails the worker's start instead of silently auto-upgrading.
            options.DeploymentOptions = new WorkerDeploymentOptions(version, useWorkerVersioning: true);
        }
        return options;
    }

    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        await connection.WaitConnectedAsync(stoppingToken);
        await Task.WhenAll(gates.Select(g => g.WaitReadyAsync(stoppingToken)));
        while (!stoppingToken.IsCancellationRequested)
        {
            try
            {
                using var worker = new TemporalWorker(client, CreateOptions(services, settings.Value, loggerFactory));
                state.Set(true);
                LogPolling(logger, settings.Value.TaskQueue, settings.Value.Namespace,
                    settings.Value.DeploymentVersion is { } version ? $"{version.DeploymentName} build {version.BuildId}" : "unversioned");
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

    [LoggerMessage(Level = LogLevel.Information, Message = "Temporal worker polling task queue {TaskQueue} in namespace {Namespace} as {WorkerVersion}")]
    private static partial void LogPolling(ILogger logger, string taskQueue, string @namespace, string workerVersion);

    [LoggerMessage(Level = LogLevel.Error, Message = "Temporal worker failed; restarting in {DelaySeconds}s")]
    private static partial void LogWorkerFailed(ILogger logger, Exception exception, double delaySeconds);

    [LoggerMessage(Level = LogLevel.Information, Message = "Temporal worker stopped")]
    private static partial void LogStopped(ILogger logger);
}

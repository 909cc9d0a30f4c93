using Temporalio.Client;

namespace Worker.Temporal;

/// <summary>
/// Connects the process's one lazy Temporal client and keeps trying, with capped backoff, while Temporal is
/// unreachable. The process never exits because Temporal is down: liveness stays green, readiness reports
/// the outage, and the worker starts polling as soon as the connection exists, with no restart.
/// </summary>
public sealed partial class TemporalConnectionKeeper(
    ITemporalClient client, Microsoft.Extensions.Options.IOptions<TemporalSettings> settings,
    ILogger<TemporalConnectionKeeper> logger) : BackgroundService
{
    private static readonly TimeSpan MaxBackoff = TimeSpan.FromSeconds(5);
    private readonly TaskCompletionSource connected = new(TaskCreationOptions.RunContinuationsAsynchronously);

    /// <summary>The last connection error, for the health check's log; null before the first attempt and once connected.</summary>
    public Exception? LastError { get; private set; }

    /// <summary>True once the client has connected (it reconnects by itself after that).</summary>
    public bool IsConnected => connected.Task.IsCompletedSuccessfully;

    /// <summary>Completes once the client is connected.</summary>
    public Task WaitConnectedAsync(CancellationToken cancellationToken) => connected.Task.WaitAsync(cancellationToken);

    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        var backoff = TimeSpan.FromMilliseconds(250);
        for (var attempt = 1; !stoppingToken.IsCancellationRequested; attempt++)
        {
            try
            {
                // A token file's current key: the one read when the client was made may have expired meanwhile, and the
                // server refuses the connect call itself with it (the key of a connected client is changed by the watcher).
                if (!string.IsNullOrEmpty(settings.Value.ApiKeyFile) && settings.Value.CurrentApiKey() is { } key)
                {
                    client.Connection.Options.ApiKey = key;
                }
                await client.Connection.ConnectAsync().WaitAsync(stoppingToken);
                LastError = null;
                connected.TrySetResult();
                LogConnected(logger, settings.Value.Address, settings.Value.Namespace);
                return;
            }
            catch (OperationCanceledException) when (stoppingToken.IsCancellationRequested)
            {
                return;
            }
#pragma warning disable CA1031 // Any failure to connect is retried; it is reported through readiness and the log.
            catch (Exception e)
#pragma warning restore CA1031
            {
                LastError = e;
                LogRetry(logger, settings.Value.Address, attempt, backoff.TotalSeconds, e.Message);
            }
            await Task.Delay(backoff, stoppingToken).ContinueWith(_ => { }, TaskScheduler.Default);
            backoff = TimeSpan.FromTicks(Math.Min(backoff.Ticks * 2, MaxBackoff.Ticks));
        }
    }

    [LoggerMessage(Level = LogLevel.Information, Message = "Connected to Temporal at {Address}, namespace {Namespace}")]
    private static partial void LogConnected(ILogger logger, string? address, string @namespace);

    [LoggerMessage(Level = LogLevel.Warning,
        Message = "Temporal at {Address} not reachable (attempt {Attempt}); retrying in {DelaySeconds}s: {Error}")]
    private static partial void LogRetry(ILogger logger, string? address, int attempt, double delaySeconds, string error);
}

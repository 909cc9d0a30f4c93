using Microsoft.Extensions.Options;
using Temporalio.Client;

namespace Worker.Temporal;

/// <summary>
/// Reads <see cref="TemporalSettings.ApiKeyFile"/> again every <see cref="TemporalSettings.ApiKeyFileCheckInterval"/> and
/// gives a changed key to the connected client (the SDK sends it with every later call, the worker's polls included): a
/// short-lived token rotated in its Secret keeps the worker authorised with no restart. Does nothing without the setting.
/// </summary>
public sealed partial class TemporalApiKeyFileWatcher(
    ITemporalClient client, TemporalConnectionKeeper connection, IOptions<TemporalSettings> settings,
    ILogger<TemporalApiKeyFileWatcher> logger) : BackgroundService
{
    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        var current = settings.Value;
        if (string.IsNullOrEmpty(current.ApiKeyFile))
        {
            return;
        }
        try
        {
            // The key given at connect time is the file's; the SDK takes a new one only from a connected client.
            await connection.WaitConnectedAsync(stoppingToken);
            var inUse = client.Connection.ApiKey;
            using var timer = new PeriodicTimer(current.ApiKeyFileCheckInterval);
            while (await timer.WaitForNextTickAsync(stoppingToken))
            {
                string? read;
                try
                {
                    read = current.CurrentApiKey();
                }
                catch (Exception e) when (e is IOException or UnauthorizedAccessException)
                {
                    LogUnreadable(logger, current.ApiKeyFile, e.Message);
                    continue;
                }
                if (read is null)
                {
                    // A Secret being replaced may be briefly empty: keep the key in use rather than call with none.
                    LogUnreadable(logger, current.ApiKeyFile, "missing or empty");
                }
                else if (!string.Equals(read, inUse, StringComparison.Ordinal))
                {
                    client.Connection.ApiKey = read;
                    inUse = read;
                    LogRotated(logger, current.ApiKeyFile);
                }
            }
        }
        catch (OperationCanceledException) when (stoppingToken.IsCancellationRequested)
        {
        }
    }

    [LoggerMessage(Level = LogLevel.Information, Message = "Temporal API key file {File} changed: calls now carry the new key")]
    private static partial void LogRotated(ILogger logger, string? file);

    [LoggerMessage(Level = LogLevel.Warning, Message = "Temporal API key file {File} could not be read ({Reason}): the key in use stays")]
    private static partial void LogUnreadable(ILogger logger, string? file, string reason);
}

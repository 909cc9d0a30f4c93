using System.Security.Cryptography;
using Microsoft.Extensions.Options;

namespace Worker.Temporal;

/// <summary>
/// Stops the process, gracefully, once the TLS files it connected to Temporal with change (a renewed certificate in a
/// mounted Secret), so that its orchestrator starts it again with them: the SDK reads them only when it connects, and
/// the frontend closes every connection every few minutes, so an expired certificate would cut the worker off for good.
/// Each replica waits a random part of <see cref="TemporalSettings.TlsRestartSpread"/> first, so they do not all stop at
/// once. Does nothing without TLS files.
/// </summary>
public sealed partial class TemporalCertificateWatcher(
    IOptions<TemporalSettings> settings, IHostApplicationLifetime lifetime, ILogger<TemporalCertificateWatcher> logger) : BackgroundService
{
    private List<string> files = [];
    private string connectedWith = "";

    /// <summary>Takes the files' state as the host starts, with the client: ExecuteAsync runs later, on the thread pool.</summary>
    public override Task StartAsync(CancellationToken cancellationToken)
    {
        var current = settings.Value;
        files = current.UseTls
            ? [.. new[] { current.ClientCertificateFile, current.ClientKeyFile, current.ServerCaFile }.OfType<string>().Where(f => f.Length > 0)]
            : [];
        connectedWith = Fingerprint(files);
        return base.StartAsync(cancellationToken);
    }

    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        var current = settings.Value;
        if (files.Count == 0)
        {
            return;
        }
        try
        {
            using var timer = new PeriodicTimer(current.TlsFileCheckInterval);
            while (await timer.WaitForNextTickAsync(stoppingToken))
            {
                if (Fingerprint(files) == connectedWith)
                {
                    continue;
                }
                var delay = TimeSpan.FromMilliseconds(Random.Shared.NextDouble() * current.TlsRestartSpread.TotalMilliseconds);
                LogChanged(logger, string.Join(", ", files), delay.TotalSeconds);
                await Task.Delay(delay, stoppingToken);
                lifetime.StopApplication();
                return;
            }
        }
        catch (OperationCanceledException) when (stoppingToken.IsCancellationRequested)
        {
        }
    }

    /// <summary>The files' contents as one hash; a file that cannot be read counts as changed from one that could.</summary>
    private static string Fingerprint(IEnumerable<string> files)
    {
        using var hash = IncrementalHash.CreateHash(HashAlgorithmName.SHA256);
        foreach (var file in files)
        {
            try
            {
                hash.AppendData(File.ReadAllBytes(file));
            }
            catch (IOException)
            {
                hash.AppendData("unreadable"u8);
            }
            catch (UnauthorizedAccessException)
            {
                hash.AppendData("unreadable"u8);
            }
        }
        return Convert.ToHexString(hash.GetHashAndReset());
    }

    [LoggerMessage(Level = LogLevel.Warning,
        Message = "Temporal TLS files changed ({Files}); stopping in {DelaySeconds:F0} s to connect again with them (the SDK reads them only when it connects)")]
    private static partial void LogChanged(ILogger logger, string files, double delaySeconds);
}

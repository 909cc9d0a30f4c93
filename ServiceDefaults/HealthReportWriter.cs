using System.Text.Json;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.Diagnostics.HealthChecks;
using Microsoft.Extensions.Logging;

namespace Microsoft.Extensions.Hosting;

/// <summary>
/// Writes a health report as a small JSON document: the overall status and each check's status and
/// description, so an operator sees which dependency is down without reading logs. Probes are anonymous, so
/// a description that repeats an exception's message is never written: third-party checks (AspNetCore.HealthChecks'
/// NpgSql, for one) use the exception message as description, and it names hosts and users. A fixed
/// description that comes with an exception (this solution's own checks) is written. The exception goes to
/// the log instead, once per change of a check's status, as probes run every few seconds.
/// </summary>
public sealed partial class HealthReportWriter(ILogger<HealthReportWriter> logger)
{
    /// <summary>Written in place of a description that comes with an exception.</summary>
    public const string WithheldDescription = "Check failed; the cause is in the service's log.";

    private readonly Dictionary<string, HealthStatus> lastStatus = [];
    private readonly Lock gate = new();

    /// <summary>Writes <paramref name="report"/> to the response.</summary>
    public Task WriteAsync(HttpContext context, HealthReport report)
    {
        ArgumentNullException.ThrowIfNull(context);
        ArgumentNullException.ThrowIfNull(report);
        foreach (var (name, entry) in report.Entries)
        {
            LogIfChanged(name, entry);
        }
        context.Response.ContentType = "application/json; charset=utf-8";
        var body = new
        {
            status = report.Status.ToString(),
            checks = report.Entries.ToDictionary(
                e => e.Key,
                e => new
                {
                    status = e.Value.Status.ToString(),
                    description = RepeatsException(e.Value) ? WithheldDescription : e.Value.Description,
                }),
        };
        return context.Response.WriteAsync(JsonSerializer.Serialize(body));
    }

    private static bool RepeatsException(HealthReportEntry entry)
    {
        for (var e = entry.Exception; e is not null; e = e.InnerException)
        {
            if (entry.Description is null || entry.Description.Contains(e.Message, StringComparison.Ordinal))
            {
                return true;
            }
        }
        return false;
    }

    private void LogIfChanged(string name, HealthReportEntry entry)
    {
        lock (gate)
        {
            // A check not seen before counts as healthy: a service that starts healthy logs nothing.
            if (lastStatus.GetValueOrDefault(name, HealthStatus.Healthy) == entry.Status)
            {
                return;
            }
            lastStatus[name] = entry.Status;
        }
        if (entry.Status == HealthStatus.Healthy)
        {
            LogHealthy(logger, name);
        }
        else
        {
            LogNotHealthy(logger, entry.Exception, name, entry.Status, entry.Description);
        }
    }

    [LoggerMessage(Level = LogLevel.Warning, Message = "Health check {Check} is {Status}: {Description}")]
    private static partial void LogNotHealthy(ILogger logger, Exception? exception, string check, HealthStatus status, string? description);

    [LoggerMessage(Level = LogLevel.Information, Message = "Health check {Check} is Healthy again")]
    private static partial void LogHealthy(ILogger logger, string check);
}

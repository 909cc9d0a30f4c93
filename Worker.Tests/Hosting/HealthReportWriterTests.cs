using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.Diagnostics.HealthChecks;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;

namespace Worker.Tests.Hosting;

public sealed class HealthReportWriterTests : IDisposable
{
    private readonly LogCapture logs = new();
    private readonly ILoggerFactory loggerFactory;
    private readonly HealthReportWriter writer;

    public HealthReportWriterTests()
    {
        loggerFactory = LoggerFactory.Create(b => b.AddProvider(logs));
        writer = new HealthReportWriter(loggerFactory.CreateLogger<HealthReportWriter>());
    }

    public void Dispose()
    {
        loggerFactory.Dispose();
        logs.Dispose();
    }

    [Fact]
    public async Task A_description_that_comes_with_an_exception_is_logged_not_written()
    {
        var failure = new InvalidOperationException("Failed to connect to db.internal:5432 as orders_owner");

        var body = await WriteAsync(("appdb", HealthStatus.Unhealthy, failure.Message, failure), ("redis", HealthStatus.Healthy, null, null));

        Assert.DoesNotContain("db.internal", body, StringComparison.Ordinal);
        Assert.Contains("\"appdb\":{\"status\":\"Unhealthy\"", body, StringComparison.Ordinal);
        Assert.Same(failure, Assert.Single(logs.Entries, e => e.Level == LogLevel.Warning).Exception);
    }

    [Fact]
    public async Task A_fixed_description_that_comes_with_an_exception_is_written_without_the_exception()
    {
        var failure = new InvalidOperationException("transport error: connection refused to 10.1.2.3:7233");

        var body = await WriteAsync(("temporal", HealthStatus.Unhealthy, "Not connected to Temporal", failure));

        Assert.Contains("Not connected to Temporal", body, StringComparison.Ordinal);
        Assert.DoesNotContain("10.1.2.3", body, StringComparison.Ordinal);
    }

    [Fact]
    public async Task A_description_without_an_exception_is_written()
    {
        var body = await WriteAsync(("temporal-worker", HealthStatus.Unhealthy, "Temporal worker is not polling", null));

        Assert.Contains("Temporal worker is not polling", body, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Each_change_of_a_checks_status_is_logged_once_however_often_it_is_probed()
    {
        var failure = new TimeoutException("timed out");
        var down = ("temporal", HealthStatus.Unhealthy, (string?)"Temporal health call failed", (Exception?)failure);
        var up = ("temporal", HealthStatus.Healthy, (string?)null, (Exception?)null);

        foreach (var entry in new[] { down, down, down, up, up, down })
        {
            await WriteAsync(entry);
        }

        Assert.Equal(
            [LogLevel.Warning, LogLevel.Information, LogLevel.Warning],
            logs.Entries.Select(e => e.Level));
    }

    private async Task<string> WriteAsync(params (string Name, HealthStatus Status, string? Description, Exception? Exception)[] entries)
    {
        var report = new HealthReport(
            entries.ToDictionary(e => e.Name, e => new HealthReportEntry(e.Status, e.Description, TimeSpan.Zero, e.Exception, null)),
            TimeSpan.Zero);
        var context = new DefaultHttpContext();
        using var body = new MemoryStream();
        context.Response.Body = body;
        await writer.WriteAsync(context, report);
        return System.Text.Encoding.UTF8.GetString(body.ToArray());
    }
}

using System.Globalization;
using System.Text.RegularExpressions;
using Temporalio.Client;

namespace Worker.Tests.EndToEnd;

/// <summary>Temporal's latency histograms as Prometheus scrapes them, after real workflow and activity tasks.</summary>
public sealed class TemporalLatencyMetricsTests(EndToEndEnvironment env) : IClassFixture<EndToEndEnvironment>
{
    [Theory]
    [InlineData("temporal_activity_execution_latency_seconds")]
    [InlineData("temporal_workflow_task_execution_latency_seconds")]
    public async Task Latency_histogram_buckets_tell_milliseconds_from_seconds(string histogram)
    {
        var id = $"metrics-{Guid.NewGuid():N}"[..30];
        await env.PlaceOrderAsync(id);
        var result = await env.Temporal.GetWorkflowHandle(OrderEndpoints.WorkflowId(id))
            .GetResultAsync<OrderResult>().WaitAsync(TimeSpan.FromSeconds(60));
        Assert.Equal(OrderStatus.Completed, result.Status);

        var bounds = await ScrapeBucketBoundsAsync(histogram);

        // Tasks take milliseconds to seconds: a useful histogram splits that range into many buckets.
        Assert.True(bounds.Count(b => b < 1) >= 5, $"{histogram} buckets: {string.Join(", ", bounds)}");
        Assert.Contains(bounds, b => b <= 0.01);
        Assert.Contains(bounds, b => b >= 60);
    }

    private async Task<List<double>> ScrapeBucketBoundsAsync(string histogram)
    {
        var pattern = new Regex($"^{histogram}_bucket\\{{.*le=\"([^\"]+)\"\\}}", RegexOptions.Multiline);
        var text = "";
        // The SDK hands metrics over from its core asynchronously; the first scrape may come too early.
        for (var attempt = 0; attempt < 50; attempt++)
        {
            text = await env.Api.GetStringAsync("/metrics");
            var bounds = pattern.Matches(text)
                .Select(m => m.Groups[1].Value)
                .Where(le => le != "+Inf")
                .Select(le => double.Parse(le, CultureInfo.InvariantCulture))
                .Distinct()
                .Order()
                .ToList();
            if (bounds.Count > 0)
            {
                return bounds;
            }
            await Task.Delay(200);
        }
        var temporalLines = text.Split('\n').Where(l => l.StartsWith("temporal_", StringComparison.Ordinal)).Take(40);
        throw new Xunit.Sdk.XunitException($"No {histogram} buckets in /metrics:\n{string.Join('\n', temporalLines)}");
    }
}

using Worker.Temporal.Tracing;

namespace Worker.Tests.Tracing;

/// <summary>Probes every few seconds would drown real traces: neither their requests nor their database and Redis calls make spans.</summary>
[Collection(nameof(HealthProbeTracingTests))]
public sealed class HealthProbeTracingTests(TracingEnvironment env) : IClassFixture<TracingEnvironment>
{
    /// <summary>The StackExchange.Redis instrumentation turns profiled commands into spans this often (its default).</summary>
    private static readonly TimeSpan RedisFlushInterval = TimeSpan.FromSeconds(10);

    [Fact]
    public async Task Health_probes_export_no_span_and_startup_database_work_none_either()
    {
        // Spans are process-wide, so the other test hosts must be idle: this class runs alone (see the collection).
        await Task.Delay(TimeSpan.FromSeconds(1));
        var before = env.Spans.Count;

        for (var i = 0; i < 20; i++)
        {
            Assert.Equal(HttpStatusCode.OK, (await env.Api.GetAsync("/health")).StatusCode);
        }
        await Task.Delay(RedisFlushInterval + TimeSpan.FromSeconds(1));

        var after = env.Spans.Snapshot();
        var made = after.Skip(before).Where(s => !IsTestServers(s)).ToArray();
        Assert.True(made.Length == 0, "spans after probes: " + string.Join(", ", made.Select(s => $"{s.Source.Name}/{s.DisplayName} {s.GetTagItem("url.path")}")));
        // Schema migration and seeding at start ran with no parent: not exported either.
        Assert.DoesNotContain(after, s => s.Source.Name == TracingHostingExtensions.NpgsqlSource && s.ParentSpanId == default);
        // The pipeline does export: an API call right after makes spans.
        await env.PlaceOrderAsync($"probe-control-{Guid.NewGuid():N}"[..30]);
        Assert.Contains(env.Spans.Snapshot(), s => s.DisplayName.StartsWith("StartWorkflow:", StringComparison.Ordinal));
    }

    /// <summary>
    /// The Temporal test server is an ASP.NET Core gRPC service in this same process: its request spans (the worker's
    /// long polls, the Temporal health check's call) reach the exporter too. They are the server's, not the worker's.
    /// </summary>
    private bool IsTestServers(System.Diagnostics.Activity span) =>
        span.GetTagItem("server.port") is int port && env.TemporalAddress.EndsWith($":{port}", StringComparison.Ordinal);
}

[CollectionDefinition(nameof(HealthProbeTracingTests), DisableParallelization = true)]
public sealed class HealthProbeTracingGroup;

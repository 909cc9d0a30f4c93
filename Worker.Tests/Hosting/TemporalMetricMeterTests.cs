using System.Diagnostics.Metrics;
using Worker.Temporal;

namespace Worker.Tests.Hosting;

public sealed class TemporalMetricMeterTests
{
    [Fact]
    public void Counters_histograms_and_gauges_reach_the_dotnet_meter_with_merged_tags()
    {
        using var meter = new Meter($"test-{Guid.NewGuid():N}");
        var recorded = new List<(string Name, double Value, Dictionary<string, object?> Tags)>();
        using var listener = new MeterListener
        {
            InstrumentPublished = (instrument, l) =>
            {
                if (instrument.Meter == meter)
                {
                    l.EnableMeasurementEvents(instrument);
                }
            },
        };
        listener.SetMeasurementEventCallback<long>((i, v, tags, _) => recorded.Add((i.Name, v, ToDictionary(tags))));
        listener.SetMeasurementEventCallback<double>((i, v, tags, _) => recorded.Add((i.Name, v, ToDictionary(tags))));
        listener.Start();
        var adapter = new TemporalMetricMeter(meter);

        var baseTags = adapter.CreateTags(null, [new("namespace", "default")]);
        var tags = adapter.CreateTags(baseTags, [new("task_queue", "orders"), new("poller_type", "workflow_task")]);
        adapter.CreateCounter<long>("temporal_workflow_task_queue_poll_succeed", null, "polls").Add(3, tags);
        adapter.CreateHistogram<double>("temporal_activity_execution_latency", "s", null).Record(0.25, tags);
        adapter.CreateGauge<long>("temporal_worker_task_slots_available", null, null).Set(7, baseTags);

        Assert.Equal(3, recorded.Count);
        Assert.Equal(("temporal_workflow_task_queue_poll_succeed", 3d), (recorded[0].Name, recorded[0].Value));
        Assert.Equal("default", recorded[0].Tags["namespace"]);
        Assert.Equal("orders", recorded[0].Tags["task_queue"]);
        Assert.Equal(0.25, recorded[1].Value);
        Assert.Equal(("temporal_worker_task_slots_available", 7d), (recorded[2].Name, recorded[2].Value));
        Assert.Single(recorded[2].Tags);
    }

    private static Dictionary<string, object?> ToDictionary(ReadOnlySpan<KeyValuePair<string, object?>> tags)
    {
        var result = new Dictionary<string, object?>();
        foreach (var (key, value) in tags)
        {
            result[key] = value;
        }
        return result;
    }
}

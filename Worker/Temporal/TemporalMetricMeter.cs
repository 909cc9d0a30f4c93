using System.Diagnostics.Metrics;
using Temporalio.Runtime;

namespace Worker.Temporal;

/// <summary>
/// Forwards the Temporal SDK core's metrics (poll counts, task latencies, slots, request failures) to a .NET
/// <see cref="Meter"/>, so they reach OTLP and <c>/metrics</c> with the rest of the process's telemetry.
/// The package that does this upstream (Temporalio.Extensions.DiagnosticSource) is not available to this
/// project; this is the same idea in the few lines it needs.
/// </summary>
public sealed class TemporalMetricMeter(Meter meter) : ICustomMetricMeter
{
    /// <summary>Name of the meter that carries Temporal's metrics.</summary>
    public const string MeterName = "Temporalio";

    /// <summary>
    /// Bucket boundaries of Temporal's latency histograms, in seconds. OpenTelemetry's default boundaries are
    /// meant for milliseconds (0, 5, 10 … 10000) and would put every task under 5 s into one bucket. Tasks take
    /// milliseconds to seconds; long polls up to a minute; a workflow awaiting approval up to a day.
    /// </summary>
    internal static readonly double[] LatencyBucketsSeconds =
        [0.001, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60, 300, 3600, 86400];

    /// <summary>
    /// The SDK's duration histograms. The runtime asks for <c>FloatSeconds</c>, for which the SDK creates
    /// <c>Histogram&lt;double&gt;</c> with unit "s" and records seconds.
    /// </summary>
    internal static bool IsLatencyHistogram(Instrument instrument) =>
        instrument is System.Diagnostics.Metrics.Histogram<double> { Meter.Name: MeterName, Unit: "s" };

    public ICustomMetricCounter<T> CreateCounter<T>(string name, string? unit, string? description) where T : struct =>
        new Counter<T>(meter.CreateCounter<T>(name, unit, description));

    public ICustomMetricHistogram<T> CreateHistogram<T>(string name, string? unit, string? description) where T : struct =>
        new Histogram<T>(meter.CreateHistogram<T>(name, unit, description));

    public ICustomMetricGauge<T> CreateGauge<T>(string name, string? unit, string? description) where T : struct =>
        new Gauge<T>(meter.CreateGauge<T>(name, unit, description));

    // Called by the SDK core for every new tag set: keep it to one array allocation.
    public object CreateTags(object? appendFrom, IReadOnlyCollection<KeyValuePair<string, object>> tags)
    {
        ArgumentNullException.ThrowIfNull(tags);
        var existing = appendFrom as KeyValuePair<string, object?>[] ?? [];
        var merged = new List<KeyValuePair<string, object?>>(existing.Length + tags.Count);
        merged.AddRange(existing);
        foreach (var (key, value) in tags)
        {
            var index = merged.FindIndex(t => t.Key == key);
            if (index >= 0)
            {
                merged[index] = new(key, value);
            }
            else
            {
                merged.Add(new(key, value));
            }
        }
        return merged.ToArray();
    }

    private static ReadOnlySpan<KeyValuePair<string, object?>> Tags(object tags) => (KeyValuePair<string, object?>[])tags;

    private sealed class Counter<T>(System.Diagnostics.Metrics.Counter<T> inner) : ICustomMetricCounter<T> where T : struct
    {
        public void Add(T value, object tags) => inner.Add(value, Tags(tags));
    }

    private sealed class Histogram<T>(System.Diagnostics.Metrics.Histogram<T> inner) : ICustomMetricHistogram<T> where T : struct
    {
        public void Record(T value, object tags) => inner.Record(value, Tags(tags));
    }

    private sealed class Gauge<T>(System.Diagnostics.Metrics.Gauge<T> inner) : ICustomMetricGauge<T> where T : struct
    {
        public void Set(T value, object tags) => inner.Record(value, Tags(tags));
    }
}

using System.Diagnostics;
using OpenTelemetry;

namespace Worker.Temporal.Tracing;

/// <summary>
/// Drops the spans of dependency clients (database, cache) that have no parent: a query or command matters in a
/// trace under the request or activity attempt that made it, while alone it is noise, such as the schema set-up
/// at start or a client's own keep-alive. Health probes already make no spans (their request span is filtered
/// out, so its children are not sampled); this also covers a probe run where no request span exists.
/// Unsampling at start keeps the span's children unsampled too and works whatever the exporter's place in the
/// processor chain.
/// </summary>
public sealed class RootSpanFilter(params string[] sourceNames) : BaseProcessor<Activity>
{
    private readonly HashSet<string> sources = new(sourceNames, StringComparer.Ordinal);

    public override void OnStart(Activity data)
    {
        ArgumentNullException.ThrowIfNull(data);
        if (data.ParentSpanId == default && sources.Contains(data.Source.Name))
        {
            data.IsAllDataRequested = false;
            data.ActivityTraceFlags &= ~ActivityTraceFlags.Recorded;
        }
    }
}

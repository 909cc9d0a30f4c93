using System.Collections;
using System.Globalization;
using Temporalio.Activities;

namespace Worker.Temporal.Tracing;

/// <summary>
/// The structured fields of every log line written during an activity attempt. Names follow the SDK's own
/// activity logger scope (<c>ActivityInfo.LoggerScope</c>), plus <c>TraceId</c>, which is there even when no
/// span is recorded (tracing off, or no listener) as long as the caller sent a trace context.
/// </summary>
public sealed class ActivityLogScope : IReadOnlyList<KeyValuePair<string, object?>>
{
    private readonly KeyValuePair<string, object?>[] fields;

    public ActivityLogScope(ActivityInfo info, string? traceId)
    {
        ArgumentNullException.ThrowIfNull(info);
        fields =
        [
            new("WorkflowId", info.WorkflowId),
            new("WorkflowRunId", info.WorkflowRunId),
            new("WorkflowType", info.WorkflowType),
            new("ActivityType", info.ActivityType),
            new("ActivityId", info.ActivityId),
            new("Attempt", info.Attempt),
            new("TaskQueue", info.TaskQueue),
            .. traceId is null ? Array.Empty<KeyValuePair<string, object?>>() : [new("TraceId", traceId)],
        ];
    }

    public int Count => fields.Length;

    public KeyValuePair<string, object?> this[int index] => fields[index];

    public IEnumerator<KeyValuePair<string, object?>> GetEnumerator() => ((IEnumerable<KeyValuePair<string, object?>>)fields).GetEnumerator();

    IEnumerator IEnumerable.GetEnumerator() => GetEnumerator();

    /// <summary>What text log formats show for the scope.</summary>
    public override string ToString() =>
        string.Join(", ", fields.Select(f => string.Create(CultureInfo.InvariantCulture, $"{f.Key}:{f.Value}")));
}

using System.Diagnostics;
using Temporalio.Api.Common.V1;
using Temporalio.Converters;

namespace Worker.Temporal.Tracing;

/// <summary>
/// Spans for Temporal calls, workflows and activity attempts, with the W3C trace context carried in Temporal
/// headers. The SDK's own OpenTelemetry extension (Temporalio.Extensions.OpenTelemetry) is not available to this
/// project; this is the same design in the few lines this worker needs.
/// </summary>
/// <remarks>
/// <para>
/// Header: key <see cref="HeaderKey"/> (<c>_tracer-data</c>, the key every Temporal SDK's OpenTelemetry interceptor
/// uses, so traces join across languages), value a <c>json/plain</c> payload of
/// <c>{"traceparent": "...", "tracestate": "..."}</c>. It is written with the SDK's default payload converter, not
/// the client's: a custom converter (say, encryption) must not be needed to read a trace id, and whatever the SDK
/// does to headers on the way out it undoes on the way in.
/// </para>
/// <para>
/// Workflows: .NET cannot resume a span in another process, nor give one a chosen id, while a workflow may
/// run for days across workers and is replayed from its history. So workflow spans (RunWorkflow, HandleSignal,
/// HandleUpdate, CompleteWorkflow) are started and stopped at once, and only when the workflow is not replaying:
/// one span per event, never a duplicate on replay. The context they give their children (activities, child
/// workflows, continue-as-new) lives in the workflow instance; an instance rebuilt by replay in the same process
/// gets it back from <see cref="WorkflowRunContexts"/>, and one rebuilt in another process falls back to the
/// client's start span from the workflow's start headers. Span creation is a side effect outside the workflow's
/// state: it changes no command, so it cannot break determinism.
/// </para>
/// </remarks>
public static class TemporalTracing
{
    /// <summary>Temporal header carrying the W3C trace context.</summary>
    public const string HeaderKey = "_tracer-data";

    /// <summary>Configuration key of the switch: <c>false</c> turns the Temporal spans and header propagation off.</summary>
    public const string EnabledKey = "Telemetry:Tracing";

    /// <summary>Client calls: start, signal, query, update, cancel.</summary>
    public static readonly ActivitySource ClientSource = new("Worker.Temporal.Client");

    /// <summary>Workflow runs, signals, queries, updates and completions (instant, replay-safe spans).</summary>
    public static readonly ActivitySource WorkflowSource = new("Worker.Temporal.Workflow");

    /// <summary>Activity attempts, one span each.</summary>
    public static readonly ActivitySource ActivitySource = new("Worker.Temporal.Activity");

    /// <summary>Span attribute names.</summary>
    public static class Tags
    {
        public const string WorkflowId = "temporal.workflow.id";
        public const string RunId = "temporal.workflow.run_id";
        public const string WorkflowType = "temporal.workflow.type";
        public const string TaskQueue = "temporal.task_queue";
        public const string ActivityType = "temporal.activity.type";
        public const string ActivityId = "temporal.activity.id";
        public const string Attempt = "temporal.activity.attempt";
        public const string Outcome = "temporal.outcome";
        public const string ErrorType = "error.type";
    }

    private static readonly IPayloadConverter Converter = DataConverter.Default.PayloadConverter;

    /// <summary>Headers with <paramref name="context"/> added (a copy; <paramref name="headers"/> is not changed).</summary>
    public static Dictionary<string, Payload> Inject(IEnumerable<KeyValuePair<string, Payload>>? headers, ActivityContext context)
    {
        var result = headers is null ? [] : new Dictionary<string, Payload>(headers);
        if (context == default)
        {
            return result;
        }
        var carrier = new Dictionary<string, string>
        {
            ["traceparent"] = $"00-{context.TraceId.ToHexString()}-{context.SpanId.ToHexString()}-{(byte)context.TraceFlags:x2}",
        };
        if (!string.IsNullOrEmpty(context.TraceState))
        {
            carrier["tracestate"] = context.TraceState;
        }
        result[HeaderKey] = Converter.ToPayload(carrier);
        return result;
    }

    /// <summary>The trace context in <paramref name="headers"/>, or default when there is none or it is malformed.</summary>
    public static ActivityContext Extract(IReadOnlyDictionary<string, Payload>? headers)
    {
        if (headers is null || !headers.TryGetValue(HeaderKey, out var payload))
        {
            return default;
        }
        try
        {
            var carrier = Converter.ToValue<Dictionary<string, string>>(payload);
            return carrier.TryGetValue("traceparent", out var traceParent)
                && ActivityContext.TryParse(traceParent, carrier.GetValueOrDefault("tracestate"), isRemote: true, out var context)
                ? context
                : default;
        }
#pragma warning disable CA1031 // A caller's bad header must never fail a workflow or an activity; it just starts no trace.
        catch (Exception)
#pragma warning restore CA1031
        {
            return default;
        }
    }

    /// <summary>Marks <paramref name="span"/> failed with <paramref name="error"/>'s type and message.</summary>
    internal static void RecordError(Activity? span, Exception error)
    {
        if (span is null)
        {
            return;
        }
        span.SetTag(Tags.Outcome, "error");
        span.SetTag(Tags.ErrorType, ErrorType(error));
        span.SetStatus(ActivityStatusCode.Error, error.Message);
        span.AddException(error);
    }

    /// <summary>The application error type when Temporal has one (e.g. <c>PaymentDeclined</c>), else the exception's type.</summary>
    internal static string ErrorType(Exception error) => error switch
    {
        Temporalio.Exceptions.ApplicationFailureException { ErrorType: { Length: > 0 } type } => type,
        Temporalio.Exceptions.ActivityFailureException { InnerException: { } inner } => ErrorType(inner),
        _ => error.GetType().FullName ?? error.GetType().Name,
    };
}

using Worker.Tests.EndToEnd;
using System.Collections.Concurrent;
using System.Diagnostics;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;
using OpenTelemetry.Trace;
using Temporalio.Worker;
using Temporalio.Worker.Interceptors;
using Temporalio.Workflows;

namespace Worker.Tests.Tracing;

/// <summary>
/// The end-to-end worker with the production telemetry pipeline switched on (an OTLP endpoint is configured, so the
/// service defaults build the tracer provider, with their probe filter), plus an in-memory exporter the tests read and
/// a logger provider that records scopes as the JSON console formatter writes them. Charges go to a real HTTP gateway,
/// so the charge activity writes log lines (the HTTP client's). Spans of other hosts in this test process reach the
/// exporter too (activity sources are process-wide): tests pick theirs by workflow id.
/// </summary>
public class TracingEnvironment : EndToEndEnvironment
{
    public SpanCollection Spans { get; } = new();

    public ScopeLogCapture Logs { get; } = new();

    public FakePaymentGateway Gateway { get; private set; } = null!;

    /// <summary>Workflow instances rebuilt by replay, by workflow id.</summary>
    public ConcurrentDictionary<string, int> Replays { get; } = new();

    /// <summary>Null keeps the SDK's default cache; 0 makes every workflow task replay the history from the start.</summary>
    protected virtual int? MaxCachedWorkflows => null;

    protected override async Task ConfigureAsync(Dictionary<string, string?> settings)
    {
        Gateway = await FakePaymentGateway.StartAsync();
        settings["Payments:Endpoint"] = Gateway.Address.ToString();
        // Nothing listens there: what matters is that the service defaults' real tracing pipeline is built.
        settings["OTEL_EXPORTER_OTLP_ENDPOINT"] = "http://127.0.0.1:1";
    }

    protected override void ConfigureServices(IServiceCollection services)
    {
        services.ConfigureOpenTelemetryTracerProvider(tracing => tracing.AddInMemoryExporter(Spans));
        services.AddSingleton<ILoggerProvider>(Logs);
        services.Configure<TemporalWorkerOptions>(options =>
        {
            options.Interceptors = [.. options.Interceptors ?? [], new ReplayCounter(Replays)];
            options.AddWorkflow<LoggingProbeWorkflow>();
            if (MaxCachedWorkflows is { } max)
            {
                options.MaxCachedWorkflows = max;
            }
        });
    }

    public override async Task DisposeAsync()
    {
        await base.DisposeAsync();
        await Gateway.DisposeAsync();
    }

    /// <summary>The spans of one workflow, once <paramref name="complete"/> holds for them (spans end a little after the calls that make them).</summary>
    public async Task<Activity[]> WaitForSpansAsync(string workflowId, Func<Activity[], bool> complete)
    {
        var deadline = DateTime.UtcNow + TimeSpan.FromSeconds(10);
        Activity[] spans;
        do
        {
            spans = Spans.Snapshot().Where(s => Equals(s.GetTagItem("temporal.workflow.id"), workflowId)).ToArray();
            if (complete(spans))
            {
                return spans;
            }
            await Task.Delay(50);
        }
        while (DateTime.UtcNow < deadline);
        return spans;
    }

    private sealed class ReplayCounter(ConcurrentDictionary<string, int> replays) : IWorkerInterceptor
    {
        public WorkflowInboundInterceptor InterceptWorkflow(WorkflowInboundInterceptor nextInterceptor) => new Inbound(nextInterceptor, replays);

        private sealed class Inbound(WorkflowInboundInterceptor next, ConcurrentDictionary<string, int> replays) : WorkflowInboundInterceptor(next)
        {
            public override Task<object?> ExecuteWorkflowAsync(ExecuteWorkflowInput input)
            {
                if (Workflow.Unsafe.IsReplaying)
                {
                    replays.AddOrUpdate(Workflow.Info.WorkflowId, 1, (_, n) => n + 1);
                }
                return base.ExecuteWorkflowAsync(input);
            }
        }
    }
}

/// <summary>No workflow cache: every workflow task rebuilds the workflow by replaying its history.</summary>
public sealed class ReplayingTracingEnvironment : TracingEnvironment
{
    protected override int? MaxCachedWorkflows => 0;
}

/// <summary>Logs through the SDK's workflow logger before and after a timer, so the first line is replayed once.</summary>
[Workflow]
public sealed partial class LoggingProbeWorkflow
{
    private readonly TimeSpan timer = TimeSpan.FromMilliseconds(100);

    [WorkflowRun]
    public async Task RunAsync()
    {
        LogBefore(Workflow.Logger);
        await Workflow.DelayAsync(timer);
        LogAfter(Workflow.Logger);
    }

    [LoggerMessage(Level = LogLevel.Information, Message = "probe before timer")]
    private static partial void LogBefore(ILogger logger);

    [LoggerMessage(Level = LogLevel.Information, Message = "probe after timer")]
    private static partial void LogAfter(ILogger logger);
}

/// <summary>The in-memory exporter's target: it adds from the export thread while tests read.</summary>
public sealed class SpanCollection : ICollection<Activity>
{
    private readonly List<Activity> spans = [];

    public int Count
    {
        get
        {
            lock (spans)
            {
                return spans.Count;
            }
        }
    }

    public bool IsReadOnly => false;

    public Activity[] Snapshot()
    {
        lock (spans)
        {
            return [.. spans];
        }
    }

    public void Add(Activity item)
    {
        lock (spans)
        {
            spans.Add(item);
        }
    }

    public void Clear()
    {
        lock (spans)
        {
            spans.Clear();
        }
    }

    public bool Contains(Activity item) => Snapshot().Contains(item);

    public void CopyTo(Activity[] array, int arrayIndex) => Snapshot().CopyTo(array, arrayIndex);

    public bool Remove(Activity item)
    {
        lock (spans)
        {
            return spans.Remove(item);
        }
    }

    public IEnumerator<Activity> GetEnumerator() => ((IEnumerable<Activity>)Snapshot()).GetEnumerator();

    System.Collections.IEnumerator System.Collections.IEnumerable.GetEnumerator() => GetEnumerator();
}

/// <summary>
/// Keeps every entry with the fields of its scopes, flattened as the JSON console formatter's <c>IncludeScopes</c>
/// writes them (key/value scopes become properties).
/// </summary>
public sealed class ScopeLogCapture : ILoggerProvider, ISupportExternalScope
{
    private readonly ConcurrentQueue<ScopedLogEntry> entries = new();
    private IExternalScopeProvider scopes = new LoggerExternalScopeProvider();

    public IReadOnlyCollection<ScopedLogEntry> Entries => entries;

    public ILogger CreateLogger(string categoryName) => new Logger(categoryName, this);

    public void SetScopeProvider(IExternalScopeProvider scopeProvider) => scopes = scopeProvider;

    public void Dispose()
    {
    }

    private sealed class Logger(string category, ScopeLogCapture owner) : ILogger
    {
        public IDisposable? BeginScope<TState>(TState state) where TState : notnull => owner.scopes.Push(state);

        public bool IsEnabled(LogLevel logLevel) => true;

        public void Log<TState>(LogLevel logLevel, EventId eventId, TState state, Exception? exception, Func<TState, Exception?, string> formatter)
        {
            var fields = new Dictionary<string, object?>(StringComparer.Ordinal);
            owner.scopes.ForEachScope((scope, into) =>
            {
                if (scope is IEnumerable<KeyValuePair<string, object?>> pairs)
                {
                    foreach (var (key, value) in pairs)
                    {
                        into[key] = value;
                    }
                }
                else if (scope is IEnumerable<KeyValuePair<string, object>> objects)
                {
                    foreach (var (key, value) in objects)
                    {
                        into[key] = value;
                    }
                }
            }, fields);
            owner.entries.Enqueue(new ScopedLogEntry(category, logLevel, formatter(state, exception), fields));
        }
    }
}

public sealed record ScopedLogEntry(string Category, LogLevel Level, string Message, IReadOnlyDictionary<string, object?> Fields)
{
    public string? Field(string key) => Fields.TryGetValue(key, out var value) ? Convert.ToString(value, System.Globalization.CultureInfo.InvariantCulture) : null;
}

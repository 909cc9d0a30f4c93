using System.Collections.Concurrent;
using System.Diagnostics;

namespace Worker.Temporal.Tracing;

/// <summary>
/// The RunWorkflow span context of each workflow run this process started, by run id, so an instance rebuilt by
/// replay (evicted from the worker's cache, or a worker with <c>MaxCachedWorkflows = 0</c>) parents its next
/// activities to the same RunWorkflow span instead of making a second one. Only parentage depends on it, never a
/// workflow decision. Bounded: past <see cref="Capacity"/> runs it starts over, which only costs parentage of
/// runs already evicted.
/// </summary>
public sealed class WorkflowRunContexts
{
    public const int Capacity = 10_000;

    private readonly ConcurrentDictionary<string, ActivityContext> contexts = new(StringComparer.Ordinal);

    internal void Set(string runId, ActivityContext context)
    {
        if (contexts.Count >= Capacity)
        {
            contexts.Clear();
        }
        contexts[runId] = context;
    }

    internal ActivityContext? Get(string runId) => contexts.TryGetValue(runId, out var context) ? context : null;

    internal void Remove(string runId) => contexts.TryRemove(runId, out _);
}

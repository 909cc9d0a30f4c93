namespace TemporalTestServer.State;

/// <summary>
/// One task queue of one kind (workflow or activity): tasks waiting for a poller and pollers waiting for a
/// task. A task is turned into a poll response at the moment it meets a poller (by <c>start</c>), because
/// only then is it started (for a workflow task, that writes the started event). Guarded by the service lock.
/// </summary>
public sealed class TaskDispatcher<TTask> where TTask : class
{
    private readonly Queue<TTask> ready = new();
    private readonly LinkedList<Poller> pollers = new();

    public sealed record Poller(string Identity, TaskCompletionSource<IMessage?> Response);

    /// <summary>Offers a task: to a waiting poller if there is one, else to the queue.</summary>
    public void Offer(TTask task, Func<TTask, string, IMessage?> start)
    {
        while (pollers.First is { } node)
        {
            pollers.RemoveFirst();
            if (node.Value.Response.Task.IsCompleted)
            {
                continue;
            }
            var response = start(task, node.Value.Identity);
            if (response is not null)
            {
                node.Value.Response.TrySetResult(response);
            }
            else
            {
                pollers.AddFirst(node);
            }
            return;
        }
        ready.Enqueue(task);
    }

    /// <summary>A ready task started for this poller, or a registered waiter (completed later or on timeout).</summary>
    public (IMessage? Response, Poller? Waiter) Poll(string identity, Func<TTask, string, IMessage?> start)
    {
        while (ready.TryDequeue(out var task))
        {
            if (start(task, identity) is { } response)
            {
                return (response, null);
            }
        }
        var waiter = new Poller(identity, new TaskCompletionSource<IMessage?>(TaskCreationOptions.RunContinuationsAsynchronously));
        pollers.AddLast(waiter);
        return (null, waiter);
    }

    public void Remove(Poller poller) => pollers.Remove(poller);

    /// <summary>Answers the waiting pollers of a worker that shuts down with an empty response.</summary>
    public void ReleasePollers(string identity)
    {
        foreach (var poller in pollers.Where(p => p.Identity == identity).ToList())
        {
            pollers.Remove(poller);
            poller.Response.TrySetResult(null);
        }
    }
}

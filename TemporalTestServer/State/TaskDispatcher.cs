namespace TemporalTestServer.State;

/// <summary>What the service tells a dispatcher about its tasks.</summary>
/// <param name="Start">
/// Turns a task into a poll response for a poller at the moment they meet, because only then is it started
/// (for a workflow task, that writes the started event); null when the task went stale meanwhile.
/// </param>
/// <param name="Target">
/// The Worker Deployment Version the task must go to, worked out anew at each match so that a routing change
/// applies to tasks already waiting; null for the unversioned workers.
/// </param>
public sealed record TaskRoute<TTask>(
    Func<TTask, TaskDispatcher<TTask>.Poller, IMessage?> Start,
    Func<TTask, VersionKey?> Target) where TTask : class;

/// <summary>
/// One task queue of one kind (workflow or activity): tasks waiting for a poller and pollers waiting for a
/// task. A task goes only to a poller of the version it is routed to (see <see cref="TaskRoute{TTask}"/>):
/// for unversioned workers that is every task, as before versioning. Guarded by the service lock.
/// </summary>
public sealed class TaskDispatcher<TTask> where TTask : class
{
    private readonly LinkedList<TTask> ready = new();
    private readonly LinkedList<Poller> pollers = new();

    /// <summary>
    /// A waiting poll. <paramref name="Worker"/> names the worker (its instance key) for shutdown;
    /// <paramref name="Version"/> is the version it polls as: null for an unversioned worker, and on a sticky
    /// queue, which belongs to one worker and whose tasks carry no version.
    /// </summary>
    public sealed record Poller(string Identity, string Worker, VersionKey? Version, TaskCompletionSource<IMessage?> Response);

    /// <summary>Offers a task: to a waiting poller of its version if there is one, else to the queue.</summary>
    public void Offer(TTask task, TaskRoute<TTask> route)
    {
        var target = route.Target(task);
        for (var node = pollers.First; node is not null; node = node.Next)
        {
            if (node.Value.Version == target && !node.Value.Response.Task.IsCompleted)
            {
                Hand(task, node, route);
                return;
            }
        }
        ready.AddLast(task);
    }

    /// <summary>A ready task of the poller's version, started for it, or a registered waiter (completed later or on timeout).</summary>
    public (IMessage? Response, Poller? Waiter) Poll(string identity, string worker, VersionKey? version, TaskRoute<TTask> route)
    {
        var waiter = new Poller(identity, worker, version, new TaskCompletionSource<IMessage?>(TaskCreationOptions.RunContinuationsAsynchronously));
        for (var node = ready.First; node is not null;)
        {
            var next = node.Next;
            if (route.Target(node.Value) == version)
            {
                ready.Remove(node);
                if (route.Start(node.Value, waiter) is { } response)
                {
                    return (response, null);
                }
            }
            node = next;
        }
        pollers.AddLast(waiter);
        return (null, waiter);
    }

    /// <summary>After a routing change: hands waiting tasks to waiting pollers of the version they now go to.</summary>
    public void Rematch(TaskRoute<TTask> route)
    {
        if (pollers.Count == 0)
        {
            return;
        }
        var waiting = ready.ToList();
        ready.Clear();
        foreach (var task in waiting)
        {
            Offer(task, route);
        }
    }

    /// <summary>Tasks waiting here that go to <paramref name="version"/> now.</summary>
    public int Backlog(VersionKey? version, TaskRoute<TTask> route) => ready.Count(task => route.Target(task) == version);

    public void Remove(Poller poller) => pollers.Remove(poller);

    /// <summary>Polls waiting for a task.</summary>
    public int WaitingPolls => pollers.Count(p => !p.Response.Task.IsCompleted);

    /// <summary>Neither a task nor a poll waits here.</summary>
    public bool Idle => ready.Count == 0 && WaitingPolls == 0;

    /// <summary>For a diagnosis: the tasks waiting, each named by <paramref name="name"/>, and the workers whose polls wait.</summary>
    public string Describe(Func<TTask, string> name) =>
        $"{ready.Count} tasks [{string.Join(", ", ready.Select(name))}], {WaitingPolls} polls [{string.Join(", ", pollers.Where(p => !p.Response.Task.IsCompleted).Select(p => p.Worker))}]";

    /// <summary>Answers the waiting polls of a worker that shuts down with an empty response.</summary>
    public void ReleasePollers(string worker)
    {
        foreach (var poller in pollers.Where(p => p.Worker == worker).ToList())
        {
            pollers.Remove(poller);
            poller.Response.TrySetResult(null);
        }
    }

    private void Hand(TTask task, LinkedListNode<Poller> node, TaskRoute<TTask> route)
    {
        pollers.Remove(node);
        if (route.Start(task, node.Value) is { } response)
        {
            node.Value.Response.TrySetResult(response);
        }
        else
        {
            pollers.AddFirst(node); // the task was stale: the poller keeps its place
        }
    }
}

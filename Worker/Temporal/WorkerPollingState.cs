namespace Worker.Temporal;

/// <summary>Whether this process's Temporal worker is polling its task queue; read by readiness.</summary>
public sealed class WorkerPollingState
{
    private volatile bool polling;

    public bool IsPolling => polling;

    internal void Set(bool value) => polling = value;
}

namespace Worker.Temporal;

/// <summary>
/// Something the application needs before its Temporal worker may poll (its database schema, say): the worker
/// waits for every registered gate, so it never takes a task it could not run. Readiness reports the gate
/// through the application's own health check.
/// </summary>
public interface IWorkerReadinessGate
{
    /// <summary>Completes once the worker may poll.</summary>
    Task WaitReadyAsync(CancellationToken cancellationToken);
}

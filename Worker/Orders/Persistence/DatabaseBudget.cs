namespace Worker.Orders.Persistence;

/// <summary>
/// What one worker process may take of PostgreSQL (section <c>Database</c>): its connection pool, and the share of it
/// its activities may hold at once, so that a burst of activities waits for a task slot, not for a connection, and
/// the API, the health checks and the background work keep connections of their own. The deployment sizes the pool so
/// that every replica at the autoscaler's maximum, Temporal and the administrators fit the server's max_connections
/// (docs/operations.md, "The connection budget").
/// </summary>
public sealed class DatabaseBudget
{
    public const string Section = "Database";

    /// <summary>The pool's size when neither this setting nor the connection string names one.</summary>
    public const int DefaultMaxPoolSize = 20;

    /// <summary>Connections kept from the activities: the API's statements, health checks, the backlog gauges, the sweep.</summary>
    public const int ReservedForTheRest = 4;

    /// <summary>The connection pool's size; when unset, the connection string's <c>Maximum Pool Size</c>, else <see cref="DefaultMaxPoolSize"/>.</summary>
    public int? MaxPoolSize { get; set; }

    /// <summary>The activities one worker runs at once; by default the pool less <see cref="ReservedForTheRest"/>.</summary>
    public int? MaxConcurrentActivities { get; set; }

    /// <summary>The pool size for a connection string that names <paramref name="fromConnectionString"/> (null: names none).</summary>
    public int PoolSize(int? fromConnectionString) => MaxPoolSize ?? fromConnectionString ?? DefaultMaxPoolSize;

    /// <summary>The activity slots for a pool of <paramref name="poolSize"/>.</summary>
    public int ActivitySlots(int poolSize) => MaxConcurrentActivities ?? Math.Max(1, poolSize - ReservedForTheRest);

    /// <summary>Problems that make the budget unusable, each naming its key.</summary>
    public IEnumerable<string> Validate()
    {
        if (MaxPoolSize is < 1)
        {
            yield return "Database:MaxPoolSize must be at least 1.";
        }
        if (MaxConcurrentActivities is < 1)
        {
            yield return "Database:MaxConcurrentActivities must be at least 1.";
        }
        if (MaxPoolSize is { } pool && MaxConcurrentActivities is { } slots && slots > pool)
        {
            yield return $"Database:MaxConcurrentActivities ({slots}) must not exceed Database:MaxPoolSize ({pool}): activities would wait for connections.";
        }
    }
}

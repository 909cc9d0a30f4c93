namespace Worker;

/// <summary>
/// What this process does (<c>Worker:Roles</c>, default <c>api,worker</c>): <c>api</c> serves the HTTP API,
/// <c>worker</c> polls the Temporal task queue. Split them to scale API replicas and worker replicas apart.
/// </summary>
public sealed record WorkerRoles(bool Api, bool Worker)
{
    public const string ConfigurationKey = "Worker:Roles";

    /// <summary>Reads the roles; an unknown or empty role list is a start-up error naming the key.</summary>
    public static WorkerRoles From(IConfiguration configuration)
    {
        ArgumentNullException.ThrowIfNull(configuration);
        var raw = configuration[ConfigurationKey] ?? "api,worker";
        var names = raw.Split([',', ' '], StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries)
            .Select(n => n.ToLowerInvariant())
            .ToHashSet();
        var unknown = names.Except(["api", "worker"]).ToList();
        if (names.Count == 0 || unknown.Count > 0)
        {
            throw new InvalidOperationException(
                $"{ConfigurationKey} must list 'api', 'worker' or both (got '{raw}').");
        }
        return new WorkerRoles(names.Contains("api"), names.Contains("worker"));
    }

    public override string ToString() => string.Join(',', new[] { Api ? "api" : null, Worker ? "worker" : null }.OfType<string>());
}

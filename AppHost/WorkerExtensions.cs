using Aspire.Hosting.ApplicationModel;

namespace Aspire.Hosting;

/// <summary>How the worker is wired to the rest of the model.</summary>
public static class WorkerExtensions
{
    public const string TaskQueue = "orders";

    public static IResourceBuilder<ProjectResource> WithAppDatabase(
        this IResourceBuilder<ProjectResource> worker, IResourceBuilder<IResourceWithConnectionString> database)
    {
        ArgumentNullException.ThrowIfNull(worker);
        ArgumentNullException.ThrowIfNull(database);
        worker.WithReference(database);
        // Only containers have a state to wait for; an existing server is there or not.
        return database.Resource is PostgresDatabaseResource ? worker.WaitFor(database) : worker;
    }

    public static IResourceBuilder<ProjectResource> WithOptionalCache(
        this IResourceBuilder<ProjectResource> worker, IResourceBuilder<IResourceWithConnectionString>? cache)
    {
        ArgumentNullException.ThrowIfNull(worker);
        if (cache is null)
        {
            return worker;
        }
        worker.WithReference(cache);
        return cache.Resource is RedisResource ? worker.WaitFor(cache) : worker;
    }

    public static IResourceBuilder<ProjectResource> WithTemporal(this IResourceBuilder<ProjectResource> worker, TemporalTarget temporal)
    {
        ArgumentNullException.ThrowIfNull(worker);
        ArgumentNullException.ThrowIfNull(temporal);
        worker.WithEnvironment("Temporal__Address", temporal.Server)
            .WithEnvironment("Temporal__Namespace", temporal.Namespace)
            .WithEnvironment("Temporal__TaskQueue", TaskQueue);
        if (temporal.ApiKey is not null)
        {
            worker.WithEnvironment("Temporal__ApiKey", temporal.ApiKey);
        }
        return temporal.ReadyWhenCompleted is null ? worker : worker.WaitForCompletion(temporal.ReadyWhenCompleted);
    }

    /// <summary>
    /// The API key (generated once and kept in user secrets when not given) and, when a payment gateway is
    /// configured, its key: both secret parameters, never plain configuration.
    /// </summary>
    public static IResourceBuilder<ProjectResource> WithApiSecrets(this IResourceBuilder<ProjectResource> worker)
    {
        ArgumentNullException.ThrowIfNull(worker);
        var builder = worker.ApplicationBuilder;
        var apiKey = builder.AddParameter("api-key", new GenerateParameterDefault { MinLength = 32, Special = false }, secret: true, persist: true);
        worker.WithEnvironment("Api__Keys", apiKey);
        if (builder.Configuration["Payments:Endpoint"] is { Length: > 0 } endpoint)
        {
            worker.WithEnvironment("Payments__Endpoint", endpoint)
                .WithEnvironment("Payments__ApiKey", builder.AddParameter("payments-api-key", secret: true));
        }
        return worker;
    }
}

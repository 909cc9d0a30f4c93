using Aspire.Hosting.ApplicationModel;
using Microsoft.Extensions.Configuration;

namespace Aspire.Hosting;

/// <summary>The Temporal server the worker talks to: a container stack, or an existing server.</summary>
public sealed record TemporalTarget(
    IResourceBuilder<IResourceWithConnectionString> Server,
    string Namespace,
    IResourceBuilder<IResource>? ReadyWhenCompleted,
    IResourceBuilder<ParameterResource>? ApiKey);

/// <summary>
/// The infrastructure of the model. Each piece is a container by default and becomes a connection string
/// when configuration names an existing server (<c>ConnectionStrings:appdb</c>, <c>ConnectionStrings:redis</c>,
/// <c>ConnectionStrings:temporal</c>), so the same model runs against local containers, shared servers,
/// managed services or Temporal Cloud.
/// </summary>
public static class StackExtensions
{
    public const string AppDatabase = "appdb";
    public const string Cache = "redis";
    public const string Temporal = "temporal";

    /// <summary>PostgreSQL in a container (data volume, secret password), or null when the app database is existing.</summary>
    public static IResourceBuilder<PostgresServerResource>? AddPostgresServer(this IDistributedApplicationBuilder builder)
    {
        ArgumentNullException.ThrowIfNull(builder);
        if (builder.IsExisting(AppDatabase))
        {
            return null;
        }
        var password = builder.AddParameter("postgres-password", new GenerateParameterDefault { MinLength = 24, Special = false },
            secret: true, persist: true);
        return builder.AddPostgres("postgres", password: password)
            .WithImageTag(StackImages.PostgresTag)
            .WithDataVolume();
    }

    /// <summary>The worker's database: on the container server, or the configured connection string.</summary>
    public static IResourceBuilder<IResourceWithConnectionString> AddAppDatabase(
        this IDistributedApplicationBuilder builder, IResourceBuilder<PostgresServerResource>? postgres)
    {
        ArgumentNullException.ThrowIfNull(builder);
        return postgres is null
            ? builder.AddConnectionString(AppDatabase)
            : postgres.AddDatabase(AppDatabase);
    }

    /// <summary>
    /// Temporal: the container stack (schema job, server, namespace job, Web UI) on <paramref name="postgres"/>,
    /// or the existing server named by <c>ConnectionStrings:temporal</c> (with <c>Parameters:temporal-api-key</c>
    /// for Temporal Cloud).
    /// </summary>
    public static TemporalTarget AddTemporal(this IDistributedApplicationBuilder builder, IResourceBuilder<PostgresServerResource>? postgres)
    {
        ArgumentNullException.ThrowIfNull(builder);
        if (builder.IsExisting(Temporal))
        {
            var apiKey = string.IsNullOrEmpty(builder.Configuration["Parameters:temporal-api-key"])
                ? null
                : builder.AddParameter("temporal-api-key", secret: true);
            return new TemporalTarget(builder.AddConnectionString(Temporal),
                builder.Configuration["Temporal:Namespace"] ?? "default", null, apiKey);
        }
        if (postgres is null)
        {
            throw new InvalidOperationException(
                $"ConnectionStrings:{AppDatabase} points at an existing PostgreSQL, so Temporal cannot run in a container "
                + $"on the AppHost's PostgreSQL: also set ConnectionStrings:{Temporal} (host:port of an existing Temporal).");
        }
        var ns = builder.Configuration["Temporal:Namespace"] ?? "orders";
        var retention = TimeSpan.FromDays(builder.Configuration.GetValue("Temporal:RetentionDays", 3));
        var server = builder.AddTemporalServer(Temporal, postgres, ns, retention);
        builder.AddTemporalUi("temporal-ui", server);
        return new TemporalTarget(server, ns, builder.NamespaceJob(server), null);
    }

    /// <summary>Redis as the optional cache: a container, the configured connection string, or nothing when <c>Redis:Enabled</c> is false.</summary>
    public static IResourceBuilder<IResourceWithConnectionString>? AddOptionalCache(this IDistributedApplicationBuilder builder)
    {
        ArgumentNullException.ThrowIfNull(builder);
        if (!builder.Configuration.GetValue("Redis:Enabled", true))
        {
            return null;
        }
        return builder.IsExisting(Cache)
            ? builder.AddConnectionString(Cache)
            : builder.AddRedis(Cache).WithImageTag(StackImages.RedisTag);
    }

    private static bool IsExisting(this IDistributedApplicationBuilder builder, string connectionName) =>
        !string.IsNullOrWhiteSpace(builder.Configuration.GetConnectionString(connectionName));
}

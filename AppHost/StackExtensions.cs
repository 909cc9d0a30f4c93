using Aspire.Hosting.ApplicationModel;
using Microsoft.Extensions.Configuration;

namespace AppHost;

/// <summary>
/// The infrastructure of the model. Each piece is a container by default and becomes a connection string
/// when configuration names an existing server (<c>ConnectionStrings:appdb</c>, <c>ConnectionStrings:redis</c>,
/// <c>ConnectionStrings:temporal</c>), so the same model runs against local containers, shared servers,
/// managed services or Temporal Cloud.
/// </summary>
internal static class StackExtensions
{
    public const string AppDatabase = "appdb";
    public const string Cache = "redis";

    /// <summary>The worker's Temporal reference: the namespace resource, or the existing server's connection string.</summary>
    public const string Temporal = "temporal";

    /// <summary>
    /// PostgreSQL 16, the newest major Temporal tests its persistence on (its docs list 13.18, 14.15, 15.10 and
    /// 16.6; samples-server runs 16); 17 is outside that set. 16.11 is a later patch of the tested 16.6 (patches
    /// carry only fixes) published as an official image. A move to 17 waits until Temporal tests it.
    /// </summary>
    public const string PostgresTag = "16.11";

    /// <summary>PostgreSQL in a container (data volume, secret password), or null when the app database is existing.</summary>
    public static IResourceBuilder<PostgresServerResource>? AddPostgresServer(this IDistributedApplicationBuilder builder)
    {
        if (builder.IsExisting(AppDatabase))
        {
            return null;
        }
        var password = builder.AddParameter("postgres-password", new GenerateParameterDefault { MinLength = 24, Special = false },
            secret: true, persist: true);
        return builder.AddPostgres("postgres", password: password)
            .WithImageTag(PostgresTag)
            .WithDataVolume();
    }

    /// <summary>The worker's database: on the container server, or the configured connection string.</summary>
    public static IResourceBuilder<IResourceWithConnectionString> AddAppDatabase(
        this IDistributedApplicationBuilder builder, IResourceBuilder<PostgresServerResource>? postgres) =>
        postgres is null
            ? builder.AddConnectionString(AppDatabase)
            : postgres.AddDatabase(AppDatabase);

    /// <summary>
    /// The worker's Temporal namespace: a Temporal server with its Web UI on <paramref name="postgres"/> and the
    /// namespace <c>Temporal:Namespace</c> (default <c>orders</c>, retention <c>Temporal:RetentionDays</c>, default 3)
    /// on it; or the existing server named by <c>ConnectionStrings:temporal</c>.
    /// </summary>
    public static IResourceBuilder<IResourceWithConnectionString> AddTemporal(
        this IDistributedApplicationBuilder builder, IResourceBuilder<PostgresServerResource>? postgres)
    {
        if (builder.IsExisting(Temporal))
        {
            return builder.AddConnectionString(Temporal);
        }
        if (postgres is null)
        {
            throw new InvalidOperationException(
                $"ConnectionStrings:{AppDatabase} points at an existing PostgreSQL, so Temporal cannot run in a container "
                + $"on the AppHost's PostgreSQL: also set ConnectionStrings:{Temporal} (host:port of an existing Temporal).");
        }
        return builder.AddTemporalServer("temporal-server", postgres)
            .WithTemporalUi("temporal-ui")
            .AddNamespace(Temporal,
                builder.Configuration["Temporal:Namespace"] ?? "orders",
                TimeSpan.FromDays(builder.Configuration.GetValue("Temporal:RetentionDays", 3)));
    }

    /// <summary>Redis 8.2, pinned like every image.</summary>
    public const string RedisTag = "8.2";

    /// <summary>Redis as the optional cache: a container, the configured connection string, or nothing when <c>Redis:Enabled</c> is false.</summary>
    public static IResourceBuilder<IResourceWithConnectionString>? AddOptionalCache(this IDistributedApplicationBuilder builder)
    {
        if (!builder.Configuration.GetValue("Redis:Enabled", true))
        {
            return null;
        }
        return builder.IsExisting(Cache)
            ? builder.AddConnectionString(Cache)
            : builder.AddRedis(Cache).WithImageTag(RedisTag);
    }

    private static bool IsExisting(this IDistributedApplicationBuilder builder, string connectionName) =>
        !string.IsNullOrWhiteSpace(builder.Configuration.GetConnectionString(connectionName));
}

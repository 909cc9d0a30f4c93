using System.Diagnostics;
using Aspire.Hosting.ApplicationModel;
using Aspire.Hosting.Processes.HealthChecks;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Diagnostics.HealthChecks;
using Npgsql;

namespace Aspire.Hosting;

/// <summary>
/// Adds PostgreSQL and Redis as local processes, for models that run where no container engine does. They take
/// the resource names, connection strings and health checks their containers would have, so what references
/// them cannot tell the difference.
/// </summary>
public static class ProcessBuilderExtensions
{
    // initdb on first use (the password from the environment, never the command line), a stale lock file of a
    // crashed server removed, then exec: the server itself receives the orchestrator's stop signal.
    private const string PostgresStartScript = """
        set -eu
        if [ ! -s "$PGDATA/PG_VERSION" ]; then
          pwfile="$(mktemp)"
          trap 'rm -f "$pwfile"' EXIT
          printf '%s' "$POSTGRES_PASSWORD" > "$pwfile"
          "$PG_BIN/initdb" -D "$PGDATA" -U postgres --auth=scram-sha-256 --pwfile="$pwfile" -E UTF8 >/dev/null
          rm -f "$pwfile"
        fi
        unset POSTGRES_PASSWORD # the server and its backends need not carry it
        if [ -f "$PGDATA/postmaster.pid" ]; then
          pid="$(head -n 1 "$PGDATA/postmaster.pid")"
          if ! kill -0 "$pid" 2>/dev/null && [ ! -d "/proc/$pid" ]; then
            echo "Removing the lock file of a server that is not running (pid $pid)"
            rm -f "$PGDATA/postmaster.pid"
          fi
        fi
        exec "$PG_BIN/postgres" -D "$PGDATA" -c listen_addresses=127.0.0.1 -c unix_socket_directories= -p "$PGPORT"
        """;

    /// <summary>
    /// Adds PostgreSQL as a local process: <paramref name="postgresProgram"/> (with <c>initdb</c> beside it) on a
    /// port Aspire allocates, its data in <paramref name="dataDirectory"/> (created with <paramref name="password"/> on
    /// first use, kept between runs). PostgreSQL refuses to run as root: when the AppHost is root, the server runs as
    /// the <c>postgres</c> user, which then owns the data directory.
    /// </summary>
    /// <param name="builder">The application builder.</param>
    /// <param name="name">The resource name.</param>
    /// <param name="postgresProgram">Path of the <c>postgres</c> executable.</param>
    /// <param name="dataDirectory">The data directory.</param>
    /// <param name="password">The superuser's password.</param>
    public static IResourceBuilder<PostgresProcessResource> AddPostgresProcess(
        this IDistributedApplicationBuilder builder, [ResourceName] string name, string postgresProgram, string dataDirectory,
        IResourceBuilder<ParameterResource> password)
    {
        ArgumentNullException.ThrowIfNull(builder);
        ArgumentNullException.ThrowIfNull(password);
        var asRoot = Environment.UserName == "root";
        string[] shell = ["/bin/sh", "-c", PostgresStartScript];
        var server = new PostgresProcessResource(name, asRoot ? "setpriv" : shell[0], dataDirectory, password.Resource);
        var readyCheck = $"{name}-ready";
        builder.Services.AddHealthChecks().Add(new HealthCheckRegistration(
            readyCheck, _ => new PostgresConnectionHealthCheck(server), failureStatus: null, tags: null));
        // The data directory is made when the server starts, not when the model is built (a model-only run makes nothing).
        builder.Eventing.Subscribe<BeforeResourceStartedEvent>(server, (_, _) =>
        {
            Directory.CreateDirectory(dataDirectory);
            if (asRoot)
            {
                RunToEnd("chown", "postgres:postgres", dataDirectory);
            }
            return Task.CompletedTask;
        });
        return builder.AddResource(server)
            .WithArgs(asRoot ? ["--reuid=postgres", "--regid=postgres", "--init-groups", "--", .. shell] : shell[1..])
            .WithEndpoint(name: PostgresProcessResource.EndpointName, scheme: "tcp", env: "PGPORT")
            .WithEnvironment("PGDATA", dataDirectory)
            .WithEnvironment("PG_BIN", Path.GetDirectoryName(postgresProgram)!)
            .WithEnvironment("POSTGRES_PASSWORD", password)
            .WithHealthCheck(readyCheck);
    }

    /// <summary>Adds a database to the server, created once the server is ready; healthy once it accepts connections.</summary>
    /// <param name="server">The server.</param>
    /// <param name="name">The resource name; also the connection-string name.</param>
    /// <param name="databaseName">The database; defaults to <paramref name="name"/>.</param>
    public static IResourceBuilder<PostgresProcessDatabaseResource> AddDatabase(
        this IResourceBuilder<PostgresProcessResource> server, [ResourceName] string name, string? databaseName = null)
    {
        ArgumentNullException.ThrowIfNull(server);
        var builder = server.ApplicationBuilder;
        var database = new PostgresProcessDatabaseResource(name, databaseName ?? name, server.Resource);
        var readyCheck = $"{name}-ready";
        builder.Services.AddHealthChecks().Add(new HealthCheckRegistration(
            readyCheck, _ => new PostgresConnectionHealthCheck(database), failureStatus: null, tags: null));
        builder.Eventing.Subscribe<ResourceReadyEvent>(server.Resource, async (e, ct) =>
        {
            await CreateDatabaseAsync(server.Resource, database.DatabaseName, ct);
            // Aspire gives only a container's children its state; a process's children get it here.
            await e.Services.GetRequiredService<ResourceNotificationService>().PublishUpdateAsync(database, s => s with
            {
                State = KnownResourceStates.Running,
                StartTimeStamp = s.StartTimeStamp ?? DateTime.UtcNow,
            });
        });
        return builder.AddResource(database).WithHealthCheck(readyCheck);
    }

    /// <summary>
    /// Adds Redis as a local process on a port Aspire allocates, without persistence (a cache), requiring
    /// <paramref name="password"/> as a container's Redis does. The password goes into a configuration file only
    /// the AppHost's user can read, written when the server starts; never onto the command line.
    /// </summary>
    /// <param name="builder">The application builder.</param>
    /// <param name="name">The resource name.</param>
    /// <param name="redisServer">Path of the <c>redis-server</c> executable.</param>
    /// <param name="workingDirectory">Where it runs and keeps its configuration file.</param>
    /// <param name="password">The password clients must give.</param>
    public static IResourceBuilder<RedisProcessResource> AddRedisProcess(
        this IDistributedApplicationBuilder builder, [ResourceName] string name, string redisServer, string workingDirectory,
        IResourceBuilder<ParameterResource> password)
    {
        ArgumentNullException.ThrowIfNull(builder);
        ArgumentNullException.ThrowIfNull(password);
        var redis = new RedisProcessResource(name, redisServer, workingDirectory, password.Resource);
        var configuration = Path.Combine(workingDirectory, "redis.conf");
        return builder.AddRedisCompatible(redis, configuration, secret => $"bind 127.0.0.1\nsave \"\"\nappendonly no\nrequirepass \"{secret}\"\n",
            context =>
            {
                context.Args.Add(configuration);
                context.Args.Add("--port");
                context.Args.Add(redis.PrimaryEndpoint.Property(EndpointProperty.TargetPort));
            });
    }

    /// <summary>
    /// Adds Microsoft Garnet, a Redis-compatible server, as a local process of the project's <c>GarnetHost</c> on a port
    /// Aspire allocates, for machines without <c>redis-server</c>: the same connection string, password and health check
    /// as <see cref="AddRedisProcess"/>, Lua scripts on, nothing kept. The password goes into a file only the AppHost's
    /// user can read, never onto the command line.
    /// </summary>
    /// <param name="builder">The application builder.</param>
    /// <param name="name">The resource name.</param>
    /// <param name="garnetHost">Path of the built <c>GarnetHost.dll</c>.</param>
    /// <param name="workingDirectory">Where it runs and keeps its password file.</param>
    /// <param name="password">The password clients must give.</param>
    public static IResourceBuilder<RedisProcessResource> AddGarnetProcess(
        this IDistributedApplicationBuilder builder, [ResourceName] string name, string garnetHost, string workingDirectory,
        IResourceBuilder<ParameterResource> password)
    {
        ArgumentNullException.ThrowIfNull(builder);
        ArgumentNullException.ThrowIfNull(password);
        var garnet = new RedisProcessResource(name, "dotnet", workingDirectory, password.Resource);
        var passwordFile = Path.Combine(workingDirectory, "password");
        return builder.AddRedisCompatible(garnet, passwordFile, secret => secret, context =>
        {
            context.Args.Add(garnetHost);
            context.Args.Add("--port");
            context.Args.Add(garnet.PrimaryEndpoint.Property(EndpointProperty.TargetPort));
            context.Args.Add("--password-file");
            context.Args.Add(passwordFile);
        });
    }

    /// <summary>
    /// What both servers share: an endpoint Aspire allocates, a file only this user may read with the password in it
    /// (written as the server starts), and healthy once it answers PING with the password.
    /// </summary>
    private static IResourceBuilder<RedisProcessResource> AddRedisCompatible(this IDistributedApplicationBuilder builder,
        RedisProcessResource server, string secretFile, Func<string, string> contents, Action<CommandLineArgsCallbackContext> arguments)
    {
        var readyCheck = $"{server.Name}-ready";
        builder.Services.AddHealthChecks().Add(new HealthCheckRegistration(
            readyCheck, _ => new RedisPingHealthCheck(server), failureStatus: null, tags: null));
        builder.Eventing.Subscribe<BeforeResourceStartedEvent>(server, async (_, ct) =>
        {
            Directory.CreateDirectory(Path.GetDirectoryName(secretFile)!);
            var options = new FileStreamOptions { Mode = FileMode.Create, Access = FileAccess.Write };
            if (!OperatingSystem.IsWindows())
            {
                options.UnixCreateMode = UnixFileMode.UserRead | UnixFileMode.UserWrite; // the password is in it
            }
            await using var file = new FileStream(secretFile, options);
            await using var writer = new StreamWriter(file);
            await writer.WriteAsync(contents(await server.PasswordParameter.GetValueAsync(ct) ?? ""));
        });
        return builder.AddResource(server)
            .WithEndpoint(name: RedisProcessResource.EndpointName, scheme: "tcp")
            .WithArgs(arguments)
            .WithHealthCheck(readyCheck);
    }

    private static async Task CreateDatabaseAsync(PostgresProcessResource server, string databaseName, CancellationToken cancellationToken)
    {
        var connectionString = await server.ConnectionStringExpression.GetValueAsync(cancellationToken);
        await using var connection = new NpgsqlConnection(connectionString);
        await connection.OpenAsync(cancellationToken);
        await using var exists = new NpgsqlCommand("SELECT 1 FROM pg_database WHERE datname = @name", connection);
        exists.Parameters.AddWithValue("name", databaseName);
        if (await exists.ExecuteScalarAsync(cancellationToken) is null)
        {
            await using var create = new NpgsqlCommand($"CREATE DATABASE {new NpgsqlCommandBuilder().QuoteIdentifier(databaseName)}", connection);
            await create.ExecuteNonQueryAsync(cancellationToken);
        }
    }

    private static void RunToEnd(string program, params string[] arguments)
    {
        using var process = Process.Start(new ProcessStartInfo(program, arguments) { RedirectStandardError = true })!;
        var error = process.StandardError.ReadToEnd();
        process.WaitForExit();
        if (process.ExitCode != 0)
        {
            throw new InvalidOperationException($"{program} {string.Join(' ', arguments)} failed: {error}");
        }
    }
}

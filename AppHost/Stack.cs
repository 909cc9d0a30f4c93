using System.Runtime.InteropServices;
using Aspire.Hosting.ApplicationModel;
using Aspire.Hosting.Deployment;
using Aspire.Hosting.Processes;
using Microsoft.Extensions.Configuration;

namespace AppHost;

/// <summary>How the infrastructure runs: in containers, or as local processes where no container engine answers.</summary>
internal enum StackMode
{
    Containers,
    Processes,
}

/// <summary>
/// The infrastructure of the model. Each piece is a container (<c>Stack:Mode=containers</c>), a local process
/// (<c>processes</c>), or by default (<c>auto</c>) a container when an engine answers and a process otherwise; and
/// it becomes a connection string when configuration names an existing server (<c>ConnectionStrings:appdb</c>,
/// <c>ConnectionStrings:redis</c>, <c>ConnectionStrings:temporal</c>), whatever the mode. Process mode is for
/// running: publishing always describes the containers. Every mode gives the same resource names, references,
/// waits and health checks, so the worker and the dashboard see the same system.
/// </summary>
internal sealed class Stack
{
    public const string AppDatabase = "appdb";
    public const string Cache = "redis";

    /// <summary>The worker's Temporal reference: the namespace resource, or the existing server's connection string.</summary>
    public const string Temporal = "temporal";

    /// <summary>The Temporal Web UI, in container mode.</summary>
    public const string TemporalUi = "temporal-ui";

    /// <summary>
    /// PostgreSQL 16, the newest major Temporal tests its persistence on (its docs list 13.18, 14.15, 15.10 and
    /// 16.6; samples-server runs 16); 17 is outside that set. 16.11 is a later patch of the tested 16.6 (patches
    /// carry only fixes) published as an official image. A move to 17 waits until Temporal tests it.
    /// </summary>
    public const string PostgresTag = "16.11";

    /// <summary>
    /// PostgreSQL's <c>max_connections</c> (its default is 100): what every workload's pool may open at once when each
    /// runs at its most, and <see cref="ReservedConnections"/> (docs/operations.md, "The connection budget"). The
    /// generator refuses a model whose sum exceeds it.
    /// </summary>
    public const int MaxConnections = 500;

    /// <summary>Kept for administration: PostgreSQL's own 3 superuser-reserved connections, and a few psql sessions.</summary>
    public const int ReservedConnections = 10;

    /// <summary>Each worker replica's PostgreSQL pool (Database:MaxPoolSize; its activity slots are this less a reserve).</summary>
    public const int WorkerPoolSize = 20;

    /// <summary>Redis, pinned like every image.</summary>
    public const string RedisTag = "8.2";

    private readonly IDistributedApplicationBuilder builder;
    private IResourceBuilder<PostgresServerResource>? postgresContainer;
    private IResourceBuilder<PostgresProcessResource>? postgresProcess;
    private DatabaseRoles? roles;
    private PostgresTls? postgresTls;
    private RedisTls? redisTls;

    private Stack(IDistributedApplicationBuilder builder, StackMode mode)
    {
        this.builder = builder;
        Mode = mode;
    }

    public StackMode Mode { get; }

    /// <summary>Where process mode keeps its data between runs (<c>Stack:StateDirectory</c>).</summary>
    public string StateDirectory => builder.Configuration["Stack:StateDirectory"] is { Length: > 0 } configured
        ? configured
        : DefaultStateDirectory();

    /// <summary>
    /// Chooses the mode and makes the start fail fast when the mode cannot run: in process mode when a program is
    /// missing, in container mode when no engine answers (unless auto chose containers because one just did).
    /// </summary>
    public static Stack Choose(IDistributedApplicationBuilder builder)
    {
        var engineAnswered = false;
        var mode = SelectMode(builder.Configuration["Stack:Mode"], builder.ExecutionContext.IsRunMode,
            () => engineAnswered = ContainerRuntimeCheck.ProbeAsync(ContainerRuntimeCheck.Runtime, CancellationToken.None).GetAwaiter().GetResult() is null);
        var stack = new Stack(builder, mode);
        if (mode == StackMode.Processes)
        {
            stack.FailFastWithoutPrograms();
        }
        else if (!engineAnswered)
        {
            builder.FailFastWithoutContainerRuntime();
        }
        return stack;
    }

    /// <summary>
    /// The mode for a <c>Stack:Mode</c> setting (auto when unset). Publishing always describes containers; auto asks
    /// <paramref name="engineAnswers"/> (run mode only, so a publish never waits on an engine probe).
    /// </summary>
    public static StackMode SelectMode(string? setting, bool isRunMode, Func<bool> engineAnswers) =>
        (setting ?? "auto").ToLowerInvariant() switch
        {
            _ when !isRunMode => StackMode.Containers,
            "containers" => StackMode.Containers,
            "processes" => StackMode.Processes,
            "auto" => engineAnswers() ? StackMode.Containers : StackMode.Processes,
            _ => throw new InvalidOperationException($"Stack:Mode must be auto, containers or processes, not '{setting}'."),
        };

    /// <summary>The worker's database: on the PostgreSQL server of the mode, or the configured connection string.</summary>
    public IResourceBuilder<IResourceWithConnectionString> AddAppDatabase()
    {
        if (IsExisting(AppDatabase))
        {
            return builder.AddConnectionString(AppDatabase);
        }
        if (Mode == StackMode.Processes)
        {
            return PostgresProcess().AddDatabase(AppDatabase);
        }
        // The replicas connect with rights on rows only; a job connected as the owner applies the migrations first, and
        // waiting on the database waits for it (docs/security.md, "Database roles").
        var owner = Roles().Login($"{AppDatabase}-owner", AppDatabase, DatabaseRoles.AppOwner);
        var migrations = PostgresTlsOf().NpgsqlClient(builder.AddProject<Projects.Worker>($"{AppDatabase}-migrations", o => o.ExcludeLaunchProfile = true))
            .RunFromBuildOutput()
            .WithArgs(MigrateFlag)
            .WithEnvironment($"ConnectionStrings__{AppDatabase}", owner)
            .WithEnvironment("Database__MaxPoolSize", "1")
            .WaitForCompletion(Roles().Job)
            .WithDeployment(d => d.Image(WorkerExtensions.WorkerImage).RunAs(WorkerExtensions.WorkloadUser).Resources(cpu: "100m/1", memory: "128Mi/256Mi")
                .Connects(PostgresContainer().Resource, perReplica: 1));
        var appDb = Roles().Login(AppDatabase, AppDatabase, DatabaseRoles.AppUser, readyAfter: migrations.Resource);
        migrations.WithParentRelationship(appDb);
        return appDb;
    }

    /// <summary>The worker's <c>--migrate</c> command (Worker/MigrateCommand.cs).</summary>
    private const string MigrateFlag = "--migrate";

    /// <summary>
    /// The worker's Temporal namespace (<c>Temporal:Namespace</c>, default <c>orders</c>, retention
    /// <c>Temporal:RetentionDays</c>, default 3): on a Temporal server with its Web UI in containers; as processes,
    /// on the Temporal CLI's development server, or without the CLI on the project's test server; or the existing
    /// server named by <c>ConnectionStrings:temporal</c>.
    /// </summary>
    public IResourceBuilder<IResourceWithConnectionString> AddTemporal()
    {
        if (IsExisting(Temporal))
        {
            return builder.AddConnectionString(Temporal);
        }
        var ns = builder.Configuration["Temporal:Namespace"] ?? "orders";
        var retention = TimeSpan.FromDays(builder.Configuration.GetValue("Temporal:RetentionDays", 3));
        if (Mode == StackMode.Processes)
        {
            return LocalBinaries.Find(LocalBinaries.TemporalCli, Directories()) is { } cli
                ? builder.AddTemporalDevServer("temporal-server", cli, Path.Combine(StateDirectory, "temporal")).AddNamespace(Temporal, ns, retention)
                : TemporalTestServer().AddNamespace(Temporal, ns, retention);
        }
        if (IsExisting(AppDatabase))
        {
            throw new InvalidOperationException(
                $"ConnectionStrings:{AppDatabase} points at an existing PostgreSQL, so Temporal cannot run in a container "
                + $"on the AppHost's PostgreSQL: also set ConnectionStrings:{Temporal} (host:port of an existing Temporal).");
        }
        var server = builder.AddTemporalServer("temporal-server", PostgresContainer(), new TemporalDatabaseRoles(
                DatabaseRoles.TemporalOwner, Roles().Password(DatabaseRoles.TemporalOwner),
                DatabaseRoles.TemporalUser, Roles().Password(DatabaseRoles.TemporalUser),
                Roles().Job), PostgresTlsOf().Temporal)
            // Deployed: a frontend's start (schema cache, membership) and its history shards' memory.
            .WithDeployment(d => d.Resources(cpu: "500m/2", memory: "512Mi/1Gi")
                .Contribute(new ServerCertificate(TemporalTls.ServerSecret, "temporal-server", clientSecret: TemporalTls.ClientSecret)));
        TemporalServer = server.Resource;
        return server
            .WithTemporalUi(TemporalUi)
            .AddNamespace(Temporal, ns, retention)
            // Helm's temporal.enabled=false: Temporal's own chart's frontend by default, Temporal Cloud's API key from the Secret.
            .WithExistingTemporalWhenDeployed("temporal-frontend.temporal.svc:7233", apiKeySecretKey: "apiKey");
    }

    /// <summary>Redis as the optional cache: of the mode, the configured connection string, or nothing when <c>Redis:Enabled</c> is false.</summary>
    public IResourceBuilder<IResourceWithConnectionString>? AddOptionalCache()
    {
        if (!builder.Configuration.GetValue("Redis:Enabled", true))
        {
            return null;
        }
        if (IsExisting(Cache))
        {
            return builder.AddConnectionString(Cache);
        }
        if (Mode == StackMode.Containers)
        {
            return AddRedisContainer();
        }
        var password = builder.AddParameter("redis-password", new GenerateParameterDefault { MinLength = 24, Special = false }, secret: true, persist: true);
        // Without redis-server, Microsoft Garnet (Redis-compatible, a package): nothing to install for the cache.
        return LocalBinaries.Find(LocalBinaries.Redis, Directories()) is { } redisServer
            ? builder.AddRedisProcess(Cache, redisServer, Path.Combine(StateDirectory, "redis"), password)
            : builder.AddGarnetProcess(Cache, BuiltAssembly(new Projects.GarnetHost().ProjectPath, "the Garnet host"), Path.Combine(StateDirectory, "garnet"), password);
    }

    private IResourceBuilder<RedisResource> AddRedisContainer()
    {
        var redis = RedisTlsOf().Serve(builder.AddRedis(Cache).WithImageTag(RedisTag))
                .WithDeployment(d => d.Group("redis")
                    // The password through REDISCLI_AUTH, not -a, where every process listing would show it.
                    .Probes(DeploymentProbe.Exec("/bin/sh", "-c", RedisTls.ProbeScript))
                    .RunAs(ImageUser, "/data") // a cache: nothing to keep, so no volume
                    .Resources(cpu: "100m/1", memory: "128Mi/512Mi"));
        RedisTlsOf().ReloadNightly(builder, redis);
        return redis;
    }

    private DatabaseRoles Roles()
    {
        // First the server, whose certificate reload asks for the roles itself.
        var postgres = PostgresContainer();
        return roles ??= DatabaseRoles.Add(builder, postgres, AppDatabase, PostgresTlsOf());
    }

    /// <summary>TLS to the PostgreSQL container (on in production); null where the model does not run that container.</summary>
    public PostgresTls? AppDatabaseTls => postgresContainer is null ? null : PostgresTlsOf();

    /// <summary>The Temporal server container; null where the model does not run it.</summary>
    public TemporalServerResource? TemporalServer { get; private set; }

    /// <summary>TLS to the Redis container (on in production); null where the model does not run that container.</summary>
    public RedisTls? CacheTls => redisTls;

    private RedisTls RedisTlsOf() => redisTls ??= new RedisTls(builder);

    private PostgresTls PostgresTlsOf() => postgresTls ??= new PostgresTls(builder);

    private IResourceBuilder<PostgresServerResource> PostgresContainer()
    {
        if (postgresContainer is null)
        {
            postgresContainer = AddPostgresContainer();
            AddBackup(postgresContainer);
            PostgresTlsOf().ReloadNightly(builder, postgresContainer, Roles());
        }
        return postgresContainer;
    }

    private IResourceBuilder<PostgresServerResource> AddPostgresContainer() =>
        PostgresTlsOf().Serve(builder.AddPostgres("postgres", password: PostgresPassword()), "-c", $"max_connections={MaxConnections}")
            .WithImageTag(PostgresTag)
            .WithDataVolume()
            .WithDeployment(d => d.Group("postgresql")
                .AcceptsConnections(MaxConnections, ReservedConnections)
                .Probes(DeploymentProbe.Exec("pg_isready", "-U", "postgres", "-h", "127.0.0.1"))
                .RunAs(ImageUser, "/var/run/postgresql")
                // A volume's root holds lost+found on many storage classes, which initdb refuses: a folder below it.
                .Environment("PGDATA", "/var/lib/postgresql/data/pgdata")
                // The image creates it on first start (the roles job makes it otherwise, and gives it its owner).
                .Environment("POSTGRES_DB", AppDatabase)
                .Resources(cpu: "250m/2", memory: "256Mi/1Gi")
                .ShutdownWindow(TimeSpan.FromSeconds(60)));

    /// <summary>
    /// A nightly backup of the server's databases (the application's and Temporal's, in one run) with
    /// scripts/pg-backup.sh into the <c>postgres-backups</c> volume: a CronJob when deployed, a service under
    /// Compose's <c>scheduled</c> profile, and here a container started by hand from the dashboard.
    /// </summary>
    private void AddBackup(IResourceBuilder<PostgresServerResource> postgres)
    {
        var script = EmbeddedText("pg-backup.sh");
        var server = postgres.Resource;
        PostgresTlsOf().AddClientJob(builder, "postgres-backup", postgres, server.UserNameReference, server.PasswordParameter)
            .WithEntrypoint("/bin/sh")
            .WithArgs("/scripts/pg-backup.sh", "backup")
            .WithContainerFiles("/scripts", [new ContainerFile { Name = "pg-backup.sh", Contents = script.ReplaceLineEndings("\n") }])
            .WithEnvironment("BACKUP_DIR", "/backups")
            .WithEnvironment("BACKUP_KEEP", "7")
            .WithVolume("postgres-backups", "/backups")
            .WithExplicitStart()
            .WaitFor(postgres)
            // One pg_dump per database at once (appdb, temporal, temporal_visibility) and the psql that watches them.
            .WithDeployment(d => d.Group("backup").Schedule("0 3 * * *").RunAs(ImageUser).Resources(cpu: "100m/1", memory: "128Mi/512Mi")
                .Connects(server, perReplica: 4));
    }

    /// <summary>The postgres and redis images' non-root user.</summary>
    public const long ImageUser = 999;

    private IResourceBuilder<PostgresProcessResource> PostgresProcess() =>
        postgresProcess ??= builder.AddPostgresProcess("postgres", Program(LocalBinaries.Postgres),
            Path.Combine(StateDirectory, "postgres"), PostgresPassword());

    private IResourceBuilder<ParameterResource> PostgresPassword() =>
        builder.AddParameter("postgres-password", new GenerateParameterDefault { MinLength = 24, Special = false }, secret: true, persist: true);

    private IResourceBuilder<TemporalTestServerResource> TemporalTestServer()
    {
        var project = new Projects.TemporalTestServer().ProjectPath;
        var assembly = BuiltAssembly(project, "the Temporal test server");
        var server = new TemporalTestServerResource("temporal-server", Path.GetDirectoryName(project)!);
        return builder.AddResource(server)
            .WithEndpoint(name: "grpc", scheme: "http")
            .WithEndpoint("grpc", e => e.Transport = "http2")
            .WithArgs(context =>
            {
                context.Args.Add(assembly);
                context.Args.Add("--port");
                context.Args.Add(server.GrpcEndpoint.Property(EndpointProperty.TargetPort));
                foreach (var ns in server.GetNamespaces())
                {
                    context.Args.Add("--namespace");
                    context.Args.Add(ns.NamespaceName);
                }
            })
            .WithTemporalServingHealthCheck();
    }

    /// <summary>The built assembly of a project the AppHost references (the AppHost's build builds it).</summary>
    private static string BuiltAssembly(string project, string what) => BuildOutputLaunch.BuiltAssemblyOf(project)
        ?? throw new InvalidOperationException($"{what} is not built ({project}); build the solution first.");

    /// <summary>A file of the repository the AppHost carries (AppHost.csproj's EmbeddedResource items).</summary>
    public static string EmbeddedText(string name)
    {
        using var stream = typeof(Stack).Assembly.GetManifestResourceStream(name)
            ?? throw new InvalidOperationException($"{name} is not embedded in the AppHost.");
        return new StreamReader(stream).ReadToEnd();
    }

    /// <summary>The program's path; while it is missing its bare name (the start is refused before it is used).</summary>
    private string Program(LocalBinaries.Requirement requirement) => LocalBinaries.Find(requirement, Directories()) ?? requirement.Program;

    /// <summary><c>Stack:ProgramDirectories</c>, where a machine keeps the servers off the usual places; null searches as usual.</summary>
    private List<string>? Directories() =>
        builder.Configuration.GetSection("Stack:ProgramDirectories").Get<List<string>>() is { Count: > 0 } directories ? directories : null;

    private void FailFastWithoutPrograms()
    {
        List<LocalBinaries.Requirement> needed = [];
        if (!IsExisting(AppDatabase))
        {
            needed.Add(LocalBinaries.Postgres);
        }
        var missing = needed.Where(r => LocalBinaries.Find(r, Directories()) is null).ToList();
        if (missing.Count == 0)
        {
            return;
        }
        builder.Eventing.Subscribe<BeforeStartEvent>((_, _) => throw new StackUnavailableException(
            $"No container engine is used (Stack:Mode={builder.Configuration["Stack:Mode"] ?? "auto"}) and these programs are missing to run "
            + $"the infrastructure as local processes:{Environment.NewLine}"
            + string.Concat(missing.Select(r => $"  - {r.Program} ({r.Package}): {r.Install}{Environment.NewLine}"))
            + $"Install them, start Docker or Podman, or point the AppHost at existing infrastructure: ConnectionStrings:{AppDatabase}, "
            + $"ConnectionStrings:{Temporal} and ConnectionStrings:{Cache} (or Redis:Enabled=false). See docs/run-locally.md."));
    }

    private bool IsExisting(string connectionName) => !string.IsNullOrWhiteSpace(builder.Configuration.GetConnectionString(connectionName));

    private static string DefaultStateDirectory()
    {
        if (RuntimeInformation.IsOSPlatform(OSPlatform.Windows))
        {
            return Path.Combine(Environment.GetFolderPath(Environment.SpecialFolder.LocalApplicationData), "temporal-orders");
        }
        // As root, PostgreSQL runs as the postgres user, which cannot enter /root: system state instead.
        if (Environment.UserName == "root")
        {
            return "/var/lib/temporal-orders";
        }
        var state = Environment.GetEnvironmentVariable("XDG_STATE_HOME") is { Length: > 0 } xdg
            ? xdg
            : Path.Combine(Environment.GetFolderPath(Environment.SpecialFolder.UserProfile), ".local", "state");
        return Path.Combine(state, "temporal-orders");
    }
}

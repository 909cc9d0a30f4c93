using Aspire.Hosting.ApplicationModel;
using Aspire.Hosting.Deployment;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;

namespace AppHost;

/// <summary>
/// Least privilege on the model's PostgreSQL container (docs/security.md, "Database roles"). A one-shot
/// <c>postgres-roles</c> job, the only thing that uses the superuser besides the nightly backup, gives each database
/// an owner (what the schema and migration jobs connect as) and a user with rights on rows only (what runs
/// continuously connects as): <c>orders_schema</c>/<c>orders</c> for <c>appdb</c>, <c>temporal_schema</c>/<c>temporal</c>
/// for Temporal's two databases. Each role's password is a secret parameter, generated once like the superuser's.
/// </summary>
internal sealed class DatabaseRoles
{
    public const string AppOwner = "orders_schema";
    public const string AppUser = "orders";
    public const string TemporalOwner = "temporal_schema";
    public const string TemporalUser = "temporal";

    /// <summary>May only call <c>pg_reload_conf()</c>: the nightly certificate reload's role.</summary>
    public const string ReloadRole = "certificate_reload";

    private readonly IDistributedApplicationBuilder builder;
    private readonly IResourceBuilder<PostgresServerResource> postgres;
    private readonly Dictionary<string, IResourceBuilder<ParameterResource>> passwords = [];

    private DatabaseRoles(IDistributedApplicationBuilder builder, IResourceBuilder<PostgresServerResource> postgres, IResourceBuilder<ContainerResource> job)
    {
        this.builder = builder;
        this.postgres = postgres;
        Job = job;
    }

    /// <summary>The job that creates the roles and databases; whatever connects as a role waits for its completion.</summary>
    public IResourceBuilder<ContainerResource> Job { get; }

    /// <summary>Adds the roles job for <c>appdb</c> and Temporal's databases on <paramref name="postgres"/>.</summary>
    public static DatabaseRoles Add(IDistributedApplicationBuilder builder, IResourceBuilder<PostgresServerResource> postgres, string appDatabase, PostgresTls tls)
    {
        var server = postgres.Resource;
        var job = tls.AddClientJob(builder, "postgres-roles", postgres, server.UserNameReference, server.PasswordParameter)
            .WithEntrypoint("/bin/sh")
            .WithArgs("/scripts/pg-roles.sh")
            .WithContainerFiles("/scripts", [new ContainerFile { Name = "pg-roles.sh", Contents = Stack.EmbeddedText("pg-roles.sh").ReplaceLineEndings("\n") }])
            .WithEnvironment("DATABASE_ROLES",
                $"{appDatabase}:{AppOwner}:{AppUser} temporal:{TemporalOwner}:{TemporalUser} temporal_visibility:{TemporalOwner}:{TemporalUser}")
            .WaitFor(postgres)
            .WithDeployment(d => d.Group("postgresql").RunAs(Stack.ImageUser).Resources(cpu: "50m/1", memory: "64Mi/256Mi")
                .Connects(server, perReplica: 1)); // one psql at a time
        var roles = new DatabaseRoles(builder, postgres, job);
        job.WithEnvironment("RELOAD_ROLE", ReloadRole);
        foreach (var role in new[] { AppOwner, AppUser, TemporalOwner, TemporalUser, ReloadRole })
        {
            job.WithEnvironment($"PASSWORD_{role.ToUpperInvariant()}", roles.Password(role));
        }
        return roles;
    }

    /// <summary>A role's password: a secret parameter <c>postgres-{role}-password</c> (dashes for underscores).</summary>
    public IResourceBuilder<ParameterResource> Password(string role)
    {
        if (!passwords.TryGetValue(role, out var password))
        {
            password = builder.AddParameter($"postgres-{role.Replace('_', '-')}-password",
                new GenerateParameterDefault { MinLength = 24, Special = false }, secret: true, persist: true);
            passwords.Add(role, password);
        }
        return password;
    }

    /// <summary>
    /// <paramref name="database"/> as <paramref name="role"/>: the connection string a workload references under
    /// <paramref name="name"/>. Running, it turns Running once <paramref name="readyAfter"/> (by default the roles
    /// job) has completed, so that <c>WaitFor</c> on it waits for that too.
    /// </summary>
    public IResourceBuilder<PostgresLoginResource> Login(string name, string database, string role, IResource? readyAfter = null)
    {
        var login = new PostgresLoginResource(name, postgres.Resource, database, role, Password(role).Resource);
        var jobName = (readyAfter ?? Job.Resource).Name;
        builder.Eventing.Subscribe<BeforeStartEvent>((e, ct) =>
        {
            var notifications = e.Services.GetRequiredService<ResourceNotificationService>();
            var stopping = e.Services.GetRequiredService<IHostApplicationLifetime>().ApplicationStopping;
            _ = RunningOnceCompletedAsync(notifications, login, jobName, stopping);
            return Task.CompletedTask;
        });
        return builder.AddResource(login)
            .WithInitialState(new CustomResourceSnapshot { ResourceType = "PostgresLogin", Properties = [], State = KnownResourceStates.Waiting })
            .WithParentRelationship(postgres);
    }

    private static async Task RunningOnceCompletedAsync(ResourceNotificationService notifications, IResource login, string job, CancellationToken stopping)
    {
        try
        {
            await notifications.WaitForResourceAsync(job, r => r.Snapshot.ExitCode == 0, stopping);
            await notifications.PublishUpdateAsync(login, s => s with { State = KnownResourceStates.Running, StartTimeStamp = DateTime.UtcNow });
        }
        catch (OperationCanceledException) when (stopping.IsCancellationRequested)
        {
            // The AppHost stopped first.
        }
    }
}

/// <summary>A database of a PostgreSQL server as one role: <c>Host;Port;Username;Password;Database</c>, as Aspire's own databases.</summary>
internal sealed class PostgresLoginResource(string name, PostgresServerResource parent, string database, string role, ParameterResource password)
    : Resource(name), IResourceWithParent<PostgresServerResource>, IResourceWithConnectionString
{
    public PostgresServerResource Parent { get; } = parent;

    public string DatabaseName { get; } = database;

    public string Role { get; } = role;

    public ReferenceExpression ConnectionStringExpression => ReferenceExpression.Create(
        $"Host={Parent.PrimaryEndpoint.Property(EndpointProperty.Host)};Port={Parent.PrimaryEndpoint.Property(EndpointProperty.Port)};Username={Role};Password={password};Database={DatabaseName}");
}

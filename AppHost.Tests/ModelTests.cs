using System.Net;
using System.Net.Sockets;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Diagnostics.HealthChecks;
using Microsoft.Extensions.Logging.Abstractions;
using Microsoft.Extensions.Options;

namespace AppHost.Tests;

/// <summary>The application model, built without starting anything (no container engine needed).</summary>
public sealed class ModelTests
{
    private static readonly string[] ExistingInfrastructure =
    [
        "ConnectionStrings:appdb=Host=db.example;Database=appdb;Username=app;Password=x",
        "ConnectionStrings:redis=cache.example:6379",
        "ConnectionStrings:temporal=temporal.example:7233",
    ];

    [Fact]
    public async Task Every_dependency_is_a_container_with_a_pinned_image()
    {
        await using var app = await BuildAsync();
        var containers = app.Model().Resources.OfType<ContainerResource>().ToDictionary(r => r.Name);

        Assert.Equal(["postgres", "postgres-backup", "postgres-certificate-reload", "postgres-roles", "redis", "redis-certificate-reload", "temporal-namespace", "temporal-server", "temporal-server-schema", "temporal-ui"], containers.Keys.Order());
        foreach (var container in containers.Values)
        {
            var image = container.Annotations.OfType<ContainerImageAnnotation>().Single();
            Assert.False(string.IsNullOrEmpty(image.Tag), $"{container.Name} has no tag");
            Assert.NotEqual("latest", image.Tag);
        }
        Assert.Equal(("temporalio/server", "1.31.2"), Image(containers["temporal-server"]));
        Assert.Equal(("temporalio/admin-tools", "1.31.2"), Image(containers["temporal-server-schema"]));
        Assert.Equal(("temporalio/admin-tools", "1.31.2"), Image(containers["temporal-namespace"]));
        Assert.Equal("temporalio/ui", Image(containers["temporal-ui"]).Image);
        // PostgreSQL 16 is the newest major Temporal tests its persistence on.
        Assert.Equal(global::AppHost.Stack.PostgresTag, Image(containers["postgres"]).Tag);
        Assert.Equal(Image(containers["postgres"]), Image(containers["postgres-backup"])); // pg_dump of the server's own version
        Assert.Equal(Image(containers["postgres"]), Image(containers["postgres-roles"])); // and its psql
        Assert.Equal(Image(containers["postgres"]), Image(containers["postgres-certificate-reload"]));
        Assert.StartsWith("16.", global::AppHost.Stack.PostgresTag);
    }

    [Fact]
    public async Task Architecture_page_resource_table_shows_the_images_the_model_pins()
    {
        await using var app = await BuildAsync();
        var page = await File.ReadAllTextAsync(Repository.PathOf("docs", "architecture.md"));
        var table = page[page.IndexOf("| Resource | What it is | Image |", StringComparison.Ordinal)..];

        foreach (var container in app.Model().Resources.OfType<ContainerResource>())
        {
            var (image, tag) = Image(container);
            var shown = $"| `{image.Replace("library/", "", StringComparison.Ordinal)}:{tag}` |"; // Docker Hub's short name
            Assert.True(table.Contains(shown, StringComparison.Ordinal), $"docs/architecture.md's resource table lacks {shown} ({container.Name})");
        }
    }

    [Fact]
    public async Task Start_order_is_schema_then_server_then_namespace_then_worker()
    {
        await using var app = await BuildAsync();
        var resources = app.Model().Resources.ToDictionary(r => r.Name);

        Assert.Contains(("temporal-server-schema", WaitType.WaitForCompletion), Waits(resources["temporal-server"]));
        Assert.Contains(("postgres", WaitType.WaitUntilHealthy), Waits(resources["temporal-server-schema"]));
        Assert.Contains(("temporal-server", WaitType.WaitUntilHealthy), Waits(resources["temporal-namespace"]));
        Assert.Contains(("temporal-server", WaitType.WaitUntilHealthy), Waits(resources["temporal-ui"]));
        // The worker waits for the namespace the way it waits for its database (healthy means it exists), and
        // Aspire adds each one's server.
        Assert.Equal(
            [("appdb", WaitType.WaitUntilHealthy), ("postgres", WaitType.WaitUntilHealthy), ("redis", WaitType.WaitUntilHealthy),
             ("temporal", WaitType.WaitUntilHealthy), ("temporal-server", WaitType.WaitUntilHealthy)],
            Waits(resources["worker"]).Order());
    }

    [Fact]
    public async Task Temporal_server_is_healthy_only_when_serving_and_is_addressed_by_its_grpc_endpoint()
    {
        await using var app = await BuildAsync();
        var server = app.Model().Resources.OfType<TemporalServerResource>().Single();

        Assert.Equal("{temporal-server.bindings.grpc.host}:{temporal-server.bindings.grpc.port}", server.ConnectionStringExpression.ValueExpression);
        var grpc = server.Annotations.OfType<EndpointAnnotation>().Single(e => e.Name == "grpc");
        Assert.Equal(7233, grpc.TargetPort);
        Assert.Equal("http2", grpc.Transport);
        Assert.Empty(server.Annotations.OfType<ContainerMountAnnotation>()); // dynamic config is written into the container, not mounted

        // The check the model registers for the server, run as Aspire runs it once the gRPC endpoint is allocated:
        // unhealthy while nothing serves there, healthy once a frontend does.
        var key = Assert.Single(server.Annotations.OfType<HealthCheckAnnotation>(), h => h.Key == "temporal-server-serving").Key;
        var registration = app.Services.GetRequiredService<IOptions<HealthCheckServiceOptions>>().Value.Registrations.Single(r => r.Name == key);
        var port = FreeLoopbackPort();
        grpc.AllocatedEndpoint = new AllocatedEndpoint(grpc, "127.0.0.1", port);
        var check = registration.Factory(app.Services);

        var nothingThere = await check.CheckHealthAsync(new HealthCheckContext { Registration = registration });
        await using var frontend = await TemporalTestServer.TemporalTestServer.StartAsync(new() { Port = port });
        var serving = await check.CheckHealthAsync(new HealthCheckContext { Registration = registration });

        Assert.Equal(HealthStatus.Unhealthy, nothingThere.Status);
        Assert.Equal(HealthStatus.Healthy, serving.Status);
    }

    [Fact]
    public async Task Temporal_namespace_is_a_child_of_the_server_healthy_once_it_exists_and_carries_address_and_namespace()
    {
        await using var app = await BuildAsync("Temporal:Namespace=shop", "Temporal:RetentionDays=7");
        var ns = app.Model().Resources.OfType<TemporalNamespaceResource>().Single();

        Assert.Equal("temporal", ns.Name);
        Assert.Equal(("shop", TimeSpan.FromDays(7)), (ns.NamespaceName, ns.Retention));
        Assert.Same(app.Model().Resources.OfType<TemporalServerResource>().Single(), ns.Parent);
        Assert.Contains(ns.Annotations.OfType<HealthCheckAnnotation>(), h => h.Key == "temporal-exists");
        Assert.Equal("Endpoint={temporal-server.bindings.grpc.host}:{temporal-server.bindings.grpc.port};Namespace=shop",
            ns.ConnectionStringExpression.ValueExpression);
        var job = await PublishEnvironmentAsync(app, "temporal-namespace");
        Assert.Equal(("shop", "168h"), (job["TEMPORAL_NAMESPACE"], job["TEMPORAL_RETENTION"]));
    }

    [Fact]
    public async Task Worker_environment_resolves_to_the_models_references_in_publish_mode()
    {
        await using var app = await BuildAsync();

        var env = await PublishEnvironmentAsync(app, "worker");

        // Temporal is a reference like the database: one connection string, nothing set by hand.
        Assert.Equal("{temporal.connectionString}", env["ConnectionStrings__temporal"]);
        Assert.DoesNotContain(env.Keys, k => k.StartsWith("Temporal__", StringComparison.Ordinal)
            && !k.StartsWith("Temporal__Encryption__", StringComparison.Ordinal) // keys, not connection settings
            && k is not "Temporal__TlsDirectory" and not "Temporal__ApiKeyFile"); // the server's TLS and authorizer: parameters, empty by default
        Assert.Equal("{temporal-server-client-tls-directory.value}", env["Temporal__TlsDirectory"]);
        Assert.Equal("{temporal-server-worker-token-file.value}", env["Temporal__ApiKeyFile"]);
        Assert.Equal("{appdb.connectionString}", env["ConnectionStrings__appdb"]);
        Assert.Equal("{redis.connectionString}", env["ConnectionStrings__redis"]);
        Assert.Equal("{api-key.value}", env["Api__Keys"]);
        Assert.Equal("{approver-api-key.value}", env["Api__ApproverKeys"]);
        Assert.Equal(2, app.Model().Resources.Single(r => r.Name == "worker").Annotations.OfType<ReplicaAnnotation>().Single().Replicas);
    }

    [Fact]
    public async Task Secrets_are_parameters_marked_secret()
    {
        await using var app = await BuildAsync();
        var parameters = app.Model().Resources.OfType<ParameterResource>().ToDictionary(p => p.Name);

        Assert.True(parameters["postgres-password"].Secret);
        Assert.True(parameters["api-key"].Secret);
        foreach (var role in new[] { "orders", "orders-schema", "temporal", "temporal-schema", "certificate-reload" })
        {
            Assert.True(parameters[$"postgres-{role}-password"].Secret, role);
        }
    }

    [Fact]
    public async Task Redis_has_one_tls_switch_aspires_development_certificate_is_turned_off_for_it()
    {
        await using var app = await BuildAsync();
        var redis = app.Model().Resources.OfType<RedisResource>().Single();

        // Where a development certificate is trusted, Aspire would add TLS arguments the start script drops (docs/security.md,
        // "Encryption in transit"): REDIS_TLS is the only switch.
#pragma warning disable ASPIRECERTIFICATES001
        Assert.Contains(redis.Annotations, a => a is HttpsCertificateAnnotation);
#pragma warning restore ASPIRECERTIFICATES001
        Assert.Contains("REDIS_TLS", string.Join(' ', await RunArgumentsAsync(redis)), StringComparison.Ordinal);
    }

    [Fact]
    public async Task Each_workload_connects_to_postgresql_as_its_own_role_and_the_superuser_only_runs_once()
    {
        await using var app = await BuildAsync();

        var schema = await PublishEnvironmentAsync(app, "temporal-server-schema");
        Assert.Equal(("temporal_schema", "{postgres-temporal-schema-password.value}"), (schema["POSTGRES_USER"], schema["SQL_PASSWORD"]));
        var server = await PublishEnvironmentAsync(app, "temporal-server");
        Assert.Equal(("temporal", "{postgres-temporal-password.value}"), (server["POSTGRES_USER"], server["POSTGRES_PWD"]));
        var migrations = await PublishEnvironmentAsync(app, "appdb-migrations");
        Assert.Contains("Username=orders_schema;Password={postgres-orders-schema-password.value};Database=appdb", Expand(app, migrations["ConnectionStrings__appdb"]), StringComparison.Ordinal);
        var worker = await PublishEnvironmentAsync(app, "worker");
        Assert.Contains("Username=orders;Password={postgres-orders-password.value};Database=appdb", Expand(app, worker["ConnectionStrings__appdb"]), StringComparison.Ordinal);

        // The superuser's password: the server itself, the job that makes the roles, the nightly backup; nothing that runs on.
        List<string> users = [];
        foreach (var resource in app.Model().Resources.Where(r => r is ContainerResource or ProjectResource))
        {
            var environment = await PublishEnvironmentAsync(app, resource.Name);
            if (environment.Values.Any(v => Expand(app, v).Contains("{postgres-password.value}", StringComparison.Ordinal)))
            {
                users.Add(resource.Name);
            }
        }
        Assert.Equal(["postgres", "postgres-backup", "postgres-roles"], users.Order());
    }

    [Fact]
    public async Task Redis_switch_removes_redis_and_every_reference_to_it()
    {
        await using var app = await BuildAsync("Redis:Enabled=false");

        Assert.DoesNotContain(app.Model().Resources, r => r.Name == "redis");
        var env = await PublishEnvironmentAsync(app, "worker");
        Assert.DoesNotContain("ConnectionStrings__redis", env.Keys);
        Assert.DoesNotContain(Waits(app.Model().Resources.Single(r => r.Name == "worker")), w => w.Name == "redis");
    }

    [Fact]
    public async Task Existing_infrastructure_is_connection_strings_and_no_containers()
    {
        await using var app = await BuildAsync([.. ExistingInfrastructure, "Parameters:temporal-api-key=secret", "Temporal:Namespace=shop.acct"]);

        Assert.Empty(app.Model().Resources.OfType<ContainerResource>());
        Assert.All((string[])["appdb", "redis", "temporal"], name =>
        {
            var resource = app.Model().Resources.Single(r => r.Name == name);
            Assert.IsAssignableFrom<IResourceWithConnectionString>(resource);
            Assert.IsAssignableFrom<ParameterResource>(resource); // read from configuration, nothing to run
        });
        Assert.Empty(Waits(app.Model().Resources.Single(r => r.Name == "worker")));
        var env = await PublishEnvironmentAsync(app, "worker");
        Assert.Equal("{temporal.connectionString}", env["ConnectionStrings__temporal"]);
        Assert.Equal("shop.acct", env["Temporal__Namespace"]);
        Assert.Equal("{temporal-api-key.value}", env["Temporal__ApiKey"]);
        Assert.True(app.Model().Resources.OfType<ParameterResource>().Single(p => p.Name == "temporal-api-key").Secret);
    }

    [Fact]
    public async Task Existing_database_without_existing_temporal_is_refused_with_the_way_out()
    {
        var error = await Assert.ThrowsAnyAsync<Exception>(() => BuildAsync("ConnectionStrings:appdb=Host=db.example;Database=appdb"));

        Assert.Contains("ConnectionStrings:temporal", error.ToString(), StringComparison.Ordinal);
    }

    [Fact]
    public async Task In_run_mode_the_worker_starts_from_its_built_assembly_not_through_dotnet_run()
    {
        await using var app = await BuildAsync();
        var worker = app.Model().Resources.OfType<ProjectResource>().Single(r => r.Name == "worker");

        var launch = worker.Annotations.OfType<ExecutableAnnotation>().Single();
        Assert.Equal("dotnet", launch.Command);
        Assert.Equal(Path.GetDirectoryName(new Projects.Worker().ProjectPath), launch.WorkingDirectory); // content root as with dotnet run
        var arguments = await RunArgumentsAsync(worker);
        var assembly = Assert.Single(arguments);
        Assert.Equal("Worker.dll", Path.GetFileName(assembly));
        Assert.True(File.Exists(Path.ChangeExtension(assembly, ".runtimeconfig.json")), $"{assembly} is not a runnable build output");
    }

    [Fact]
    public async Task Under_an_ide_debug_session_the_worker_is_left_to_the_ide()
    {
        await using var app = await BuildAsync("DEBUG_SESSION_PORT=localhost:5005");
        var worker = app.Model().Resources.OfType<ProjectResource>().Single(r => r.Name == "worker");

        Assert.Empty(worker.Annotations.OfType<ExecutableAnnotation>());
        Assert.Empty(await RunArgumentsAsync(worker));
    }

    /// <summary>The model in container mode unless the arguments choose another (these tests are about that topology).</summary>
    internal static async Task<DistributedApplication> BuildAsync(params string[] args)
    {
        var builder = await DistributedApplicationTestingBuilder.CreateAsync<Projects.AppHost>(
            args.Any(a => a.StartsWith("Stack:Mode=", StringComparison.Ordinal)) ? args : ["Stack:Mode=containers", .. args]);
        return await builder.BuildAsync();
    }

    private static int FreeLoopbackPort()
    {
        using var listener = new TcpListener(IPAddress.Loopback, 0);
        listener.Start();
        return ((IPEndPoint)listener.LocalEndpoint).Port;
    }

    private static (string Image, string? Tag) Image(ContainerResource resource)
    {
        var image = resource.Annotations.OfType<ContainerImageAnnotation>().Single();
        return (image.Image, image.Tag);
    }

    private static List<(string Name, WaitType Type)> Waits(IResource resource) =>
        resource.Annotations.OfType<WaitAnnotation>().Select(w => (w.Resource.Name, w.WaitType)).ToList();

    internal static async Task<List<string>> RunArgumentsAsync(IResource resource)
    {
        var configuration = await ExecutionConfigurationBuilder.Create(resource).WithArgumentsConfig()
            .BuildAsync(new DistributedApplicationExecutionContext(DistributedApplicationOperation.Run), NullLogger.Instance, CancellationToken.None);
        return configuration.Arguments.Select(a => a.Value).ToList();
    }

    /// <summary>
    /// A published value with every <c>{name.connectionString}</c> of a resource replaced by its own expression,
    /// recursively (a conditional part, such as Redis's TLS switch, has no resource and stays).
    /// </summary>
    private static string Expand(DistributedApplication app, string value) =>
        System.Text.RegularExpressions.Regex.Replace(value, @"\{([a-z0-9-]+)\.connectionString\}", m =>
            app.Model().Resources.OfType<IResourceWithConnectionString>().SingleOrDefault(r => r.Name == m.Groups[1].Value) is { } resource
                ? Expand(app, resource.ConnectionStringExpression.ValueExpression)
                : m.Value);

    internal static async Task<Dictionary<string, string>> PublishEnvironmentAsync(DistributedApplication app, string name)
    {
        var resource = app.Model().Resources.Single(r => r.Name == name);
        var configuration = await ExecutionConfigurationBuilder.Create(resource).WithEnvironmentVariablesConfig()
            .BuildAsync(new DistributedApplicationExecutionContext(DistributedApplicationOperation.Publish), NullLogger.Instance, CancellationToken.None);
        return configuration.EnvironmentVariables.ToDictionary(e => e.Key, e => e.Value);
    }
}

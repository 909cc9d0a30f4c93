using System.Globalization;
using Aspire.Hosting.ApplicationModel;
using Aspire.Hosting.Deployment;
using Aspire.Hosting.Temporal;
using Aspire.Hosting.Temporal.Deployment;
using Aspire.Hosting.Temporal.HealthChecks;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Diagnostics.HealthChecks;

namespace Aspire.Hosting;

/// <summary>
/// Adds a Temporal server (with its schema job), namespaces (each with its creation job) and the Temporal Web UI
/// to the application model, in the topology Temporal runs in production: PostgreSQL persistence, a schema
/// migrated before the server starts, namespaces created once the server serves.
/// </summary>
public static class TemporalBuilderExtensions
{
    /// <summary>Where <c>temporalio/server</c> reads its dynamic configuration.</summary>
    private const string DynamicConfigDirectory = "/etc/temporal/config/dynamicconfig";

    private const string DynamicConfigFile = "dynamic-config.yaml";

    // Written into the container at start, so the resource needs no file of the AppHost's (and no bind mount,
    // which a deployment could not carry). The server reads the file again while it runs (a changed key applies
    // without a restart: the deployments mount its directory, docs/temporal-server.md, "Dynamic configuration").
    private const string SharedDynamicConfig = """
        limit.maxIDLength:
          - value: 255
            constraints: {}
        # Archival off: the image's static configuration archives to a file store under the pod's /tmp, lost with
        # the pod. To archive, give the server a real store (S3, GCS) first (docs/temporal-server.md, "Archival").
        system.historyArchivalState:
          - value: disabled
            constraints: {}
        system.enableReadFromHistoryArchival:
          - value: false
            constraints: {}
        system.visibilityArchivalState:
          - value: disabled
            constraints: {}
        system.enableReadFromVisibilityArchival:
          - value: false
            constraints: {}
        """;

    /// <summary>What the AppHost runs: the shared keys and what only a local server wants.</summary>
    private const string DevelopmentDynamicConfig = $$"""
        # Temporal dynamic configuration of a local server (the AppHost's).
        {{SharedDynamicConfig}}
        system.forceSearchAttributesCacheRefreshOnRead:
          - value: true # a local server: no cache lag when search attributes are added (never in production)
            constraints: {}
        """;

    /// <summary>What every deployment runs: no development-only key, and a frontend that drains before it stops.</summary>
    private const string DeployedDynamicConfig = $$"""
        # Temporal dynamic configuration of a deployed server.
        {{SharedDynamicConfig}}
        # On SIGTERM the frontend first reports NOT_SERVING (so the readiness probe and load balancers stop sending
        # to it), then lets calls in flight finish; 10 s + 20 s fit the 30 s shutdown window the pod is given.
        frontend.shutdownFailHealthCheckDuration:
          - value: 10s
            constraints: {}
        frontend.shutdownDrainDuration:
          - value: 20s
            constraints: {}
        """;

    /// <summary>The server's history shards in development; <see cref="ProductionHistoryShards"/> in production.</summary>
    private const string DevelopmentHistoryShards = "4";

    /// <summary>
    /// Production's history shards: the unit of the history service's parallelism, fixed when the cluster is first
    /// started and never changeable after (a server given another count warns and keeps the persisted one).
    /// </summary>
    private const string ProductionHistoryShards = "512";

    /// <summary>
    /// Adds a Temporal server on <paramref name="postgres"/>. A <c>{name}-schema</c> job creates and migrates its
    /// databases (<c>temporal</c>, <c>temporal_visibility</c>); the server starts once that job completed, and is
    /// healthy once its frontend answers the gRPC health call with SERVING.
    /// </summary>
    /// <param name="builder">The application builder.</param>
    /// <param name="name">Resource name; also the host name of the server inside the container network.</param>
    /// <param name="postgres">The PostgreSQL server that holds Temporal's databases.</param>
    /// <param name="roles">The roles the schema job and the server connect as; without, both connect as the superuser
    /// (and the schema job creates the databases).</param>
    /// <param name="databaseTls">TLS to PostgreSQL for the schema job and the server; without, plain.</param>
    /// <returns>The server, to add namespaces to (<see cref="AddNamespace"/>).</returns>
    public static IResourceBuilder<TemporalServerResource> AddTemporalServer(
        this IDistributedApplicationBuilder builder, [ResourceName] string name, IResourceBuilder<PostgresServerResource> postgres,
        TemporalDatabaseRoles? roles = null, TemporalDatabaseTls? databaseTls = null)
    {
        ArgumentNullException.ThrowIfNull(builder);
        ArgumentNullException.ThrowIfNull(postgres);
        var pg = postgres.Resource;
        var host = pg.PrimaryEndpoint.Property(EndpointProperty.Host);
        var port = pg.PrimaryEndpoint.Property(EndpointProperty.TargetPort);
        var schemaUser = roles is null ? pg.UserNameReference : ReferenceExpression.Create($"{roles.SchemaUser}");
        var serverUser = roles is null ? pg.UserNameReference : ReferenceExpression.Create($"{roles.ServerUser}");
        var schemaPassword = roles?.SchemaPassword.Resource ?? pg.PasswordParameter;
        var serverPassword = roles?.ServerPassword.Resource ?? pg.PasswordParameter;

        var schema = builder.AddContainer($"{name}-schema", TemporalImages.AdminTools, TemporalImages.ServerTag)
            .WithEntrypoint("/bin/sh")
            .WithArgs("-c", TemporalScripts.SetupSchema)
            .WithEnvironment("POSTGRES_SEEDS", host)
            .WithEnvironment("DB_PORT", port)
            .WithEnvironment("POSTGRES_USER", schemaUser)
            .WithEnvironment("SQL_PASSWORD", schemaPassword)
            .WithParentRelationship(postgres)
            .WaitFor(postgres)
            .WithDeployment(d => d.Group(DeploymentGroup).RunAs(TemporalImages.User).Environment("HOME", "/tmp")
                .Connects(pg, perReplica: 2)); // temporal-sql-tool, one run after the other

        if (roles is not null)
        {
            schema.WaitForCompletion(roles.CreatedBy);
        }
        if (databaseTls is not null)
        {
            // temporal-sql-tool's own variables; it verifies the host it connects to unless told not to.
            schema.WithEnvironment("SQL_TLS", databaseTls.Enabled)
                .WithEnvironment("SQL_TLS_CA_FILE", databaseTls.CaFile)
                .WithDeployment(d => d.MountsSecret(databaseTls.CaSecret, databaseTls.CaDirectory, "ca.crt").InProduction("SQL_TLS", "true"));
        }

        var historyShards = builder.AddParameter($"{name}-history-shards", DevelopmentHistoryShards, publishValueAsDefault: true);
        var tls = new TemporalTls(builder.AddParameter($"{name}-tls", "false", publishValueAsDefault: true),
            builder.AddParameter($"{name}-client-tls-directory", "", publishValueAsDefault: true), name);
        var authorization = new TemporalAuthorization(builder.AddParameter($"{name}-jwks-url", "", publishValueAsDefault: true),
            builder.AddParameter($"{name}-worker-token-file", "", publishValueAsDefault: true));
        return builder.AddResource(new TemporalServerResource(name) { Tls = tls, Authorization = authorization })
            .WithImage(TemporalImages.Server, TemporalImages.ServerTag)
            .WithEntrypoint("/bin/sh")
            .WithArgs("-c", TemporalScripts.StartServer(name))
            .WithEnvironment(TemporalTls.SwitchVariable, tls.Enabled)
            .WithEnvironment(TemporalAuthorization.JwksVariable, authorization.JwksUrl)
            .WithEndpoint(targetPort: 7233, name: TemporalServerResource.GrpcEndpointName, scheme: "http")
            .WithEndpoint(TemporalServerResource.GrpcEndpointName, e => e.Transport = "http2") // gRPC
            .WithHttpEndpoint(targetPort: 9090, name: TemporalServerResource.MetricsEndpointName)
            .WithEnvironment("DB", "postgres12")
            .WithEnvironment("POSTGRES_SEEDS", host)
            .WithEnvironment("DB_PORT", port)
            .WithEnvironment("POSTGRES_USER", serverUser)
            .WithEnvironment("POSTGRES_PWD", serverPassword)
            // Each of the process's four services (frontend, history, matching, worker) opens its own pools, of the
            // default store (20 unless set) and the visibility store (10): 120 connections, more than PostgreSQL's
            // default limit alone. Set, and declared to the connection budget.
            .WithEnvironment("SQL_MAX_CONNS", StorePool.ToString(CultureInfo.InvariantCulture))
            .WithEnvironment("SQL_MAX_IDLE_CONNS", StorePool.ToString(CultureInfo.InvariantCulture))
            .WithEnvironment("SQL_VIS_MAX_CONNS", VisibilityPool.ToString(CultureInfo.InvariantCulture))
            .WithEnvironment("SQL_VIS_MAX_IDLE_CONNS", VisibilityPool.ToString(CultureInfo.InvariantCulture))
            .WithEnvironment("BIND_ON_IP", "0.0.0.0")
            .WithEnvironment("PROMETHEUS_ENDPOINT", "0.0.0.0:9090")
            // Fixed when the cluster is first started (a parameter: Compose reads it from .env, Helm from settings).
            .WithEnvironment("NUM_HISTORY_SHARDS", historyShards)
            // Absolute: the server reads this path as given, and a relative one would depend on the image's working directory.
            .WithEnvironment("DYNAMIC_CONFIG_FILE_PATH", $"{DynamicConfigDirectory}/{DynamicConfigFile}")
            .WithContainerFiles(DynamicConfigDirectory, [new ContainerFile
            {
                Name = DynamicConfigFile,
                Contents = builder.ExecutionContext.IsPublishMode ? DeployedDynamicConfig : DevelopmentDynamicConfig,
            }])
            .WithTemporalServingHealthCheck()
            .WaitForCompletion(schema)
            .WithDeployment(d => d
                .Group(DeploymentGroup)
                // An open port: the kubelet's gRPC probe speaks plain text only, and the frontend serves TLS in production
                // (as Temporal's own chart does). The AppHost's health check still asks for SERVING; a stopping
                // frontend leaves its Service's endpoints before it drains (docs/temporal-server.md, "What runs").
                .Probes(DeploymentProbe.Tcp(TemporalServerResource.GrpcEndpointName))
                .MinReadySeconds(ServerTopology.TakeOverSeconds)
                .MountsSecret(TemporalTls.ServerSecret, TemporalTls.ServerPath)
                .InProduction(TemporalTls.SwitchVariable, "true")
                // No Compose health check: the server image has no client to ask the frontend with (no CLI, no curl).
                // There the namespace job is the check: it asks the frontend, retrying, and what needs Temporal waits
                // for it to complete.
                .RunAs(TemporalImages.User)
                // The frontend listens on all interfaces, so it must be told the pod's own address to advertise.
                .PodAddressIn("TEMPORAL_BROADCAST_ADDRESS")
                .Metrics(TemporalServerResource.MetricsEndpointName)
                .ShutdownWindow(TimeSpan.FromSeconds(30))
                .InProduction("NUM_HISTORY_SHARDS", ProductionHistoryShards)
                // Production runs the four services as Deployments of their own (docs/temporal-server.md, "What runs").
                .Contribute(new ServerTopology(pg))
                .Connects(pg, perReplica: ServicesPerProcess * (StorePool + VisibilityPool)))
            .WithDatabaseTls(databaseTls);
    }

    /// <summary>
    /// The server's side of <see cref="TemporalDatabaseTls"/>: both stores verify PostgreSQL's certificate and the host
    /// they connect to (the PostgreSQL plugin's <c>sslmode=verify-full</c>).
    /// </summary>
    private static IResourceBuilder<TemporalServerResource> WithDatabaseTls(this IResourceBuilder<TemporalServerResource> server, TemporalDatabaseTls? tls) =>
        tls is null ? server : server
            .WithEnvironment("SQL_TLS_ENABLED", tls.Enabled)
            .WithEnvironment("SQL_CA", tls.CaFile)
            .WithEnvironment("SQL_HOST_VERIFICATION", "true")
            .WithDeployment(d => d.MountsSecret(tls.CaSecret, tls.CaDirectory, "ca.crt").InProduction("SQL_TLS_ENABLED", "true"));

    /// <summary>Each service's pool to the default store (<c>SQL_MAX_CONNS</c>).</summary>
    private const int StorePool = 10;

    /// <summary>Each service's pool to the visibility store (<c>SQL_VIS_MAX_CONNS</c>).</summary>
    private const int VisibilityPool = 5;

    /// <summary>The server runs frontend, history, matching and the internal worker in one process.</summary>
    private const int ServicesPerProcess = 4;

    /// <summary>The Helm switch (<c>temporal.enabled</c>) of everything this integration deploys.</summary>
    public const string DeploymentGroup = "temporal";

    /// <summary>
    /// Adds a namespace to the server: what workers reference (<c>WithReference(ns).WaitFor(ns)</c>). Unless the
    /// server creates its namespaces itself, a <c>{name}-namespace</c> job creates it once the server serves
    /// (idempotent, retried while the server settles). The namespace is healthy once the server describes it.
    /// </summary>
    /// <param name="server">The server.</param>
    /// <param name="name">Resource name; also the connection-string name workers read (<c>ConnectionStrings:{name}</c>).</param>
    /// <param name="namespaceName">The Temporal namespace; defaults to <paramref name="name"/>.</param>
    /// <param name="retention">History retention of closed workflows; defaults to 3 days, at least 1 day.</param>
    public static IResourceBuilder<TemporalNamespaceResource> AddNamespace<TServer>(
        this IResourceBuilder<TServer> server, [ResourceName] string name, string? namespaceName = null, TimeSpan? retention = null)
        where TServer : ITemporalServerResource
    {
        ArgumentNullException.ThrowIfNull(server);
        var builder = server.ApplicationBuilder;
        var ns = new TemporalNamespaceResource(name, namespaceName ?? name, retention ?? TimeSpan.FromDays(3), server.Resource);
        server.WithAnnotation(new TemporalNamespaceAnnotation(ns));

        var createdBy = server.Resource.Name;
        IResourceBuilder<ContainerResource>? job = null;
        if (!server.Resource.CreatesNamespacesItself)
        {
            var own = server.Resource as TemporalServerResource;
            job = builder.AddContainer($"{name}-namespace", TemporalImages.AdminTools, TemporalImages.ServerTag)
                .WithEntrypoint("/bin/sh")
                .WithArgs("-c", own is null ? TemporalScripts.CreateNamespace : TemporalScripts.CliCredentials(own.Tls.ServerName) + TemporalScripts.CreateNamespace)
                .WithEnvironment("TEMPORAL_ADDRESS", server.Resource.ConnectionStringExpression)
                .WithEnvironment("TEMPORAL_NAMESPACE", ns.NamespaceName)
                .WithEnvironment("TEMPORAL_RETENTION", ((int)ns.Retention.TotalHours).ToString(CultureInfo.InvariantCulture) + "h")
                .WaitFor(builder.CreateResourceBuilder<IResource>(server.Resource))
                .WithDeployment(d => d.Group(DeploymentGroup).RunAs(TemporalImages.User).Environment("HOME", "/tmp"))
                .AsClientOf(own, sendsAdminToken: true);
            createdBy = job.Resource.Name;
        }

        var existsCheck = $"{name}-exists";
        builder.Services.AddHealthChecks().Add(new HealthCheckRegistration(
            existsCheck, _ => new TemporalNamespaceHealthCheck(TemporalFrontendConnection.For(server.Resource), ns.NamespaceName, createdBy),
            failureStatus: null, tags: null));
        var namespaceBuilder = builder.AddResource(ns).WithHealthCheck(existsCheck)
            .WithDeployment(d => d.Group(DeploymentGroup));
        job?.WithParentRelationship(namespaceBuilder);
        // Aspire gives a container's children its state; a process's children get it here, once the server is ready.
        builder.Eventing.Subscribe<ResourceReadyEvent>(server.Resource, (e, ct) =>
            e.Services.GetRequiredService<ResourceNotificationService>().PublishUpdateAsync(ns, s => s with
            {
                State = KnownResourceStates.Running,
                StartTimeStamp = s.StartTimeStamp ?? DateTime.UtcNow,
            }));
        return namespaceBuilder;
    }

    /// <summary>
    /// Adds a one-shot <c>{name}</c> container that makes a Worker Deployment Version current in the namespace
    /// (<c>temporal worker deployment set-current-version</c>, CLI 1.4 or later, as admin-tools carries): new
    /// workflows go to that build, and pinned ones stay on theirs. The deployment name and build id come from the two
    /// parameters; without both it exits 2 and changes nothing. Started by hand (Temporal's worker controller does
    /// this itself in Kubernetes).
    /// </summary>
    /// <param name="ns">The namespace whose worker deployment is switched.</param>
    /// <param name="name">Resource name.</param>
    /// <param name="deploymentName">The Worker Deployment's name (what the workers poll as).</param>
    /// <param name="buildId">The build id of the version to make current.</param>
    public static IResourceBuilder<ContainerResource> AddSetCurrentVersion(
        this IResourceBuilder<TemporalNamespaceResource> ns, [ResourceName] string name,
        IResourceBuilder<ParameterResource> deploymentName, IResourceBuilder<ParameterResource> buildId)
    {
        ArgumentNullException.ThrowIfNull(ns);
        ArgumentNullException.ThrowIfNull(deploymentName);
        ArgumentNullException.ThrowIfNull(buildId);
        var own = ns.Resource.Parent as TemporalServerResource;
        return ns.ApplicationBuilder.AddContainer(name, TemporalImages.AdminTools, TemporalImages.ServerTag)
            .WithEntrypoint("/bin/sh")
            .WithArgs("-c", own is null ? TemporalScripts.SetCurrentVersion : TemporalScripts.CliCredentials(own.Tls.ServerName) + TemporalScripts.SetCurrentVersion)
            .WithEnvironment("TEMPORAL_ADDRESS", ns.Resource.Parent.ConnectionStringExpression)
            .WithEnvironment("TEMPORAL_NAMESPACE", ns.Resource.NamespaceName)
            .WithEnvironment("DEPLOYMENT_NAME", deploymentName)
            .WithEnvironment("BUILD_ID", buildId)
            .WaitFor(ns)
            .WithExplicitStart()
            .WithDeployment(d => d.Group(DeploymentGroup).RunAs(TemporalImages.User).Environment("HOME", "/tmp").RunsToCompletion())
            .AsClientOf(own, sendsAdminToken: true);
    }

    /// <summary>
    /// A container that calls the model's <paramref name="server"/> (a job, the Web UI): the TLS switch its start script
    /// reads and, mounted in Kubernetes, the clients' certificate Secret and (a job) the administrator's token of
    /// <see cref="TemporalAuthorization"/>. Nothing for another server (the development server, the test server).
    /// </summary>
    private static IResourceBuilder<ContainerResource> AsClientOf(this IResourceBuilder<ContainerResource> client, TemporalServerResource? server, bool sendsAdminToken) =>
        server is null ? client : client
            .WithEnvironment(TemporalTls.SwitchVariable, server.Tls.Enabled)
            .WithDeployment(d =>
            {
                d.MountsSecret(TemporalTls.ClientSecret, TemporalTls.ClientPath).InProduction(TemporalTls.SwitchVariable, "true");
                if (sendsAdminToken)
                {
                    d.MountsSecret(TemporalAuthorization.TokenSecret, TemporalAuthorization.TokenPath, TemporalAuthorization.AdminKey);
                }
            });

    /// <summary>
    /// Adds the Temporal CLI's development server (<c>temporal server start-dev</c>) as a local process: frontend,
    /// Web UI (endpoint <c>temporal-ui</c>) and a SQLite file in <paramref name="stateDirectory"/>, kept between runs.
    /// It creates the namespaces added to it. Healthy once the frontend serves.
    /// </summary>
    /// <param name="builder">The application builder.</param>
    /// <param name="name">Resource name.</param>
    /// <param name="temporalCli">Path of the <c>temporal</c> executable.</param>
    /// <param name="stateDirectory">Where the server keeps its SQLite database.</param>
    public static IResourceBuilder<TemporalDevServerResource> AddTemporalDevServer(
        this IDistributedApplicationBuilder builder, [ResourceName] string name, string temporalCli, string stateDirectory)
    {
        ArgumentNullException.ThrowIfNull(builder);
        var server = new TemporalDevServerResource(name, temporalCli, stateDirectory);
        // Made when the server starts, not when the model is built.
        builder.Eventing.Subscribe<BeforeResourceStartedEvent>(server, (_, _) =>
        {
            Directory.CreateDirectory(stateDirectory);
            return Task.CompletedTask;
        });
        return builder.AddResource(server)
            .WithEndpoint(name: TemporalDevServerResource.GrpcEndpointName, scheme: "http")
            .WithEndpoint(TemporalDevServerResource.GrpcEndpointName, e => e.Transport = "http2")
            .WithHttpEndpoint(name: TemporalDevServerResource.UiEndpointName)
            .WithArgs(context =>
            {
                context.Args.Add("server");
                context.Args.Add("start-dev");
                context.Args.Add("--ip");
                context.Args.Add("127.0.0.1");
                context.Args.Add("--port");
                context.Args.Add(server.GrpcEndpoint.Property(EndpointProperty.TargetPort));
                context.Args.Add("--ui-port");
                context.Args.Add(server.UiEndpoint.Property(EndpointProperty.TargetPort));
                context.Args.Add("--db-filename");
                context.Args.Add(Path.Combine(stateDirectory, "temporal.db"));
                foreach (var ns in server.GetNamespaces())
                {
                    context.Args.Add("--namespace");
                    context.Args.Add(ns.NamespaceName);
                }
            })
            .WithTemporalServingHealthCheck();
    }

    /// <summary>
    /// Makes the server healthy only once its frontend answers the gRPC health call with SERVING (an open port is
    /// not enough: the frontend listens before it serves). Named <c>{name}-serving</c>.
    /// </summary>
    /// <param name="server">The server.</param>
    public static IResourceBuilder<TServer> WithTemporalServingHealthCheck<TServer>(this IResourceBuilder<TServer> server)
        where TServer : ITemporalServerResource
    {
        ArgumentNullException.ThrowIfNull(server);
        var key = $"{server.Resource.Name}-serving";
        var resource = server.Resource;
        server.ApplicationBuilder.Services.AddHealthChecks().Add(new HealthCheckRegistration(
            key, _ => new TemporalServingHealthCheck(TemporalFrontendConnection.For(resource)), failureStatus: null, tags: null));
        return server.WithHealthCheck(key);
    }

    /// <summary>
    /// Points the server's Web UI (<see cref="WithTemporalUi"/>) at a codec server, so that it shows payloads decoded:
    /// <c>TEMPORAL_CODEC_ENDPOINT</c>, called by the browser with its credentials (<c>TEMPORAL_CODEC_INCLUDE_CREDENTIALS</c>).
    /// </summary>
    /// <param name="server">The server.</param>
    /// <param name="endpoint">The codec's base URL as a browser reaches it (the UI appends <c>/decode</c> and <c>/encode</c>):
    /// a string, a parameter, or a value provider.</param>
    public static IResourceBuilder<TemporalServerResource> WithUiCodecServer(this IResourceBuilder<TemporalServerResource> server, object endpoint)
    {
        ArgumentNullException.ThrowIfNull(server);
        ArgumentNullException.ThrowIfNull(endpoint);
        return server.WithAnnotation(new TemporalUiCodecAnnotation(endpoint), ResourceAnnotationMutationBehavior.Replace);
    }

    /// <summary>
    /// Adds the Temporal Web UI for the server, reachable from outside, opening on the server's first namespace.
    /// </summary>
    /// <param name="server">The server.</param>
    /// <param name="name">Resource name; defaults to <c>{server}-ui</c>.</param>
    public static IResourceBuilder<TemporalServerResource> WithTemporalUi(
        this IResourceBuilder<TemporalServerResource> server, [ResourceName] string? name = null)
    {
        ArgumentNullException.ThrowIfNull(server);
        var resource = server.Resource;
        server.ApplicationBuilder.AddContainer(name ?? $"{resource.Name}-ui", TemporalImages.Ui, TemporalImages.UiTag)
            .WithEntrypoint("/bin/sh")
            .WithArgs("-c", TemporalScripts.StartUi(resource.Tls.ServerName))
            .WithHttpEndpoint(targetPort: 8080, name: "http")
            .WithExternalHttpEndpoints()
            .WithEnvironment("TEMPORAL_ADDRESS", resource.ConnectionStringExpression)
            // Read when the container is configured: namespaces may be added after the UI.
            .WithEnvironment(context => context.EnvironmentVariables["TEMPORAL_DEFAULT_NAMESPACE"] =
                resource.GetNamespaces() is [var first, ..] ? first.NamespaceName : "default")
            .WithEnvironment(context =>
            {
                if (resource.Annotations.OfType<TemporalUiCodecAnnotation>().LastOrDefault() is { } codec)
                {
                    context.EnvironmentVariables["TEMPORAL_CODEC_ENDPOINT"] = codec.Endpoint;
                    context.EnvironmentVariables["TEMPORAL_CODEC_INCLUDE_CREDENTIALS"] = "true";
                }
            })
            .WithHttpHealthCheck("/healthz")
            .WithParentRelationship(server)
            .WaitFor(server)
            .WithDeployment(d => d.Group(DeploymentGroup)
                // Reached with port-forward unless exposed; where it is, an OIDC login (docs/temporal-server.md, "The Web UI").
                .Contribute(new UiSingleSignOn())
                .Probes(DeploymentProbe.Http("http", "/healthz"))
                .HealthCommand("wget", "-q", "-O", "/dev/null", "http://127.0.0.1:8080/healthz") // the Alpine image's busybox
                .RunAs(TemporalImages.User))
            .AsClientOf(resource, sendsAdminToken: false);
        return server;
    }
}

using Aspire.Hosting.ApplicationModel;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Diagnostics.HealthChecks;
using Temporalio.Client;

namespace Aspire.Hosting;

/// <summary>Adds a Temporal server, its schema and namespace jobs, and the Web UI to the application model.</summary>
public static class TemporalServerBuilderExtensions
{
    /// <summary>Where <c>temporalio/server</c> keeps its dynamic configuration; the AppHost's own files are mounted there.</summary>
    private const string DynamicConfigDirectory = "/etc/temporal/config/dynamicconfig";

    /// <summary>
    /// Adds a Temporal server on <paramref name="postgres"/> in the production topology: a
    /// <c>{name}-schema</c> job creates and migrates its databases, the server starts after that job
    /// completed, and a <c>{name}-namespace</c> job registers <paramref name="namespaceName"/> once the
    /// server is healthy. Healthy means serving: the SDK's gRPC health call, not an open port.
    /// </summary>
    /// <param name="builder">The application builder.</param>
    /// <param name="name">Resource name; also the host name of the server inside the container network.</param>
    /// <param name="postgres">PostgreSQL server that holds the <c>temporal</c> and <c>temporal_visibility</c> databases.</param>
    /// <param name="namespaceName">The namespace to create for workers.</param>
    /// <param name="retention">Workflow history retention of that namespace.</param>
    public static IResourceBuilder<TemporalServerResource> AddTemporalServer(
        this IDistributedApplicationBuilder builder, string name, IResourceBuilder<PostgresServerResource> postgres,
        string namespaceName, TimeSpan retention)
    {
        ArgumentNullException.ThrowIfNull(builder);
        ArgumentNullException.ThrowIfNull(postgres);
        var pg = postgres.Resource;
        var host = pg.PrimaryEndpoint.Property(EndpointProperty.Host);
        var port = pg.PrimaryEndpoint.Property(EndpointProperty.TargetPort);

        var schema = builder.AddContainer($"{name}-schema", StackImages.AdminTools, StackImages.ServerTag)
            .WithEntrypoint("/bin/sh")
            .WithArgs("-c", TemporalScripts.SetupSchema)
            .WithEnvironment("POSTGRES_SEEDS", host)
            .WithEnvironment("DB_PORT", port)
            .WithEnvironment("POSTGRES_USER", pg.UserNameReference)
            .WithEnvironment("SQL_PASSWORD", pg.PasswordParameter)
            .WithParentRelationship(postgres)
            .WaitFor(postgres);

        var server = new TemporalServerResource(name) { Namespace = namespaceName };
        var healthCheckKey = $"{name}-serving";
        builder.Services.AddHealthChecks().Add(new HealthCheckRegistration(
            healthCheckKey, _ => new TemporalServingHealthCheck(server), failureStatus: null, tags: null));
        var temporal = builder.AddResource(server)
            .WithImage(StackImages.Server, StackImages.ServerTag)
            .WithEndpoint(targetPort: 7233, name: TemporalServerResource.GrpcEndpointName, scheme: "http")
            .WithEndpoint(TemporalServerResource.GrpcEndpointName, e => e.Transport = "http2") // gRPC
            .WithHttpEndpoint(targetPort: 9090, name: TemporalServerResource.MetricsEndpointName)
            .WithEnvironment("DB", "postgres12")
            .WithEnvironment("POSTGRES_SEEDS", host)
            .WithEnvironment("DB_PORT", port)
            .WithEnvironment("POSTGRES_USER", pg.UserNameReference)
            .WithEnvironment("POSTGRES_PWD", pg.PasswordParameter)
            .WithEnvironment("BIND_ON_IP", "0.0.0.0")
            .WithEnvironment("PROMETHEUS_ENDPOINT", "0.0.0.0:9090")
            // Absolute: the server reads this path as given, and a relative one would depend on the image's working directory.
            .WithEnvironment("DYNAMIC_CONFIG_FILE_PATH", $"{DynamicConfigDirectory}/development-sql.yaml")
            .WithBindMount(Path.Combine(builder.AppHostDirectory, "Temporal", "dynamicconfig"), DynamicConfigDirectory, isReadOnly: true)
            .WithHealthCheck(healthCheckKey)
            .WaitForCompletion(schema);

        builder.AddContainer($"{name}-namespace", StackImages.AdminTools, StackImages.ServerTag)
            .WithEntrypoint("/bin/sh")
            .WithArgs("-c", TemporalScripts.CreateNamespace)
            .WithEnvironment("TEMPORAL_ADDRESS", server.ConnectionStringExpression)
            .WithEnvironment("TEMPORAL_NAMESPACE", namespaceName)
            .WithEnvironment("TEMPORAL_RETENTION", ((int)retention.TotalHours).ToString(System.Globalization.CultureInfo.InvariantCulture) + "h")
            .WithParentRelationship(temporal)
            .WaitFor(temporal);
        return temporal;
    }

    /// <summary>The namespace job of a server added with <see cref="AddTemporalServer"/>; workers wait for its completion.</summary>
    public static IResourceBuilder<ContainerResource> NamespaceJob(
        this IDistributedApplicationBuilder builder, IResourceBuilder<TemporalServerResource> temporal)
    {
        ArgumentNullException.ThrowIfNull(builder);
        ArgumentNullException.ThrowIfNull(temporal);
        var job = builder.Resources.OfType<ContainerResource>().Single(r => r.Name == $"{temporal.Resource.Name}-namespace");
        return builder.CreateResourceBuilder(job);
    }

    /// <summary>Adds the Temporal Web UI pointed at <paramref name="temporal"/>, reachable from outside.</summary>
    public static IResourceBuilder<ContainerResource> AddTemporalUi(
        this IDistributedApplicationBuilder builder, string name, IResourceBuilder<TemporalServerResource> temporal)
    {
        ArgumentNullException.ThrowIfNull(builder);
        ArgumentNullException.ThrowIfNull(temporal);
        return builder.AddContainer(name, StackImages.Ui, StackImages.UiTag)
            .WithHttpEndpoint(targetPort: 8080, name: "http")
            .WithExternalHttpEndpoints()
            .WithEnvironment("TEMPORAL_ADDRESS", temporal.Resource.ConnectionStringExpression)
            .WithEnvironment("TEMPORAL_DEFAULT_NAMESPACE", temporal.Resource.Namespace)
            .WithHttpHealthCheck("/healthz")
            .WithParentRelationship(temporal)
            .WaitFor(temporal);
    }

    /// <summary>Serving means the frontend answers the gRPC health call, not merely that its port is open.</summary>
    /// <remarks>One lazy connection, reused by every check once the endpoint is allocated.</remarks>
    private sealed class TemporalServingHealthCheck(TemporalServerResource server) : IHealthCheck
    {
        private TemporalConnection? connection;

        public async Task<HealthCheckResult> CheckHealthAsync(HealthCheckContext context, CancellationToken cancellationToken = default)
        {
            try
            {
                if (connection is null)
                {
                    var address = await server.GrpcEndpoint.Property(EndpointProperty.HostAndPort).GetValueAsync(cancellationToken);
                    connection = TemporalConnection.CreateLazy(new TemporalConnectionOptions(address!));
                }
                await connection.ConnectAsync();
                return await connection.CheckHealthAsync(null, new RpcOptions { Timeout = TimeSpan.FromSeconds(3), CancellationToken = cancellationToken })
                    ? HealthCheckResult.Healthy()
                    : HealthCheckResult.Unhealthy("Temporal frontend is not serving yet");
            }
#pragma warning disable CA1031 // Any failure means "not serving yet".
            catch (Exception e)
#pragma warning restore CA1031
            {
                return HealthCheckResult.Unhealthy($"Temporal frontend is not serving yet: {e.Message}");
            }
        }
    }
}

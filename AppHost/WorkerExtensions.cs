using Aspire.Hosting.ApplicationModel;
using Aspire.Hosting.Deployment;
using Aspire.Hosting.Temporal.Deployment;
using Microsoft.Extensions.Configuration;

namespace AppHost;

/// <summary>How the worker is wired to the rest of the model.</summary>
internal static class WorkerExtensions
{
    /// <summary>
    /// References the resource and, when it is something the model runs, waits for it to be healthy. An
    /// existing server given as a connection string has no state to wait for: it is there or not. Nothing
    /// happens for an absent optional resource.
    /// </summary>
    public static IResourceBuilder<ProjectResource> WithDependency(
        this IResourceBuilder<ProjectResource> worker, IResourceBuilder<IResourceWithConnectionString>? dependency)
    {
        if (dependency is null)
        {
            return worker;
        }
        worker.WithReference(dependency);
        return dependency.Resource is ParameterResource ? worker : worker.WaitFor(dependency); // a connection string read from configuration
    }

    /// <summary>TLS to the PostgreSQL, Redis and Temporal server the model runs (on in production; docs/security.md, "Encryption in transit").</summary>
    public static IResourceBuilder<ProjectResource> WithEncryptionInTransit(this IResourceBuilder<ProjectResource> worker, Stack stack)
    {
        stack.AppDatabaseTls?.NpgsqlClient(worker);
        stack.CacheTls?.Client(worker);
        if (stack.TemporalServer is { } server)
        {
            // The directory of the clients' certificate: empty while the server's TLS is off, and left out where an existing
            // Temporal stands in (Helm's temporal.enabled=false), which is reached as its own settings say.
            worker.WithEnvironment("Temporal__TlsDirectory", server.Tls.ClientDirectory)
                .WithDeployment(d => d.MountsSecret(TemporalTls.ClientSecret, TemporalTls.ClientPath)
                    .InProduction("Temporal__TlsDirectory", TemporalTls.ClientPath)
                    .OnlyWhileGroupIsOn("Temporal__TlsDirectory", TemporalBuilderExtensions.DeploymentGroup));
        }
        return worker;
    }

    /// <summary>
    /// The worker's token for the authorizer of the Temporal server the model runs: a file of the Secret <c>temporal-token</c>
    /// that the kubelet keeps up to date, named by a setting empty by default (docs/security.md, "Temporal authorization").
    /// </summary>
    public static IResourceBuilder<ProjectResource> WithTemporalAuthorization(this IResourceBuilder<ProjectResource> worker, Stack stack) =>
        stack.TemporalServer is not { } server ? worker : worker
            .WithEnvironment("Temporal__ApiKeyFile", server.Authorization.WorkerTokenFile)
            .WithDeployment(d => d.MountsSecret(TemporalAuthorization.TokenSecret, TemporalAuthorization.TokenPath, TemporalAuthorization.WorkerKey)
                .OnlyWhileGroupIsOn("Temporal__ApiKeyFile", TemporalBuilderExtensions.DeploymentGroup));

    /// <summary>
    /// Settings an existing Temporal needs besides its address: the namespace when <c>ConnectionStrings:temporal</c>
    /// is a bare <c>host:port</c>, and Temporal Cloud's API key as a secret parameter (<c>Parameters:temporal-api-key</c>).
    /// </summary>
    public static IResourceBuilder<ProjectResource> WithExistingTemporalSettings(this IResourceBuilder<ProjectResource> worker)
    {
        var configuration = worker.ApplicationBuilder.Configuration;
        if (string.IsNullOrWhiteSpace(configuration.GetConnectionString(Stack.Temporal)))
        {
            return worker;
        }
        if (configuration["Temporal:Namespace"] is { Length: > 0 } ns)
        {
            worker.WithEnvironment("Temporal__Namespace", ns);
        }
        if (!string.IsNullOrEmpty(configuration["Parameters:temporal-api-key"]))
        {
            worker.WithEnvironment("Temporal__ApiKey", worker.ApplicationBuilder.AddParameter("temporal-api-key", secret: true));
        }
        return worker;
    }

    /// <summary>
    /// The API's keys, one to order and one to approve (each generated once and kept in user secrets when not given)
    /// and, when a payment gateway is configured, its key: all secret parameters, never plain configuration.
    /// </summary>
    public static IResourceBuilder<ProjectResource> WithApiSecrets(this IResourceBuilder<ProjectResource> worker)
    {
        var builder = worker.ApplicationBuilder;
        var generated = new GenerateParameterDefault { MinLength = 32, Special = false };
        worker.WithEnvironment("Api__Keys", builder.AddParameter("api-key", generated, secret: true, persist: true))
            .WithEnvironment("Api__ApproverKeys", builder.AddParameter("approver-api-key", generated, secret: true, persist: true));
        if (builder.Configuration["Payments:Endpoint"] is { Length: > 0 } endpoint)
        {
            worker.WithEnvironment("Payments__Endpoint", endpoint)
                .WithEnvironment("Payments__ApiKey", builder.AddParameter("payments-api-key", secret: true));
        }
        return worker;
    }

    /// <summary>
    /// Payload encryption (on unless <c>Temporal:Encryption:Enabled</c> is false): a secret parameter per key id of
    /// <c>Temporal:Encryption:KeyIds</c> (default <c>k1</c>; <c>Temporal:Encryption:CurrentKeyId</c>, by default the last,
    /// encrypts, the others still decrypt), generated once
    /// and kept in user secrets like the API keys; and, where the model runs the Temporal Web UI, the UI pointed at the
    /// worker's codec endpoint and that endpoint open to the UI's origin. Running, both are the addresses this machine's
    /// browser uses; deployed, the parameters <c>temporal-codec-endpoint</c> and <c>temporal-ui-origin</c>
    /// (docs/security.md, "Payload encryption").
    /// </summary>
    public static IResourceBuilder<ProjectResource> WithPayloadEncryption(
        this IResourceBuilder<ProjectResource> worker, IResourceBuilder<IResourceWithConnectionString> temporal)
    {
        var builder = worker.ApplicationBuilder;
        if (!builder.Configuration.GetValue("Temporal:Encryption:Enabled", true))
        {
            return worker;
        }
        var ids = (builder.Configuration["Temporal:Encryption:KeyIds"] ?? "k1")
            .Split(',', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries);
        if (ids.Length == 0)
        {
            throw new InvalidOperationException("Temporal:Encryption:KeyIds names no key: give one or more ids (k1,k2), the last encrypts.");
        }
        // 43 letters and digits: about 256 bits, as the worker derives its AES-256 key from the secret.
        var generated = new GenerateParameterDefault { MinLength = 43, Special = false };
        foreach (var id in ids)
        {
            worker.WithEnvironment($"Temporal__Encryption__Keys__{id}",
                builder.AddParameter($"payload-key-{id.ToLowerInvariant()}", generated, secret: true, persist: true));
        }
        // A rotation first gives every replica the new key, then makes it current: a replica without it cannot read
        // what one with it encrypts.
        var current = builder.Configuration["Temporal:Encryption:CurrentKeyId"] is { Length: > 0 } configured ? configured.Trim() : ids[^1];
        if (!ids.Contains(current, StringComparer.OrdinalIgnoreCase))
        {
            throw new InvalidOperationException(
                $"Temporal:Encryption:CurrentKeyId '{current}' is not in Temporal:Encryption:KeyIds ({string.Join(",", ids)}).");
        }
        worker.WithEnvironment("Temporal__Encryption__CurrentKeyId", current);
        // false for the first rollout over a build without the codec: decrypt, but send in clear (docs/security.md,
        // "Payload encryption"); a setting, so that a deployment flips it without regenerating.
        worker.WithEnvironment("Temporal__Encryption__Encrypt", builder.AddParameter("payload-encryption-encrypt", "true", publishValueAsDefault: true));

        if (temporal.Resource is not TemporalNamespaceResource { Parent: TemporalServerResource server }
            || builder.Resources.OfType<ContainerResource>().FirstOrDefault(r => r.Name == Stack.TemporalUi) is not { } ui)
        {
            return worker; // no Web UI in the model: the codec endpoint still serves the Temporal CLI
        }
        object codecEndpoint, uiOrigin;
        if (builder.ExecutionContext.IsPublishMode)
        {
            // The defaults are Compose's published ports (and the port-forwards docs/security.md gives for Kubernetes).
            codecEndpoint = builder.AddParameter("temporal-codec-endpoint", "http://localhost:8080/codec", publishValueAsDefault: true).Resource;
            uiOrigin = builder.AddParameter("temporal-ui-origin", "http://localhost:8081", publishValueAsDefault: true).Resource;
        }
        else
        {
            codecEndpoint = new BrowserUrl(worker.GetEndpoint("http"), "/codec");
            uiOrigin = new BrowserUrl(new EndpointReference((IResourceWithEndpoints)ui, "http"), "");
        }
        builder.CreateResourceBuilder(server).WithUiCodecServer(codecEndpoint);
        return worker.WithEnvironment(context => context.EnvironmentVariables["Temporal__Encryption__CodecCorsOrigin"] = uiOrigin);
    }

    /// <summary>An endpoint's URL as a browser on this machine reaches it (its allocated address), not as a container would.</summary>
    private sealed class BrowserUrl(EndpointReference endpoint, string path) : IValueProvider
    {
        public ValueTask<string?> GetValueAsync(CancellationToken cancellationToken = default) => new($"{endpoint.Url}{path}");
    }

    /// <summary>
    /// Deployed with Compose, the Aspire dashboard on its own (the standalone image, pinned) under the profile
    /// <c>telemetry</c>, as the OTLP target for the same traces, metrics and logs the AppHost shows: start it with
    /// <c>--profile telemetry</c> and set <c>OTEL_EXPORTER_OTLP_ENDPOINT=http://aspire-dashboard:18889</c> in
    /// <c>.env</c>. Publish mode only: running the model, the AppHost is the dashboard.
    /// </summary>
    public static IResourceBuilder<ProjectResource> WithTelemetryViewerForCompose(this IResourceBuilder<ProjectResource> worker)
    {
        var builder = worker.ApplicationBuilder;
        if (!builder.ExecutionContext.IsPublishMode)
        {
            return worker;
        }
        builder.AddContainer("aspire-dashboard", "dotnet/aspire-dashboard", AspireDashboardTag)
            .WithImageRegistry("mcr.microsoft.com")
            .WithHttpEndpoint(targetPort: 18888, name: "http")
            .WithExternalHttpEndpoints()
            .WithEndpoint(targetPort: 18889, name: "otlp", scheme: "http")
            .WithDeployment(d => d.ComposeOnly("telemetry")
                .RunAs(WorkloadUser, "/home/app")
                .Probes(DeploymentProbe.Tcp("http")));
        // Empty unless .env sets it: no export, as without a collector (ServiceDefaults).
        return worker.WithEnvironment("OTEL_EXPORTER_OTLP_ENDPOINT", builder.AddParameter("otel-exporter-otlp-endpoint", "", publishValueAsDefault: true));
    }

    /// <summary>
    /// A new build gets 10% of new orders for 10 minutes, then half for 10 minutes, then all. Orders are Pinned, so
    /// a rollback leaves those already started on the build they started on: the first step keeps that share small
    /// for as long as the alerts need to fire (their <c>for: 10m</c>); the second puts half the load on the new build
    /// long enough for its HPA to scale it before it takes everything.
    /// </summary>
    private static readonly RampStep[] RolloutSteps = [new(10, TimeSpan.FromMinutes(10)), new(50, TimeSpan.FromMinutes(10))];

    /// <summary>
    /// Deployed with Compose, the worker polls as a Worker Deployment Version when <c>.env</c> names one
    /// (<c>WORKER_DEPLOYMENT_NAME</c>, and <c>WORKER_BUILD_ID</c> or else its own build's version; both empty by default:
    /// unversioned), and the one-shot <c>temporal-set-current-version</c> (profile <c>versioning</c>) makes the version
    /// those settings name current. In Kubernetes Temporal's worker controller does both. Publish mode only.
    /// </summary>
    public static IResourceBuilder<ProjectResource> WithVersioningForCompose(
        this IResourceBuilder<ProjectResource> worker, IResourceBuilder<IResourceWithConnectionString> temporal)
    {
        var builder = worker.ApplicationBuilder;
        if (!builder.ExecutionContext.IsPublishMode)
        {
            return worker;
        }
        var deploymentName = builder.AddParameter("worker-deployment-name", "", publishValueAsDefault: true);
        var buildId = builder.AddParameter("worker-build-id", "", publishValueAsDefault: true);
        worker.WithEnvironment("Temporal__DeploymentName", deploymentName)
            .WithEnvironment("Temporal__BuildId", buildId)
            .WithDeployment(d => d.ComposeOnlyEnvironment("Temporal__DeploymentName", "Temporal__BuildId"));
        if (temporal.Resource is TemporalNamespaceResource ns)
        {
            builder.CreateResourceBuilder(ns).AddSetCurrentVersion($"{ns.Name}-set-current-version", deploymentName, buildId)
                .WithDeployment(d => d.ComposeOnly("versioning"));
        }
        return worker;
    }

    /// <summary>The standalone dashboard of the Aspire version the AppHost runs.</summary>
    private const string AspireDashboardTag = "13.6.5";

    /// <summary>The .NET images' non-root user ("app").</summary>
    public const long WorkloadUser = 1654;

    /// <summary>The worker's image repository (under Release:Registry), also the migration job's.</summary>
    public const string WorkerImage = "temporal-orders-worker";

    /// <summary>
    /// How the worker is deployed: probes on its own endpoints, the image's health-check entry for Compose, scaling on
    /// CPU and memory or (optionally, KEDA) on the task-queue backlog, and compute measured under load (docs/deployment.md).
    /// </summary>
    public static IResourceBuilder<ProjectResource> WithWorkerDeployment(
        this IResourceBuilder<ProjectResource> worker, IResourceBuilder<IResourceWithConnectionString> appDb,
        IResourceBuilder<IResourceWithConnectionString> temporal) =>
        worker.WithEnvironment("Database__MaxPoolSize", Stack.WorkerPoolSize.ToString(System.Globalization.CultureInfo.InvariantCulture))
        .WithDeployment(d =>
        {
            d.Connects(appDb.Resource, Stack.WorkerPoolSize);
            d.Image(WorkerImage)
                .Replicas(2)
                .Probes(readiness: DeploymentProbe.Http("http", "/health"), liveness: DeploymentProbe.Http("http", "/alive"), startup: DeploymentProbe.Http("http", "/alive"))
                .HealthCommand("dotnet", "/app/Worker.dll", "--health-check")
                .Metrics("http", "/metrics")
                // Measured by bench/worker-memory.sh (docs/benchmarks.md): ~1 core and a 230-236 MiB peak at 64 concurrent
                // orders. No CPU limit: CFS throttling turns the runtime's bursts into late heartbeats.
                .Resources(cpu: "1", memory: "256Mi/512Mi")
                // Workstation GC (the image's setting; server GC measured +45 MiB for nothing), and a GC heap limit of
                // 50% (hexadecimal) of the container's: ~170 MiB of the process lives outside the GC heap.
                .Environment("DOTNET_GCHeapHardLimitPercent", "0x32")
                // Memory at 150% of the request (384Mi, three quarters of the limit): out before an OOM kill, but not
                // pinned at the maximum, since the runtime keeps memory it has once grown (~230 MiB under load).
                .Autoscale(min: 2, max: 10, cpu: 80, memory: 150)
                .DisruptionBudget(maxUnavailable: 1)
                // Temporal:GracefulShutdownTimeout (30 s) plus the host's 10 s beyond it (Worker/Temporal).
                .ShutdownWindow(TimeSpan.FromSeconds(40));
            // Optional (components/image-signature, imageSignature.enabled): only images the release workflow of this
            // repository signed are admitted (Release:Repository, owner/name; scripts/release.sh deploy sets it).
            d.Contribute(new SignedImagePolicy(worker.ApplicationBuilder.Configuration["Release:Repository"] ?? "example/temporal-orders"));
            if (temporal.Resource is not ParameterResource)
            {
                d.ScaleOnTaskQueue(temporal, "orders");
                // Optional (components/worker-versioning, workerVersioning.enabled): Temporal's worker controller keeps
                // each build running until its pinned orders drain, which the controller waits for before any delay.
                // The hour after that covers the server's drainage check lagging, queries on orders that just closed,
                // and a rollback to a build whose pods still run; the scaled-down Deployment stays a day for inspection.
                d.VersionedRollouts(temporal, RolloutSteps, scaledownDelay: TimeSpan.FromHours(1), deleteDelay: TimeSpan.FromHours(24));
            }
        });
}

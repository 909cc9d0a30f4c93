using YamlDotNet.Serialization;

namespace Hosting.Deployment.Tests;

/// <summary>
/// The generator on a model that is not this project's: containers it knows nothing about translate from what the
/// model says (waits, references, parameters, volumes, endpoints) and the annotations they carry.
/// </summary>
public sealed class GenericTranslationTests
{
    [Fact]
    public async Task Waits_references_secrets_and_volumes_translate_without_knowing_the_images()
    {
        using var model = new PublishModel();
        var b = model.Builder;
        var password = b.AddParameter("db-password", secret: true);
        var db = b.AddContainer("db", "mariadb", "11.4.4")
            .WithEndpoint(targetPort: 3306, name: "tcp")
            .WithEnvironment("MARIADB_ROOT_PASSWORD", password)
            .WithVolume("db-data", "/var/lib/mysql")
            .WithDeployment(d => d.RunAs(999).Probes(DeploymentProbe.Exec("healthcheck.sh", "--connect")));
        var migrate = b.AddContainer("migrate", "flyway/flyway", "11.1.0")
            .WithDeployment(d => d.RunAs(1000))
            .WaitFor(db);
        b.AddContainer("api", "example/api", "2.3.1")
            .WithHttpEndpoint(targetPort: 80, name: "http")
            .WithExternalHttpEndpoints()
            .WithEnvironment(c => c.EnvironmentVariables["DB"] = ReferenceExpression.Create(
                $"server={db.GetEndpoint("tcp").Property(EndpointProperty.Host)};port={db.GetEndpoint("tcp").Property(EndpointProperty.TargetPort)};password={password}"))
            .WithDeployment(d => d.RunAs(1000).Replicas(3).DisruptionBudget())
            .WaitFor(db)
            .WaitForCompletion(migrate);

        var files = await model.GenerateAsync();

        var compose = (Dictionary<object, object>)new Deserializer().Deserialize<Dictionary<object, object>>(files["compose/docker-compose.yaml"])["services"];
        var api = (Dictionary<object, object>)compose["api"];
        var dependsOn = (Dictionary<object, object>)api["depends_on"];
        Assert.Equal("service_healthy", ((Dictionary<object, object>)dependsOn["db"])["condition"]);
        Assert.Equal("service_completed_successfully", ((Dictionary<object, object>)dependsOn["migrate"])["condition"]);
        Assert.Equal("server=db;port=3306;password=${DB_PASSWORD:?set DB_PASSWORD in .env (see .env.example)}", ((Dictionary<object, object>)api["environment"])["DB"]);
        Assert.Contains("DB_PASSWORD=", files["compose/.env.example"], StringComparison.Ordinal);

        var kubernetes = files["kubernetes/base/api.yaml"];
        Assert.Contains("value: \"server=db;port=3306;password=$(SECRET_DB_PASSWORD)\"", kubernetes, StringComparison.Ordinal);
        Assert.Contains("kind: PodDisruptionBudget", kubernetes, StringComparison.Ordinal);
        Assert.Contains("kubectl", kubernetes, StringComparison.Ordinal); // waits for the migrate job through the API
        Assert.Contains("kind: Job", files["kubernetes/base/migrate.yaml"], StringComparison.Ordinal);
        Assert.Contains("kind: StatefulSet", files["kubernetes/base/db.yaml"], StringComparison.Ordinal);
        Assert.Contains("name: db-data", files["kubernetes/base/db.yaml"], StringComparison.Ordinal);
        // The API's NetworkPolicy egress reaches db on 3306; db's ingress admits api and migrate... only those that reference it.
        var dbPolicy = files["kubernetes/base/db.yaml"][files["kubernetes/base/db.yaml"].IndexOf("kind: NetworkPolicy", StringComparison.Ordinal)..];
        Assert.Contains("app.kubernetes.io/name: api", dbPolicy, StringComparison.Ordinal);
        Assert.DoesNotContain("app.kubernetes.io/name: migrate", dbPolicy, StringComparison.Ordinal);
        Assert.True(files.ContainsKey("helm/shop/templates/api.yaml"));
    }

    [Fact]
    public async Task A_scheduled_resource_is_a_cron_job_with_its_own_claim_and_a_compose_service_run_on_demand()
    {
        using var model = new PublishModel();
        var db = model.Builder.AddContainer("db", "postgres", "16.11").WithEndpoint(targetPort: 5432, name: "tcp").WithDeployment(d => d.RunAs(999));
        model.Builder.AddContainer("db-backup", "postgres", "16.11")
            .WithEnvironment("PGHOST", db.GetEndpoint("tcp").Property(EndpointProperty.Host))
            .WithVolume("db-backups", "/backups")
            .WithDeployment(d => d.RunAs(999).Schedule("30 2 * * *"));

        var files = await model.GenerateAsync();

        var kubernetes = files["kubernetes/base/db-backup.yaml"];
        Assert.Contains("kind: CronJob", kubernetes, StringComparison.Ordinal);
        Assert.Contains("schedule: 30 2 * * *", kubernetes.Replace("\"", "", StringComparison.Ordinal), StringComparison.Ordinal);
        Assert.Contains("concurrencyPolicy: Forbid", kubernetes, StringComparison.Ordinal);
        Assert.Contains("kind: PersistentVolumeClaim", kubernetes, StringComparison.Ordinal);
        Assert.Contains("claimName: db-backups", kubernetes, StringComparison.Ordinal);
        Assert.DoesNotContain("kind: StatefulSet", kubernetes, StringComparison.Ordinal);
        var compose = (Dictionary<object, object>)new Deserializer().Deserialize<Dictionary<object, object>>(files["compose/docker-compose.yaml"])["services"];
        var backup = (Dictionary<object, object>)compose["db-backup"];
        Assert.Equal(["scheduled"], ((List<object>)backup["profiles"]).Cast<string>());
        Assert.Equal("no", backup["restart"]);
        Assert.Contains("schedule: 30 2 * * *", files["helm/shop/values.yaml"].Replace("\"", "", StringComparison.Ordinal), StringComparison.Ordinal);
    }

    [Fact]
    public async Task A_versioned_worker_of_any_name_gets_the_worker_controllers_objects_from_its_namespace_resource()
    {
        using var model = new PublishModel();
        var b = model.Builder;
        var frontend = b.AddContainer("frontend", "example/frontend", "1.2.3")
            .WithEndpoint(targetPort: 7233, name: "grpc")
            .WithDeployment(d => d.RunAs(1000));
        var jobs = b.AddResource(new QueueNamespace("jobs", frontend.GetEndpoint("grpc")));
        b.AddContainer("billing", "example/billing", "2.0.1")
            .WithReference(jobs)
            .WithDeployment(d => d.RunAs(1000).Autoscale(2, 6)
                .VersionedRollouts(jobs, [new RampStep(25, TimeSpan.FromMinutes(2)), new RampStep(60, TimeSpan.FromSeconds(90))],
                    scaledownDelay: TimeSpan.FromMinutes(30), deleteDelay: TimeSpan.FromHours(2)));

        var files = await model.GenerateAsync();

        var component = files["kubernetes/components/worker-versioning/kustomization.yaml"];
        Assert.Contains("name: billing", component, StringComparison.Ordinal);
        Assert.Contains("temporalNamespace: billing-queue", component, StringComparison.Ordinal);
        Assert.Contains("pauseDuration: 1m30s", component, StringComparison.Ordinal);
        Assert.Contains("scaledownDelay: 30m", component, StringComparison.Ordinal);
        Assert.Contains("deleteDelay: 2h", component, StringComparison.Ordinal);
        Assert.Contains("kind: HorizontalPodAutoscaler", component, StringComparison.Ordinal); // it has an HPA to turn into a template
        var connections = files["kubernetes/components/worker-versioning/connections.yaml"];
        Assert.Contains("name: jobs", connections, StringComparison.Ordinal); // named after the model's reference
        Assert.Contains("hostPort: frontend.shop.svc:7233", connections, StringComparison.Ordinal);
        Assert.Contains("name: frontend-from-worker-controller", connections, StringComparison.Ordinal);
        var template = files["helm/shop/templates/billing-versioning.yaml"];
        Assert.StartsWith("{{- /*", template, StringComparison.Ordinal);
        Assert.Contains("{{- if .Values.billing.workerVersioning.enabled }}", template, StringComparison.Ordinal);
        Assert.DoesNotContain("keda", template, StringComparison.Ordinal); // nothing to refuse: it does not scale on a queue
        Assert.Contains("{{- if not .Values.billing.workerVersioning.enabled }}", files["helm/shop/templates/billing.yaml"], StringComparison.Ordinal);
        Assert.Contains("\"workerVersioning\"", files["helm/shop/values.schema.json"], StringComparison.Ordinal);
        Assert.DoesNotContain("worker-versioning", files["kubernetes/base/kustomization.yaml"], StringComparison.Ordinal); // optional
    }

    [Theory]
    [InlineData(50, 30, 10, 60)] // ramps must rise
    [InlineData(10, 29, 50, 60)] // a pause of 30 s at least
    [InlineData(10, 30, 100, 60)] // 99% at most: after the last step the build is current
    public void Versioned_rollouts_refuse_what_the_controller_would(int firstRamp, int firstPause, int secondRamp, int secondPause)
    {
        using var model = new PublishModel();
        var frontend = model.Builder.AddContainer("frontend", "example/frontend", "1.2.3").WithEndpoint(targetPort: 7233, name: "grpc");
        var jobs = model.Builder.AddResource(new QueueNamespace("jobs", frontend.GetEndpoint("grpc")));
        RampStep[] steps = [new(firstRamp, TimeSpan.FromSeconds(firstPause)), new(secondRamp, TimeSpan.FromSeconds(secondPause))];

        Assert.Throws<ArgumentException>(() => model.Builder.AddContainer("billing", "example/billing", "2.0.1")
            .WithDeployment(d => d.VersionedRollouts(jobs, steps, TimeSpan.FromHours(1), TimeSpan.FromHours(24))));
    }

    /// <summary>A queue namespace as an integration would model one: its connection string names a frontend and a namespace.</summary>
    private sealed class QueueNamespace(string name, EndpointReference frontend) : Resource(name), IResourceWithConnectionString
    {
        public ReferenceExpression ConnectionStringExpression =>
            ReferenceExpression.Create($"Endpoint={frontend.Property(EndpointProperty.HostAndPort)};Namespace=billing-queue");
    }
}

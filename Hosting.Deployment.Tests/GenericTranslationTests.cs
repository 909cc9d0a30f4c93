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
    public async Task A_production_setting_is_the_parameter_elsewhere_and_its_production_value_in_the_production_overlay_and_values()
    {
        using var model = new PublishModel();
        var workers = model.Builder.AddParameter("cache-workers", "2", publishValueAsDefault: true);
        model.Builder.AddContainer("cache", "example/cache", "1.0.0")
            .WithEnvironment("CACHE_WORKERS", workers)
            .WithDeployment(d => d.RunAs(1000).InProduction("CACHE_WORKERS", "16"));

        var files = await model.GenerateAsync();

        Assert.Contains("CACHE_WORKERS: \"2\"", files["kubernetes/base/cache.yaml"], StringComparison.Ordinal);
        Assert.DoesNotContain("CACHE_WORKERS", files["kubernetes/overlays/development/kustomization.yaml"], StringComparison.Ordinal);
        var production = files["kubernetes/overlays/production/kustomization.yaml"];
        Assert.Contains("name: cache-settings", production, StringComparison.Ordinal);
        Assert.Contains("path: /data/CACHE_WORKERS\n        value: \"16\"", production, StringComparison.Ordinal);
        Assert.Contains("path: \"/spec/template/metadata/annotations/checksum~1settings\"", production, StringComparison.Ordinal);
        Assert.Contains("CACHE_WORKERS: \"2\"", files["helm/shop/values.yaml"], StringComparison.Ordinal);
        Assert.Contains("settings:\n  CACHE_WORKERS: \"16\"", files["helm/shop/values-production.yaml"], StringComparison.Ordinal);
        Assert.Contains("CACHE_WORKERS=2", files["compose/.env.example"], StringComparison.Ordinal);
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
}

namespace AppHost.Tests.Deployment;

/// <summary>
/// values.schema.json refuses, at install, values that Kubernetes or the container runtime would reject or that
/// would quietly break the release, naming the value: each row is tried as a new user would (<c>--set</c>) with
/// Helm 3 and Helm 4, whose validators word their refusals differently (<c>a.b: …</c>, <c>at '/a/b': …</c>).
/// </summary>
[Collection(SharedDeployment.Name)]
public sealed class HelmValuesSchemaTests(GeneratedDeployment generated)
{
    /// <summary>Why each is refused, then <c>--set</c>, <c>--set-string</c> or <c>-f</c> (a values file of these contents), and the value the refusal names.</summary>
    private static readonly (string Why, string Flag, string Value, string Names)[] BadValues =
    [
        ("a negative replica count", "--set", "replicaCount=-1", "replicaCount"),
        ("half a replica", "--set", "replicaCount=1.5", "replicaCount"),
        ("capitals in an image path, which no runtime pulls", "--set", "image.repository=ghcr.io/Acme/Worker", "image.repository"),
        ("no image at all", "--set-string", "image.repository=", "image.repository"),
        ("a space in a tag", "--set-string", "image.tag=1.4 beta", "image.tag"),
        ("a tag with a digest that is not one", "--set-string", "image.tag=1.4.0@sha256:abc", "image.tag"),
        ("a tag Helm reads as the number 1", "-f", "image:\n  tag: 1.0\n", "image.tag"),
        ("an unknown pull policy", "--set", "image.pullPolicy=Sometimes", "image.pullPolicy"),
        ("a CPU that is not a quantity", "--set", "resources.requests.cpu=lots", "resources.requests.cpu"),
        ("megabytes as Docker writes them", "--set", "resources.limits.memory=512MB", "resources.limits.memory"),
        ("an autoscaler of zero pods", "--set", "autoscaling.minReplicas=0", "autoscaling.minReplicas"),
        ("a word for a count", "--set", "autoscaling.maxReplicas=ten", "autoscaling.maxReplicas"),
        ("a utilisation target of zero", "--set", "autoscaling.targetCPUUtilizationPercentage=0", "autoscaling.targetCPUUtilizationPercentage"),
        ("root, which runAsNonRoot stops at start", "--set", "podSecurityContext.runAsUser=0", "podSecurityContext.runAsUser"),
        ("root in the container", "--set", "securityContext.runAsUser=0", "securityContext.runAsUser"),
        ("a volume size that is not a quantity", "--set", "postgresql.persistence.size=big", "postgresql.persistence.size"),
        ("an infrastructure limit in the wrong unit", "--set", "postgresql.resources.limits.memory=1GB", "postgresql.resources.limits.memory"),
        ("a schedule that is not cron", "--set", "backup.schedule=nightly", "backup.schedule"),
        ("a Secret name Kubernetes refuses", "--set", "postgresql.existingSecret=Orders_DB", "postgresql.existingSecret"),
        ("a Secret name with a space", "--set-string", "secrets.existingSecret=my secret", "secrets.existingSecret"),
        ("a switch given as a word", "--set-string", "redis.enabled=yes", "redis.enabled"),
        ("an empty Temporal namespace", "--set-string", "temporal.namespace=", "temporal.namespace"),
        ("a frontend without its port", "--set", "temporal.frontendAddress=temporal.example.com", "temporal.frontendAddress"),
        ("an empty task queue", "--set-string", "temporal.taskQueue=", "temporal.taskQueue"),
        ("a Temporal image tag with a space", "--set-string", "temporal.temporalServer.image.tag=1.31 0", "temporal.temporalServer.image.tag"),
        ("KEDA aiming at an empty backlog", "--set", "keda.targetQueueSize=0", "keda.targetQueueSize"),
        ("a namespace name Kubernetes refuses", "--set", "keda.operatorNamespace=KEDA", "keda.operatorNamespace"),
        ("the controller's namespace in capitals", "--set", "workerVersioning.controllerNamespace=Temporal-System", "workerVersioning.controllerNamespace"),
        ("a setting the chart does not have (a typo)", "--set", "settings.OTEL_EXPORTER_OTLP_ENDPOINTS=http://collector:4317", "settings"),
        ("a misspelt key of a section", "--set", "autoscaling.minReplica=3", "autoscaling"),
    ];

    public static TheoryData<string, int> Cases()
    {
        var data = new TheoryData<string, int>();
        foreach (var helm in new[] { "3", "4" })
        {
            for (var i = 0; i < BadValues.Length; i++)
            {
                data.Add(helm, i);
            }
        }
        return data;
    }

    [Theory]
    [MemberData(nameof(Cases))]
    public async Task A_value_that_cannot_deploy_is_refused_naming_it(string helm, int row)
    {
        var (why, flag, value, names) = BadValues[row];
        var file = Path.Combine(Path.GetTempPath(), $"values-{Guid.NewGuid():N}.yaml");
        if (flag == "-f")
        {
            await File.WriteAllTextAsync(file, value);
        }
        ProcessResult result;
        try
        {
            result = await ProcessRunner.RunAsync(helm == "3" ? Validators.Helm3 : Validators.Helm4,
                ["template", "orders", ".", "--namespace", "orders", flag, flag == "-f" ? file : value], TimeSpan.FromSeconds(60), workingDirectory: generated.Chart);
        }
        finally
        {
            File.Delete(file);
        }

        Assert.True(result.ExitCode != 0, $"{why} ({value}) was accepted");
        Assert.True(result.Output.Contains($"- {names}", StringComparison.Ordinal) || result.Output.Contains($"'/{names.Replace('.', '/')}'", StringComparison.Ordinal),
            $"{why} ({value}) was refused without naming {names}:\n{result.Output}");
    }

    [Theory]
    [InlineData("3")]
    [InlineData("4")]
    public async Task The_values_that_can_deploy_pass(string helm)
    {
        // What a user sets and must keep working: numbers for quantities, a tag of digits given as a string, a registry
        // with a port, a Secret name with dots, a macro schedule, Temporal Cloud's address, a tag pinned by digest (as a
        // release writes it: scripts/release.sh pin-digests).
        string[] good =
        [
            "--set", "replicaCount=0", "--set-string", "image.tag=17", "--set", "image.repository=registry.local:5000/acme/worker",
            "--set-string", $"postgresql.image.tag=16.11@sha256:{new string('a', 64)}",
            "--set", "resources.requests.cpu=2", "--set", "resources.limits.memory=1.5Gi", "--set", "postgresql.existingSecret=orders.db",
            "--set", "backup.schedule=@daily", "--set", "temporal.frontendAddress=acme.a1b2c.tmprl.cloud:7233",
        ];
        var result = await ProcessRunner.RunAsync(helm == "3" ? Validators.Helm3 : Validators.Helm4,
            ["template", "orders", ".", "--namespace", "orders", .. good], TimeSpan.FromSeconds(60), workingDirectory: generated.Chart);
        Assert.True(result.ExitCode == 0, result.Output);
    }
}

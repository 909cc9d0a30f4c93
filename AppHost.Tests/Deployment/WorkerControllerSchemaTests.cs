using System.Text.RegularExpressions;

namespace AppHost.Tests.Deployment;

/// <summary>
/// The check of the worker controller's objects (scripts/validate-crds.mjs against the controller's vendored CRDs)
/// refuses what the controller's API would: each case breaks one thing in the chart's own WorkerDeployment,
/// Connection or WorkerResourceTemplate, which pass unbroken.
/// </summary>
[Collection(SharedDeployment.Name)]
public sealed class WorkerControllerSchemaTests(GeneratedDeployment generated)
{
    public static TheoryData<string, string, string, string> Breakages() => new()
    {
        // kind, what is replaced (a regular expression), by what, the refusal expected
        { "WorkerDeployment", @"(?m)^  rollout:", "  maxVersions: 3\n  rollout:", "spec.maxVersions: unknown field" },
        { "WorkerDeployment", @"(?m)^      serviceAccountName: worker", "      serviceAccountName: worker\n      serviceAcountName: worker", "spec.template.spec.serviceAcountName: unknown field" },
        { "WorkerDeployment", "rampPercentage: 50", "rampPercentage: 100", "spec.rollout.steps[1].rampPercentage: must be <= 99" },
        { "WorkerDeployment", "pauseDuration: 10m", "pauseDuration: 10s", "spec.rollout.steps[0]: pause duration must be at least 30s" },
        { "WorkerDeployment", @"(?ms)^    steps:.*?(?=^    strategy:)", "", "spec.rollout: steps are required for Progressive rollout" },
        { "WorkerDeployment", @"(?m)^  name: worker$", "  name: " + new string('w', 64), "name cannot be more than 63 characters" },
        { "WorkerDeployment", "kind: WorkerDeployment", "kind: TemporalWorkerDeployment", "has no kind TemporalWorkerDeployment" },
        { "Connection", @"(?m)^  hostPort: .*$", "  hostPort: temporal-server", "spec.hostPort: must match pattern" },
        { "Connection", @"(?m)^spec:$", "spec:\n  mutualTLSSecretRef: {name: tls}\n  apiKeySecretRef: {name: key, key: apiKey}", "Only one of mutualTLSSecretRef or apiKeySecretRef may be set" },
        { "WorkerResourceTemplate", @"(?m)^  workerDeploymentRef:\n    name: worker\n", "", "workerDeploymentRef must be set" },
    };

    [Theory]
    [MemberData(nameof(Breakages))]
    public async Task The_check_refuses_what_the_controller_would(string kind, string pattern, string replacement, string refusal)
    {
        // Unbroken, the documents pass: Every_versioned_document_passes_unbroken.
        var document = await DocumentAsync(kind);
        var broken = new Regex(pattern).Replace(document, replacement, 1);
        Assert.NotEqual(document, broken);

        var (exitCode, output) = await ValidateAsync(broken);

        Assert.True(exitCode == 1, output);
        Assert.Contains(refusal, output, StringComparison.Ordinal);
    }

    // One rendering for every case (by chart folder: the shared generation's).
    private static readonly System.Collections.Concurrent.ConcurrentDictionary<string, Task<string>> Renderings = new();

    [Fact]
    public async Task Every_versioned_document_passes_unbroken()
    {
        var documents = string.Join("---\n", [await DocumentAsync("WorkerDeployment"), await DocumentAsync("Connection"), await DocumentAsync("WorkerResourceTemplate")]);
        var summary = await GeneratedDeployment.ValidateCustomResourcesAsync(documents, "WorkerDeployment");
        Assert.Contains("3 of 3 documents checked", summary, StringComparison.Ordinal);
    }

    /// <summary>One document of the chart's versioned form (Helm 4, default values).</summary>
    private async Task<string> DocumentAsync(string kind)
    {
        var rendered = await Renderings.GetOrAdd(generated.Chart, async chart =>
        {
            var result = await ProcessRunner.RunAsync(Validators.Helm4, ["template", "orders", ".", "--namespace", "orders", "--set", "workerVersioning.enabled=true"],
                TimeSpan.FromSeconds(60), workingDirectory: chart);
            Assert.True(result.ExitCode == 0, result.Output);
            return result.StandardOutput;
        });
        return GeneratedDeployment.Documents(rendered).Single(d => GeneratedDeployment.KindOf(d) == kind).TrimStart('\n');
    }

    private static async Task<ProcessResult> ValidateAsync(string yaml)
    {
        var file = Path.Combine(Path.GetTempPath(), $"crd-{Guid.NewGuid():N}.yaml");
        await File.WriteAllTextAsync(file, yaml);
        try
        {
            return await ProcessRunner.RunAsync(Validators.ValidateCrds, [file], TimeSpan.FromSeconds(60));
        }
        finally
        {
            File.Delete(file);
        }
    }
}

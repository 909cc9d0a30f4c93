using System.Text.RegularExpressions;
using k8s;
using k8s.Models;

namespace AppHost.Tests.Deployment;

/// <summary>
/// One fresh generation of the deployment artifacts by the command users run (the AppHost's publish step), shared
/// by the deployment tests; every secret parameter is given a sentinel value that no generated file may contain.
/// </summary>
public sealed partial class GeneratedDeployment : IAsyncLifetime
{
    public static readonly IReadOnlyDictionary<string, string> SecretSentinels = new Dictionary<string, string>
    {
        ["POSTGRES_PASSWORD"] = "sentinel-postgres-7f3a9c",
        ["POSTGRES_ORDERS_PASSWORD"] = "sentinel-orders-3d1f08",
        ["POSTGRES_ORDERS_SCHEMA_PASSWORD"] = "sentinel-orders-schema-a6c2e9",
        ["POSTGRES_TEMPORAL_PASSWORD"] = "sentinel-temporal-58b7d4",
        ["POSTGRES_TEMPORAL_SCHEMA_PASSWORD"] = "sentinel-temporal-schema-e03c71",
        ["POSTGRES_CERTIFICATE_RELOAD_PASSWORD"] = "sentinel-certificate-reload-7b29f4",
        ["REDIS_PASSWORD"] = "sentinel-redis-41be0d",
        ["API_KEY"] = "sentinel-api-key-c2d8e6",
        ["APPROVER_API_KEY"] = "sentinel-approver-key-9e51a0",
        ["PAYLOAD_KEY_K1"] = "sentinel-payload-key-5b7e21a4c9d03f6e8b1a27c4",
    };

    public string Root { get; } = Path.Combine(Path.GetTempPath(), $"deploy-{Guid.NewGuid():N}");

    public string Compose => Path.Combine(Root, "compose");

    public string Kubernetes => Path.Combine(Root, "kubernetes");

    public string Chart => Path.Combine(Root, "helm", "temporal-orders");

    public async Task InitializeAsync()
    {
        var parameters = SecretSentinels.Select(s => $"--Parameters:{s.Key.ToLowerInvariant().Replace('_', '-')}={s.Value}");
        var (exitCode, log) = await AppHostProcess.RunAsync(TimeSpan.FromSeconds(120),
            ["--operation", "publish", "--step", "deployment-artifacts", "--output-path", Root, .. parameters]);
        Assert.True(exitCode == 0, log);
        // What users do before deploying: secrets files from the committed examples, here with the sentinels.
        await File.WriteAllTextAsync(Path.Combine(Compose, ".env"), FillExample(await File.ReadAllTextAsync(Path.Combine(Compose, ".env.example"))));
        var kustomizeSecrets = Path.Combine(Kubernetes, "base", "secrets.env");
        await File.WriteAllTextAsync(kustomizeSecrets, FillExample(await File.ReadAllTextAsync(kustomizeSecrets + ".example")));
    }

    public Task DisposeAsync()
    {
        Directory.Delete(Root, recursive: true);
        return Task.CompletedTask;
    }

    /// <summary><c>kubectl kustomize</c> of an overlay (<c>overlays/production</c>), with components added as a user adds them.</summary>
    public async Task<string> KustomizeAsync(string overlay, params string[] components)
    {
        var result = await TryKustomizeAsync(overlay, components);
        Assert.True(result.ExitCode == 0, result.Output);
        return result.StandardOutput;
    }

    public async Task<ProcessResult> TryKustomizeAsync(string overlay, params string[] components)
    {
        if (components.Length == 0)
        {
            return await ProcessRunner.RunAsync(Validators.Kubectl, ["kustomize", Path.Combine(Kubernetes, overlay)], TimeSpan.FromSeconds(60));
        }
        // What a user writes to add a component: an overlay of the overlay (in a copy: the generation is shared).
        var copy = Directory.CreateTempSubdirectory("kustomize-").FullName;
        try
        {
            CopyTree(Kubernetes, copy);
            var directory = Path.Combine(copy, "overlays", "with-components");
            Directory.CreateDirectory(directory);
            await File.WriteAllTextAsync(Path.Combine(directory, "kustomization.yaml"), $"""
                apiVersion: kustomize.config.k8s.io/v1beta1
                kind: Kustomization
                resources: [../{Path.GetFileName(overlay)}]
                components: [{string.Join(", ", components.Select(c => $"../../components/{c}"))}]
                """);
            return await ProcessRunner.RunAsync(Validators.Kubectl, ["kustomize", directory], TimeSpan.FromSeconds(60));
        }
        finally
        {
            Directory.Delete(copy, recursive: true);
        }
    }

    /// <summary><c>helm template</c> of the chart with <paramref name="helm"/> (a Helm 3 or 4 binary) and these value arguments.</summary>
    public async Task<string> HelmTemplateAsync(string helm, params string[] values)
    {
        var result = await TryHelmTemplateAsync(helm, values);
        Assert.True(result.ExitCode == 0, result.Output);
        return result.StandardOutput;
    }

    public Task<ProcessResult> TryHelmTemplateAsync(string helm, params string[] values) =>
        ProcessRunner.RunAsync(helm, ["template", "orders", ".", "--namespace", "orders", .. values], TimeSpan.FromSeconds(60), workingDirectory: Chart);

    private static void CopyTree(string from, string to)
    {
        foreach (var file in Directory.EnumerateFiles(from, "*", SearchOption.AllDirectories))
        {
            var target = Path.Combine(to, Path.GetRelativePath(from, file));
            Directory.CreateDirectory(Path.GetDirectoryName(target)!);
            File.Copy(file, target);
        }
    }

    /// <summary>Every <c>KEY=</c> line of an example given its sentinel.</summary>
    public static string FillExample(string example) =>
        ExampleLine().Replace(example, m => $"{m.Groups[1].Value}={SecretSentinels[m.Groups[1].Value]}");

    /// <summary>The documents of a rendered multi-document YAML stream, as text, without empty ones.</summary>
    public static List<string> Documents(string yaml) =>
        [.. DocumentSeparator().Split(yaml).Where(d => KindLine().IsMatch(d))];

    public static string KindOf(string document) => KindLine().Match(document).Groups[1].Value;

    /// <summary>
    /// Every document of a Kubernetes API group, parsed with the client's models in strict mode (an unknown or
    /// misplaced field fails); custom resources (KEDA, Prometheus Operator, the Temporal worker controller) are left
    /// to their own schema check (<see cref="WorkerControllerObjects"/> parses the Kubernetes types inside the last).
    /// </summary>
    public static List<IKubernetesObject> ParseStrict(string yaml)
    {
        List<IKubernetesObject> objects = [];
        foreach (var document in Documents(yaml).Where(d => !IsCustomResource(d)))
        {
            try
            {
                objects.AddRange(KubernetesYaml.LoadAllFromString(document, strict: true).Cast<IKubernetesObject>());
            }
            catch (Exception e)
            {
                throw new Xunit.Sdk.XunitException($"Strict parse of this {KindOf(document)} failed: {e.Message}\n{document}");
            }
        }
        return objects;
    }

    /// <summary>
    /// The KEDA, Prometheus Operator and worker-controller documents, against their own schemas
    /// (scripts/validate-crds.mjs); returns its summary, which counts each kind checked.
    /// </summary>
    public static async Task<string> ValidateCustomResourcesAsync(string rendered, string kind = "ScaledObject")
    {
        var file = Path.Combine(Path.GetTempPath(), $"rendered-{Guid.NewGuid():N}.yaml");
        await File.WriteAllTextAsync(file, rendered);
        try
        {
            var check = await ProcessRunner.RunAsync(Validators.ValidateCrds, [file], TimeSpan.FromSeconds(60));
            Assert.True(check.ExitCode == 0, check.Output);
            Assert.Contains(kind, check.Output, StringComparison.Ordinal);
            return check.StandardOutput;
        }
        finally
        {
            File.Delete(file);
        }
    }

    /// <summary>The PrometheusRule is valid for the operator's schema and carries exactly the alerts of deploy/observability.</summary>
    public static async Task ValidatePrometheusRuleAsync(string rendered)
    {
        await ValidateCustomResourcesAsync(rendered, "PrometheusRule");
        var source = await File.ReadAllTextAsync(Repository.PathOf("deploy", "observability", "prometheus", "alerts.yaml"));
        var alerts = AlertName().Matches(source).Select(m => m.Groups[1].Value).ToList();
        Assert.NotEmpty(alerts);
        Assert.Equal(alerts, AlertName().Matches(rendered).Select(m => m.Groups[1].Value));
    }

    public static bool IsCustomResource(string document) =>
        document.Contains("apiVersion: keda.sh/", StringComparison.Ordinal) || document.Contains("apiVersion: monitoring.coreos.com/", StringComparison.Ordinal)
        || document.Contains("apiVersion: temporal.io/", StringComparison.Ordinal) || document.Contains("apiVersion: policy.sigstore.dev/", StringComparison.Ordinal);

    [GeneratedRegex(@"^([A-Z0-9_]+)=$", RegexOptions.Multiline)]
    private static partial Regex ExampleLine();

    [GeneratedRegex(@"^---.*$", RegexOptions.Multiline)]
    private static partial Regex DocumentSeparator();

    [GeneratedRegex(@"- alert: (\S+)")]
    private static partial Regex AlertName();

    [GeneratedRegex(@"^kind: (\S+)", RegexOptions.Multiline)]
    private static partial Regex KindLine();
}

[CollectionDefinition(Name)]
public sealed class SharedDeployment : ICollectionFixture<GeneratedDeployment>
{
    public const string Name = "generated deployment";
}

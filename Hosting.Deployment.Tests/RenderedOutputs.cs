using k8s;
using YamlDotNet.Serialization;

namespace Hosting.Deployment.Tests;

/// <summary>
/// A generated folder as the real tools render it: docker-compose 1.29's <c>config</c> (then the Compose
/// Specification's schema), <c>kubectl kustomize</c> of the base with the given components, and <c>helm template</c>
/// with Helm 3 and 4 (after <c>lint --strict</c>); each Kubernetes document parsed strictly with the client's models
/// (custom resources checked by scripts/validate-crds.mjs instead).
/// </summary>
internal static class RenderedOutputs
{
    private static readonly TimeSpan Timeout = TimeSpan.FromSeconds(60);

    /// <summary>The Compose file as docker-compose resolves it (its <c>.env</c> from the example, secrets given <paramref name="secret"/>).</summary>
    public static async Task<Dictionary<object, object>> ComposeAsync(string output, string secret = "s3cret")
    {
        var folder = Path.Combine(output, "compose");
        var example = await File.ReadAllTextAsync(Path.Combine(folder, ".env.example"));
        await File.WriteAllTextAsync(Path.Combine(folder, ".env"), FilledExample(example, secret));
        var config = await RunAsync(Validators.DockerCompose, ["-f", "docker-compose.yaml", "config"], folder);
        var schema = Path.Combine(output, "resolved-compose.yaml");
        await File.WriteAllTextAsync(schema, config);
        await RunAsync(Validators.ValidateCompose, [schema], output);
        return new Deserializer().Deserialize<Dictionary<object, object>>(config);
    }

    /// <summary>The Kustomize base with <paramref name="components"/>, rendered and parsed.</summary>
    public static async Task<(string Rendered, List<IKubernetesObject> Objects)> KustomizeAsync(string output, params string[] components)
    {
        var secrets = Path.Combine(output, "kubernetes", "base", "secrets.env");
        if (File.Exists(secrets + ".example"))
        {
            await File.WriteAllTextAsync(secrets, FilledExample(await File.ReadAllTextAsync(secrets + ".example"), "s3cret"));
        }
        var overlay = Path.Combine(output, "kubernetes", "overlays", "test");
        Directory.CreateDirectory(overlay);
        await File.WriteAllTextAsync(Path.Combine(overlay, "kustomization.yaml"),
            "apiVersion: kustomize.config.k8s.io/v1beta1\nkind: Kustomization\nresources: [../../base]\n"
            + $"components: [{string.Join(", ", components.Select(c => $"../../components/{c}"))}]\n");
        var rendered = await RunAsync(Validators.Kubectl, ["kustomize", overlay], output);
        return (rendered, await ParseAsync(rendered));
    }

    /// <summary>The chart, linted and rendered by Helm 3 and Helm 4 with <paramref name="set"/>; both renderings parsed.</summary>
    public static async Task<List<(string Rendered, List<IKubernetesObject> Objects)>> HelmAsync(string output, string chart, params string[] set)
    {
        var folder = Path.Combine(output, "helm", chart);
        List<(string, List<IKubernetesObject>)> renderings = [];
        foreach (var helm in new[] { Validators.Helm3, Validators.Helm4 })
        {
            await RunAsync(helm, ["lint", "--strict", "."], folder);
            var rendered = await RunAsync(helm, ["template", "release", ".", "--namespace", "test", .. set.SelectMany(s => new[] { "--set", s })], folder);
            renderings.Add((rendered, await ParseAsync(rendered)));
        }
        return renderings;
    }

    /// <summary>An example env file with every empty <c>KEY=</c> given <paramref name="secret"/>, as a user fills it in.</summary>
    private static string FilledExample(string example, string secret) =>
        System.Text.RegularExpressions.Regex.Replace(example, "(?m)^([A-Z0-9_]+)=$", $"$1={secret}");

    private static async Task<List<IKubernetesObject>> ParseAsync(string rendered)
    {
        List<IKubernetesObject> objects = [];
        var custom = new List<string>();
        foreach (var document in rendered.Split("\n---", StringSplitOptions.RemoveEmptyEntries).Where(d => d.Contains("kind:", StringComparison.Ordinal)))
        {
            if (document.Contains("apiVersion: monitoring.coreos.com/", StringComparison.Ordinal) || document.Contains("apiVersion: keda.sh/", StringComparison.Ordinal))
            {
                custom.Add(document);
                continue;
            }
            objects.AddRange(KubernetesYaml.LoadAllFromString(document, strict: true).Cast<IKubernetesObject>());
        }
        if (custom.Count > 0)
        {
            var file = Path.Combine(Path.GetTempPath(), $"custom-{Guid.NewGuid():N}.yaml");
            await File.WriteAllTextAsync(file, string.Join("\n---\n", custom));
            try
            {
                await RunAsync(Validators.ValidateCrds, [file], Path.GetTempPath());
            }
            finally
            {
                File.Delete(file);
            }
        }
        return objects;
    }

    private static async Task<string> RunAsync(string program, string[] arguments, string directory)
    {
        var result = await ProcessRunner.RunAsync(program, arguments, Timeout, workingDirectory: directory);
        Assert.True(result.ExitCode == 0, $"{result.Command}\n{result.Output}");
        return result.StandardOutput;
    }
}

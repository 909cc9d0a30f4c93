using System.Text.RegularExpressions;
using AppHost.Tests.Deployment;
using k8s.Models;
using YamlDotNet.RepresentationModel;

namespace AppHost.Tests.SupplyChain;

/// <summary>
/// The optional admission policy (<c>components/image-signature</c>, <c>imageSignature.enabled</c>): a Sigstore
/// <c>ClusterImagePolicy</c> valid for policy-controller's CRD (scripts/validate-crds.mjs against the vendored
/// definition), naming the worker's image as the output deploys it and admitting only signatures the release
/// workflow made on a version tag; off unless asked for.
/// </summary>
[Collection(SharedDeployment.Name)]
public sealed class AdmissionPolicyTests(GeneratedDeployment generated)
{
    private const string Release = "https://github.com/example/temporal-orders/.github/workflows/release.yml@refs/tags/v1.4.0";

    [Theory]
    [InlineData("overlays/development")]
    [InlineData("overlays/production")]
    public async Task The_kustomize_component_admits_only_the_release_workflows_signatures_on_the_worker_image(string overlay)
    {
        var rendered = await generated.KustomizeAsync(overlay, "image-signature");
        var objects = GeneratedDeployment.ParseStrict(rendered);
        KubernetesPolicy.Check(rendered, objects);
        Assert.Contains("1 ClusterImagePolicy", await GeneratedDeployment.ValidateCustomResourcesAsync(rendered, "ClusterImagePolicy"), StringComparison.Ordinal);

        var policy = Policy(rendered);
        var image = objects.OfType<V1Deployment>().Single(d => d.Name() == "worker").Spec.Template.Spec.Containers[0].Image;
        AssertCovers(policy, image);
        // policy-controller enforces only in namespaces that opt in.
        Assert.Equal("true", Assert.Single(objects.OfType<V1Namespace>()).Metadata.Labels["policy.sigstore.dev/include"]);
    }

    [Fact]
    public async Task Without_the_component_there_is_no_policy()
    {
        var rendered = await generated.KustomizeAsync("overlays/production");
        Assert.DoesNotContain("ClusterImagePolicy", rendered, StringComparison.Ordinal);
        Assert.DoesNotContain("policy.sigstore.dev/include", rendered, StringComparison.Ordinal);
    }

    [Theory]
    [InlineData("3")]
    [InlineData("4")]
    public async Task The_helm_switch_renders_the_policy_for_the_installed_image_and_is_off_by_default(string helm)
    {
        var binary = helm == "3" ? Validators.Helm3 : Validators.Helm4;
        Assert.DoesNotContain("ClusterImagePolicy", await generated.HelmTemplateAsync(binary), StringComparison.Ordinal);

        var rendered = await generated.HelmTemplateAsync(binary, "--set", "imageSignature.enabled=true",
            "--set", "image.repository=ghcr.io/acme/temporal-orders-worker", "--set", "image.tag=1.4.0");
        GeneratedDeployment.ParseStrict(rendered);
        Assert.Contains("1 ClusterImagePolicy", await GeneratedDeployment.ValidateCustomResourcesAsync(rendered, "ClusterImagePolicy"), StringComparison.Ordinal);
        var policy = Policy(rendered);
        Assert.Equal("orders-worker-signature", Scalar(policy, "metadata", "name")); // cluster-wide: named after the release's namespace
        AssertCovers(policy, "ghcr.io/acme/temporal-orders-worker:1.4.0");
    }

    [Fact]
    public async Task The_schema_check_catches_a_misspelled_field()
    {
        var rendered = await generated.KustomizeAsync("overlays/production", "image-signature");
        Assert.Contains("subjectRegExp:", rendered, StringComparison.Ordinal);
        var file = Path.Combine(Path.GetTempPath(), $"policy-{Guid.NewGuid():N}.yaml");
        await File.WriteAllTextAsync(file, rendered.Replace("subjectRegExp:", "subjectRegex:", StringComparison.Ordinal));
        try
        {
            var check = await ProcessRunner.RunAsync(Validators.ValidateCrds, [file], TimeSpan.FromSeconds(60));
            Assert.True(check.ExitCode == 1, check.Output);
            Assert.Contains("spec.authorities[0].keyless.identities[0].subjectRegex: unknown field", check.Output, StringComparison.Ordinal);
        }
        finally
        {
            File.Delete(file);
        }
    }

    /// <summary>
    /// The policy's globs match the image by tag, by digest and both (what a release pins), and not another image of
    /// the registry; its one authority is keyless, GitHub's OIDC issuer, the release workflow on a version tag.
    /// </summary>
    private static void AssertCovers(YamlMappingNode policy, string image)
    {
        var repository = image[..image.LastIndexOf(':')];
        var globs = ((YamlSequenceNode)Node(policy, "spec", "images")).Cast<YamlMappingNode>().Select(g => Scalar(g, "glob")).ToList();
        const string Digest = "sha256:0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef";
        Assert.All([image, $"{repository}@{Digest}", $"{image}@{Digest}"], reference => Assert.Contains(globs, g => Glob(g).IsMatch(reference)));
        Assert.DoesNotContain(globs, g => Glob(g).IsMatch($"{repository}-debug:1.0.0") || Glob(g).IsMatch("docker.io/library/busybox:1.37.0"));

        var authority = Assert.Single(((YamlSequenceNode)Node(policy, "spec", "authorities")).Cast<YamlMappingNode>());
        var identity = Assert.Single(((YamlSequenceNode)Node(authority, "keyless", "identities")).Cast<YamlMappingNode>());
        Assert.Equal("https://token.actions.githubusercontent.com", Scalar(identity, "issuer"));
        var subject = new Regex(Scalar(identity, "subjectRegExp"));
        Assert.Matches(subject, Release);
        Assert.Matches(subject, Release.Replace("v1.4.0", "v1.4.0-rc.1", StringComparison.Ordinal));
        Assert.DoesNotMatch(subject, Release.Replace("refs/tags/v1.4.0", "refs/heads/main", StringComparison.Ordinal));
        Assert.DoesNotMatch(subject, Release.Replace("release.yml", "ci.yml", StringComparison.Ordinal));
        Assert.DoesNotMatch(subject, Release.Replace("example/temporal-orders", "fork/temporal-orders", StringComparison.Ordinal));
        Assert.Equal("enforce", Scalar(policy, "spec", "mode"));
    }

    /// <summary>policy-controller's glob: <c>*</c> within a path segment, <c>**</c> across them.</summary>
    private static Regex Glob(string glob) =>
        new($"^{Regex.Escape(glob).Replace(@"\*\*", ".*", StringComparison.Ordinal).Replace(@"\*", "[^/]*", StringComparison.Ordinal)}$");

    private static YamlMappingNode Policy(string rendered)
    {
        var document = Assert.Single(GeneratedDeployment.Documents(rendered), d => GeneratedDeployment.KindOf(d) == "ClusterImagePolicy");
        var stream = new YamlStream();
        stream.Load(new StringReader(document));
        return (YamlMappingNode)stream.Documents[0].RootNode;
    }

    private static YamlNode Node(YamlMappingNode node, params string[] path) =>
        path.Aggregate((YamlNode)node, (n, key) => ((YamlMappingNode)n).Children[new YamlScalarNode(key)]);

    private static string Scalar(YamlMappingNode node, params string[] path) => ((YamlScalarNode)Node(node, path)).Value!;
}

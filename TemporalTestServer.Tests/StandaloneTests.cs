using Temporalio.Client;

namespace TemporalTestServer.Tests;

public sealed class StandaloneTests
{
    [Fact]
    public async Task Standalone_server_says_it_is_a_test_server_and_serves_the_sdk()
    {
        var port = Loopback.FreePort();
        using var process = Start("--port", port.ToString(System.Globalization.CultureInfo.InvariantCulture), "--namespace", "shop");

        var firstLine = await process.FirstOutputLineAsync(TimeSpan.FromSeconds(30));

        Assert.Contains("not Temporal", firstLine, StringComparison.Ordinal);
        Assert.Contains($"127.0.0.1:{port}", firstLine, StringComparison.Ordinal);
        var client = await TemporalClient.ConnectAsync(new($"127.0.0.1:{port}") { Namespace = "shop" });
        var ns = await client.WorkflowService.DescribeNamespaceAsync(new() { Namespace = "shop" });
        Assert.Equal("shop", ns.NamespaceInfo.Name);
    }

    [Fact]
    public async Task Unknown_argument_is_refused_with_usage()
    {
        using var process = Start("--bogus");

        var exitCode = await process.WaitForExitAsync(TimeSpan.FromSeconds(30));

        Assert.Equal(2, exitCode);
        Assert.Contains("Usage", process.StandardError, StringComparison.Ordinal);
    }

    private static ProcessRunner Start(params string[] args) =>
        ProcessRunner.Start("dotnet", [Path.Combine(AppContext.BaseDirectory, "TemporalTestServer.dll"), .. args]);
}

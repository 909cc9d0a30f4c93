using System.Diagnostics;
using System.Net;
using System.Net.Sockets;
using Temporalio.Client;

namespace TemporalTestServer.Tests;

public sealed class StandaloneTests
{
    [Fact]
    public async Task Standalone_server_says_it_is_a_test_server_and_serves_the_sdk()
    {
        var port = FreePort();
        using var process = Start("--port", port.ToString(System.Globalization.CultureInfo.InvariantCulture), "--namespace", "shop");
        try
        {
            var firstLine = await process.StandardOutput.ReadLineAsync().WaitAsync(TimeSpan.FromSeconds(30));

            Assert.Contains("not Temporal", firstLine, StringComparison.Ordinal);
            Assert.Contains($"127.0.0.1:{port}", firstLine, StringComparison.Ordinal);
            var client = await TemporalClient.ConnectAsync(new($"127.0.0.1:{port}") { Namespace = "shop" });
            var ns = await client.WorkflowService.DescribeNamespaceAsync(new() { Namespace = "shop" });
            Assert.Equal("shop", ns.NamespaceInfo.Name);
        }
        finally
        {
            process.Kill();
        }
    }

    [Fact]
    public async Task Unknown_argument_is_refused_with_usage()
    {
        using var process = Start("--bogus");

        var error = await process.StandardError.ReadToEndAsync();
        await process.WaitForExitAsync();

        Assert.Equal(2, process.ExitCode);
        Assert.Contains("Usage", error, StringComparison.Ordinal);
    }

    private static Process Start(params string[] args)
    {
        var info = new ProcessStartInfo("dotnet") { RedirectStandardOutput = true, RedirectStandardError = true };
        info.ArgumentList.Add(Path.Combine(AppContext.BaseDirectory, "TemporalTestServer.dll"));
        foreach (var arg in args)
        {
            info.ArgumentList.Add(arg);
        }
        return Process.Start(info)!;
    }

    private static int FreePort()
    {
        using var listener = new TcpListener(IPAddress.Loopback, 0);
        listener.Start();
        return ((IPEndPoint)listener.LocalEndpoint).Port;
    }
}

using System.Net.Sockets;
using System.Text.RegularExpressions;

namespace AppHost.Tests;

/// <summary>
/// The README's first run, as a new user does it: its run command in a terminal, its first-order commands in
/// another, Ctrl+C. The commands are read from the README, so a README that drifts from the system fails here.
/// </summary>
[Collection(nameof(StartTests))] // never beside another AppHost start: this one uses the README's fixed ports
public sealed partial class FirstRunTests
{
    private static readonly TimeSpan StartTimeout = TimeSpan.FromMinutes(3);

    [Fact]
    public async Task The_readme_run_command_serves_the_readme_first_order_to_completion_and_ctrl_c_leaves_nothing_running()
    {
        var readme = MarkdownDocument.Load(Repository.PathOf("README.md"));
        var run = Assert.Single(readme.CodeBlocks("Run")).Trim();
        var firstOrder = Assert.Single(readme.CodeBlocks("The first order"));
        var worker = new Uri($"http://{WorkerAddress().Match(firstOrder).Value}");
        Assert.False(Answers(worker), $"Something already listens on {worker}: stop it, the README's run uses that port.");
        var key = $"first-run-{Guid.NewGuid():N}";
        var state = LocalProcesses.CreateStateDirectory();
        // Process mode, whatever this machine has: the mode this machine can run. The passwords are given so that the
        // run writes nothing into the user secrets of whoever runs the tests.
        string[] settings =
        [
            "--Stack:Mode=processes", $"--Stack:StateDirectory={state.FullName}", $"--Parameters:api-key={key}",
            $"--Parameters:approver-api-key={Guid.NewGuid():N}",
            $"--Parameters:postgres-password={Guid.NewGuid():N}", $"--Parameters:redis-password={Guid.NewGuid():N}",
            $"--Parameters:payload-key-k1={Guid.NewGuid():N}",
        ];

        using (var apphost = ProcessRunner.Start("setsid", ["bash", "-c", $"exec {run} -- {string.Join(' ', settings)}"],
                   workingDirectory: Repository.Root))
        {
            await WaitUntilHealthyAsync(apphost, new Uri(worker, "/health"));

            var placed = await RunAsync(KeyLine().Replace(firstOrder, $"KEY='{key}'"));
            Assert.Contains("\"orderId\":\"o-1\"", placed, StringComparison.Ordinal);

            // The README's last command promises what its comment quotes, "a moment later".
            var lines = firstOrder.Split('\n', StringSplitOptions.RemoveEmptyEntries);
            var promised = PromisedOutput().Match(lines[^1]).Groups[1].Value;
            Assert.NotEmpty(promised);
            var follow = $"KEY='{key}'\n{lines[^1]}";
            var deadline = DateTime.UtcNow + TimeSpan.FromSeconds(60);
            var status = "";
            while (!status.Contains(promised, StringComparison.Ordinal) && DateTime.UtcNow < deadline)
            {
                await Task.Delay(250);
                status = await RunAsync(follow);
            }
            Assert.Contains(promised, status, StringComparison.Ordinal);

            apphost.InterruptGroup();
            Assert.Equal(0, await apphost.WaitForExitAsync(TimeSpan.FromSeconds(60)));
        }

        // The AppHost may exit while the orchestrator (DCP) is still stopping its processes: the worker drains its
        // Temporal polls first (Temporal:GracefulShutdownTimeout, 30 s at most). Nothing may be left after that.
        var deadlineForChildren = DateTime.UtcNow + TimeSpan.FromSeconds(45);
        while ((Answers(worker) || LocalProcesses.CommandLinesContaining(state.FullName).Count > 0) && DateTime.UtcNow < deadlineForChildren)
        {
            await Task.Delay(100);
        }
        Assert.False(Answers(worker), $"{worker} still answers after Ctrl+C");
        Assert.Empty(LocalProcesses.CommandLinesContaining(state.FullName));
        state.Delete(recursive: true);
    }

    private static async Task WaitUntilHealthyAsync(ProcessRunner apphost, Uri health)
    {
        using var http = new HttpClient { Timeout = TimeSpan.FromSeconds(5) };
        var deadline = DateTime.UtcNow + StartTimeout;
        while (DateTime.UtcNow < deadline)
        {
            Assert.False(apphost.HasExited, $"The AppHost exited with {(apphost.HasExited ? apphost.ExitCode : 0)}:\n{apphost.StandardOutput}{apphost.StandardError}");
            try
            {
                if ((await http.GetAsync(health)).IsSuccessStatusCode)
                {
                    return;
                }
            }
            catch (HttpRequestException)
            {
                // not listening yet
            }
            catch (TaskCanceledException)
            {
                // listening, not answering yet
            }
            await Task.Delay(500);
        }
        Assert.Fail($"{health} was not healthy within {StartTimeout}:\n{apphost.StandardOutput}{apphost.StandardError}");
    }

    /// <summary>Runs README commands as a user's shell would, stopping at the first that fails; returns their output.</summary>
    private static async Task<string> RunAsync(string commands)
    {
        var result = await ProcessRunner.RunAsync("bash", ["-euo", "pipefail", "-c", commands], TimeSpan.FromSeconds(60));
        Assert.True(result.ExitCode == 0, $"{commands}\nexited {result.ExitCode}: {result.Output}");
        return result.StandardOutput;
    }

    private static bool Answers(Uri endpoint)
    {
        try
        {
            using var client = new TcpClient();
            client.Connect(endpoint.Host, endpoint.Port);
            return true;
        }
        catch (SocketException)
        {
            return false;
        }
    }

    [GeneratedRegex(@"localhost:\d+")]
    private static partial Regex WorkerAddress();

    [GeneratedRegex(@"^KEY=.*$", RegexOptions.Multiline)]
    private static partial Regex KeyLine();

    // curl … # "status":"Completed" a moment later
    [GeneratedRegex(@"#\s*(""[^""]+"":""[^""]+"")")]
    private static partial Regex PromisedOutput();
}

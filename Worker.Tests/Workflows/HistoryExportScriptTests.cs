using Worker.Tests.EndToEnd;

namespace Worker.Tests.Workflows;

/// <summary>
/// scripts/export-histories.sh against a stand-in for the Temporal CLI that answers as the real one does (a listing,
/// then each history as `workflow show --output json`): what it asks the cluster for, what it writes, and that what it
/// writes replays.
/// </summary>
public sealed class HistoryExportScriptTests : IDisposable
{
    private readonly DirectoryInfo folder = Directory.CreateTempSubdirectory("history-export-");

    private string Out => Path.Combine(folder.FullName, "out");

    private string CallLog => Path.Combine(folder.FullName, "calls");

    [Fact]
    public async Task It_exports_the_recent_order_histories_named_by_workflow_id_and_they_replay()
    {
        var cli = StubCli(
            listing: """[{"execution":{"workflowId":"order-a","runId":"r1"}},{"execution":{"workflowId":"order-b","runId":"r2"}},{"execution":{"workflowId":"order-gone","runId":"r3"}},{"execution":{"workflowId":"../escape","runId":"r4"}}]""",
            histories: new() { ["order-a"] = "happy-path.json", ["order-b"] = "approved.json" });

        var (exitCode, output) = await RunAsync(cli, ("LIMIT", "5"), ("MAX_AGE_HOURS", "24"));

        Assert.True(exitCode == 0, output);
        Assert.Equal(["order-a.json", "order-b.json"], Directory.GetFiles(Out).Select(Path.GetFileName).Order(StringComparer.Ordinal));
        var calls = await File.ReadAllLinesAsync(CallLog);
        Assert.Matches("""^workflow list --query WorkflowType="OrderWorkflow" AND StartTime > "\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ" --limit 5 --output json$""", calls[0]);
        Assert.Contains("workflow show --workflow-id order-a --run-id r1 --output json", calls);
        Assert.DoesNotContain(calls, c => c.Contains("escape", StringComparison.Ordinal)); // never a path out of the folder
        Assert.Contains("skipping order-gone", output, StringComparison.Ordinal);
        Assert.Contains("Exported 2 of 4", output, StringComparison.Ordinal);
        foreach (var file in Directory.GetFiles(Out))
        {
            Assert.Null(await CommittedHistoryReplayTests.ReplayFailureAsync(file));
        }
    }

    [Fact]
    public async Task Without_the_cli_or_with_bad_settings_it_stops_saying_why_and_writes_nothing()
    {
        var missing = await RunAsync(Path.Combine(folder.FullName, "no-such-temporal"));
        var badLimit = await RunAsync(StubCli("[]", []), ("LIMIT", "all"));

        Assert.NotEqual(0, missing.ExitCode);
        Assert.Contains("is not on PATH", missing.Output, StringComparison.Ordinal);
        Assert.NotEqual(0, badLimit.ExitCode);
        Assert.Contains("LIMIT must be a positive number", badLimit.Output, StringComparison.Ordinal);
        Assert.False(Directory.Exists(Out));
    }

    public void Dispose() => folder.Delete(recursive: true);

    /// <summary>A `temporal` that logs its arguments, lists <paramref name="listing"/>, and shows committed histories by workflow id.</summary>
    private string StubCli(string listing, Dictionary<string, string> histories)
    {
        var cases = string.Join('\n', histories.Select(h => $"      {h.Key}) cat '{Path.Combine(HistoryExport.CommittedFolder, h.Value)}' ;;"));
        var path = Path.Combine(folder.FullName, "temporal");
        File.WriteAllText(path, $$"""
            #!/usr/bin/env bash
            echo "$*" >> '{{CallLog}}'
            case "$1 $2" in
              "workflow list") echo '{{listing}}' ;;
              "workflow show")
                case "$4" in
            {{cases}}
                  *) echo "workflow not found" >&2; exit 1 ;;
                esac ;;
              *) exit 2 ;;
            esac
            """);
        return $"bash {path}"; // a command line, as TEMPORAL_CLI takes one
    }

    private async Task<ProcessResult> RunAsync(string cli, params (string Name, string Value)[] settings) =>
        await ProcessRunner.RunAsync("bash", [Repository.PathOf("scripts", "export-histories.sh"), Out], TimeSpan.FromSeconds(60),
            new Dictionary<string, string?>(settings.Select(s => KeyValuePair.Create(s.Name, (string?)s.Value))) { ["TEMPORAL_CLI"] = cli });
}

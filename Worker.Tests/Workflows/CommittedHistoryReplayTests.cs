using Temporalio.Common;
using Temporalio.Worker;
using Worker.Orders;
using Worker.Tests.EndToEnd;

namespace Worker.Tests.Workflows;

/// <summary>
/// The deploy guard: every committed workflow history (exported by the end-to-end tests, or from a real
/// cluster with <c>temporal workflow show --output json</c>) must replay against the current workflow code.
/// A change that would break running workflows fails here, before it reaches a cluster.
/// </summary>
public sealed class CommittedHistoryReplayTests
{
    public static TheoryData<string> CommittedHistories()
    {
        var data = new TheoryData<string>();
        foreach (var file in Directory.EnumerateFiles(HistoryExport.CommittedFolder, "*.json").Order(StringComparer.Ordinal))
        {
            data.Add(Path.GetFileName(file));
        }
        return data;
    }

    [Fact]
    public void Histories_are_committed()
    {
        Assert.True(CommittedHistories().Count >= 5, $"expected the end-to-end histories in {HistoryExport.CommittedFolder}");
    }

    [Theory]
    [MemberData(nameof(CommittedHistories))]
    public async Task Committed_history_replays_against_the_current_workflow(string file)
    {
        var json = await File.ReadAllTextAsync(Path.Combine(HistoryExport.CommittedFolder, file));
        var history = WorkflowHistory.FromJson(Path.GetFileNameWithoutExtension(file), json);
        var replayer = new WorkflowReplayer(new WorkflowReplayerOptions().AddWorkflow<OrderWorkflow>());

        var result = await replayer.ReplayWorkflowAsync(history);

        Assert.Null(result.ReplayFailure);
    }
}

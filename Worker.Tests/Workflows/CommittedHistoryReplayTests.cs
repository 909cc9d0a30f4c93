using Temporalio.Common;
using Temporalio.Worker;
using Worker.Tests.EndToEnd;
using Codecs = Worker.Tests.Codec;

namespace Worker.Tests.Workflows;

/// <summary>
/// The deploy guard: every committed workflow history (exported by the end-to-end tests, or from a real
/// cluster with <c>temporal workflow show --output json</c>) must replay against the current workflow code.
/// A change that would break running workflows fails here, before it reaches a cluster. Histories written
/// by earlier versions of the workflow stay, in a folder named after the patch that followed them
/// (<c>before-cancel-safe-saga/</c>), so the old code path is guarded as long as it exists.
/// </summary>
public sealed class CommittedHistoryReplayTests
{
    /// <summary>Paths relative to the committed folder: the current histories and the older ones in subfolders.</summary>
    public static TheoryData<string> CommittedHistories() => Histories(SearchOption.AllDirectories);

    /// <summary>The histories written by the current workflow (the top folder).</summary>
    public static TheoryData<string> CurrentHistories() => Histories(SearchOption.TopDirectoryOnly);

    [Fact]
    public void Histories_are_committed()
    {
        Assert.True(CurrentHistories().Count >= 5, $"expected the end-to-end histories in {HistoryExport.CommittedFolder}");
        Assert.True(CommittedHistories().Count > CurrentHistories().Count, "expected the histories of earlier versions in subfolders");
    }

    [Theory]
    [MemberData(nameof(CurrentHistories))]
    public async Task Current_history_holds_no_payment_token(string file)
    {
        // Every payload of every event, decoded: the token must not be in the input, an activity's input or anywhere else.
        var json = await File.ReadAllTextAsync(Path.Combine(HistoryExport.CommittedFolder, file));
        var history = WorkflowHistory.FromJson(Path.GetFileNameWithoutExtension(file), json);
        var decoded = string.Join('\n', history.Events.SelectMany(Payloads).Select(p => p.Data.ToStringUtf8()));

        Assert.Contains("OrderId", decoded, StringComparison.Ordinal);
        Assert.DoesNotContain("tok_", decoded, StringComparison.Ordinal);
    }

    /// <summary>
    /// The committed histories, and those exported from a cluster into the folder <c>REPLAY_HISTORIES</c> names, when
    /// it is set (scripts/export-histories.sh; the release replays a cluster's recent histories this way).
    /// </summary>
    public static TheoryData<string> HistoriesToReplay()
    {
        var data = CommittedHistories();
        if (Environment.GetEnvironmentVariable("REPLAY_HISTORIES") is { Length: > 0 } exported)
        {
            foreach (var file in Directory.EnumerateFiles(exported, "*.json").Order(StringComparer.Ordinal))
            {
                data.Add(Path.GetFullPath(file));
            }
        }
        return data;
    }

    [Theory]
    [MemberData(nameof(HistoriesToReplay))]
    public async Task History_replays_against_the_current_workflow(string file)
    {
        Assert.Null(await ReplayFailureAsync(Path.Combine(HistoryExport.CommittedFolder, file))); // a full path stays as it is
    }

    /// <summary>Replays a history file named after its workflow; null when it replays, else why not.</summary>
    public static async Task<Exception?> ReplayFailureAsync(string path)
    {
        var history = WorkflowHistory.FromJson(Path.GetFileNameWithoutExtension(path), await File.ReadAllTextAsync(path));
        var replayer = new WorkflowReplayer(new WorkflowReplayerOptions().AddWorkflow<OrderWorkflow>());
        return (await replayer.ReplayWorkflowAsync(history)).ReplayFailure;
    }

    private static TheoryData<string> Histories(SearchOption depth)
    {
        var data = new TheoryData<string>();
        foreach (var file in Directory.EnumerateFiles(HistoryExport.CommittedFolder, "*.json", depth)
                     .Select(f => Path.GetRelativePath(HistoryExport.CommittedFolder, f))
                     .Where(f => !f.StartsWith("latest", StringComparison.Ordinal))
                     .Order(StringComparer.Ordinal))
        {
            data.Add(file);
        }
        return data;
    }

    /// <summary>
    /// Committed histories hold payloads written without the codec: a worker with encryption on still replays them
    /// (they pass through decoding unchanged).
    /// </summary>
    [Theory]
    [MemberData(nameof(CommittedHistories))]
    public async Task History_replays_with_encryption_on(string file)
    {
        var path = Path.Combine(HistoryExport.CommittedFolder, file);
        var history = WorkflowHistory.FromJson(Path.GetFileNameWithoutExtension(path), await File.ReadAllTextAsync(path));
        var codec = Codecs.AesGcmPayloadCodecTests.Codec("k1", ("k1", Codecs.AesGcmPayloadCodecTests.Secret1));
        var options = new WorkflowReplayerOptions { DataConverter = Worker.Temporal.Codec.PayloadEncryptionSettings.CreateDataConverter(codec) };
        var replayer = new WorkflowReplayer(options.AddWorkflow<OrderWorkflow>());

        Assert.Null((await replayer.ReplayWorkflowAsync(history, throwOnReplayFailure: false)).ReplayFailure);
    }

    /// <summary>Payloads sit at every depth of an event (inputs, results, details, headers, markers): walks the message.</summary>
    public static IEnumerable<Temporalio.Api.Common.V1.Payload> Payloads(Google.Protobuf.IMessage message)
    {
        foreach (var field in message.Descriptor.Fields.InFieldNumberOrder())
        {
            var value = field.Accessor.GetValue(message);
            var items = field.IsMap ? ((System.Collections.IDictionary)value).Values.Cast<object>()
                : field.IsRepeated ? ((System.Collections.IEnumerable)value).Cast<object>()
                : [value];
            foreach (var item in items)
            {
                if (item is Temporalio.Api.Common.V1.Payload payload)
                {
                    yield return payload;
                }
                else if (item is Google.Protobuf.IMessage nested)
                {
                    foreach (var inner in Payloads(nested))
                    {
                        yield return inner;
                    }
                }
            }
        }
    }
}

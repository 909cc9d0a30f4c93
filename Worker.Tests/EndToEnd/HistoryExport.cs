using Temporalio.Common;

namespace Worker.Tests.EndToEnd;

/// <summary>
/// Workflow histories produced by the end-to-end tests. Each run writes them to <c>Histories/latest/</c>
/// (ignored by git); with <c>REFRESH_HISTORIES=1</c> they replace the committed ones in <c>Histories/</c>,
/// which the replay test checks against the current workflow code before every deploy.
/// </summary>
public static class HistoryExport
{
    public static string CommittedFolder => Repository.PathOf("Worker.Tests", "Histories");

    public static string LatestFolder => Path.Combine(CommittedFolder, "latest");

    public static async Task SaveAsync(string scenario, WorkflowHistory history)
    {
        ArgumentNullException.ThrowIfNull(history);
        var folder = Environment.GetEnvironmentVariable("REFRESH_HISTORIES") == "1" ? CommittedFolder : LatestFolder;
        Directory.CreateDirectory(folder);
        await File.WriteAllTextAsync(Path.Combine(folder, $"{scenario}.json"), history.ToJson());
    }
}

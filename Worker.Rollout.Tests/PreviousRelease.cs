namespace Worker.Rollout.Tests;

/// <summary>
/// The previous release's worker, built from git at the commit <c>previous-release</c> names, once per commit
/// (cached under <c>~/.cache/temporal-orders/releases</c>, or <c>TEMPORAL_ORDERS_RELEASES</c>).
/// </summary>
public sealed class PreviousRelease : IAsyncLifetime
{
    private static readonly TimeSpan BuildTimeout = TimeSpan.FromMinutes(5);

    /// <summary>The commit it was built from.</summary>
    public string Commit { get; } = ReadCommit();

    /// <summary>Its <c>Worker.dll</c>.</summary>
    public string WorkerDll => Path.Combine(Folder, "bin", "Worker.dll");

    private string Folder => Path.Combine(
        Environment.GetEnvironmentVariable("TEMPORAL_ORDERS_RELEASES") is { Length: > 0 } cache ? cache
            : Path.Combine(Environment.GetFolderPath(Environment.SpecialFolder.UserProfile), ".cache", "temporal-orders", "releases"),
        Commit);

    public async Task InitializeAsync()
    {
        if (File.Exists(WorkerDll))
        {
            return;
        }
        var known = await ProcessRunner.RunAsync("git", ["-C", Repository.Root, "cat-file", "-e", $"{Commit}^{{commit}}"], TimeSpan.FromSeconds(30));
        if (known.ExitCode != 0)
        {
            throw new InvalidOperationException(
                $"This checkout lacks commit {Commit}, the previous release (Worker.Rollout.Tests/previous-release): a shallow clone? "
                + "Run `git fetch --unshallow` (CI: actions/checkout with fetch-depth: 0).");
        }
        var source = Path.Combine(Folder, "src");
        if (Directory.Exists(source))
        {
            Directory.Delete(source, recursive: true);
        }
        Directory.CreateDirectory(source);
        (await ProcessRunner.RunAsync("bash", ["-c", "git -C \"$0\" archive \"$1\" | tar -x -C \"$2\"", Repository.Root, Commit, source],
            TimeSpan.FromMinutes(1))).EnsureSuccess();
        // Into a folder of its own, then moved: an interrupted build never looks like a finished one.
        var building = Path.Combine(Folder, "bin.partial");
        (await ProcessRunner.RunAsync("dotnet",
            ["build", Path.Combine(source, "Worker", "Worker.csproj"), "-c", "Release", "-o", building, "--nologo", "-v", "q"],
            BuildTimeout)).EnsureSuccess();
        var bin = Path.GetDirectoryName(WorkerDll)!;
        if (Directory.Exists(bin))
        {
            Directory.Delete(bin, recursive: true);
        }
        Directory.Move(building, bin);
    }

    public Task DisposeAsync() => Task.CompletedTask;

    private static string ReadCommit() =>
        File.ReadLines(Repository.PathOf("Worker.Rollout.Tests", "previous-release"))
            .Select(l => l.Trim())
            .First(l => l.Length > 0 && !l.StartsWith('#'))
            .Split(' ')[0];
}

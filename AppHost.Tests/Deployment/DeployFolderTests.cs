namespace AppHost.Tests.Deployment;

/// <summary>The committed <c>deploy/</c> is what the model generates, and no secret value reaches a generated file.</summary>
[Collection(SharedDeployment.Name)]
public sealed class DeployFolderTests(GeneratedDeployment generated)
{
    [Fact]
    public void Committed_deploy_folder_equals_a_fresh_generation()
    {
        var committed = Path.Combine(Repository.Root, "deploy");
        foreach (var folder in Aspire.Hosting.Deployment.DeploymentArtifacts.OwnedFolders)
        {
            var fresh = Files(Path.Combine(generated.Root, folder));
            var kept = Files(Path.Combine(committed, folder));
            Assert.True(fresh.Keys.SequenceEqual(kept.Keys),
                $"deploy/{folder} has other files than a fresh generation: regenerate it (docs/deployment.md).\n"
                + $"only committed: {string.Join(", ", kept.Keys.Except(fresh.Keys))}\nonly generated: {string.Join(", ", fresh.Keys.Except(kept.Keys))}");
            foreach (var (path, contents) in fresh)
            {
                Assert.True(contents == kept[path], $"deploy/{folder}/{path} differs from a fresh generation: regenerate it (docs/deployment.md).");
            }
        }
    }

    [Fact]
    public void No_secret_value_given_to_the_model_reaches_a_generated_file()
    {
        var files = Aspire.Hosting.Deployment.DeploymentArtifacts.OwnedFolders.SelectMany(f => Files(Path.Combine(generated.Root, f))).ToList();
        Assert.NotEmpty(files);
        foreach (var (path, contents) in files.Where(f => !f.Key.EndsWith("secrets.env", StringComparison.Ordinal) && !f.Key.EndsWith(".env", StringComparison.Ordinal)))
        {
            foreach (var sentinel in GeneratedDeployment.SecretSentinels.Values)
            {
                Assert.False(contents.Contains(sentinel, StringComparison.Ordinal), $"{path} holds a secret value");
            }
        }
    }

    /// <summary>Files by path relative to <paramref name="root"/>, excluding the secrets files users make from the examples.</summary>
    private static SortedDictionary<string, string> Files(string root) => new(
        Directory.EnumerateFiles(root, "*", SearchOption.AllDirectories)
            .Where(f => Path.GetFileName(f) is not (".env" or "secrets.env"))
            .ToDictionary(f => Path.GetRelativePath(root, f).Replace('\\', '/'), File.ReadAllText),
        StringComparer.Ordinal);
}

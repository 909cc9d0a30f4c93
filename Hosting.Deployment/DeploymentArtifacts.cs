using Aspire.Hosting.ApplicationModel;
using Aspire.Hosting.Deployment.Compose;
using Aspire.Hosting.Deployment.Helm;
using Aspire.Hosting.Deployment.Kubernetes;
using Aspire.Hosting.Deployment.Planning;

namespace Aspire.Hosting.Deployment;

/// <summary>Generates every output from the model, in memory first: an error leaves the output folder as it was.</summary>
public static class DeploymentArtifacts
{
    /// <summary>The folders the generator owns in the output path; anything else there (observability, notes) is left alone.</summary>
    public static IReadOnlyList<string> OwnedFolders { get; } = ["compose", "kubernetes", "helm"];

    /// <summary>All output files by relative path ('/'-separated), from the model in publish mode.</summary>
    public static async Task<IReadOnlyDictionary<string, string>> GenerateAsync(
        DistributedApplicationModel model, DeploymentOptions options, DistributedApplicationExecutionContext publish, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(options);
        var plan = await PlanReader.ReadAsync(model, options, publish, cancellationToken);
        var files = new SortedDictionary<string, string>(StringComparer.Ordinal);
        var cluster = plan.ForKubernetes();
        foreach (var (path, contents) in ComposeWriter.Write(plan, options)
            .Concat(KustomizeWriter.Write(cluster, options))
            .Concat(HelmWriter.Write(cluster, options)))
        {
            files.Add(path, contents);
        }
        return files;
    }

    /// <summary>Replaces the owned folders of <paramref name="outputPath"/> with a fresh generation; returns the number of files.</summary>
    public static async Task<int> WriteAsync(
        DistributedApplicationModel model, DeploymentOptions options, DistributedApplicationExecutionContext publish, string outputPath, CancellationToken cancellationToken = default)
    {
        var files = await GenerateAsync(model, options, publish, cancellationToken);
        foreach (var folder in OwnedFolders.Select(f => Path.Combine(outputPath, f)).Where(Directory.Exists))
        {
            Directory.Delete(folder, recursive: true);
        }
        foreach (var (path, contents) in files)
        {
            var target = Path.Combine(outputPath, path);
            Directory.CreateDirectory(Path.GetDirectoryName(target)!);
            await File.WriteAllTextAsync(target, contents, cancellationToken);
        }
        return files.Count;
    }
}

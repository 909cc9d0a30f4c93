using Microsoft.Extensions.DependencyInjection;

namespace Hosting.Deployment.Tests;

/// <summary>A model of the test's own, built in publish mode as <c>aspire publish</c> builds one, and generated from.</summary>
internal sealed class PublishModel : IDisposable
{
    private DistributedApplication? app;

    public PublishModel() => Builder = DistributedApplication.CreateBuilder(["--operation", "publish", "--step", DeploymentBuilderExtensions.StepName]);

    public IDistributedApplicationBuilder Builder { get; }

    public Task<IReadOnlyDictionary<string, string>> GenerateAsync() => DeploymentArtifacts.GenerateAsync(Model(), new DeploymentOptions { Name = "shop" }, Context());

    public Task<int> WriteAsync(string output) => DeploymentArtifacts.WriteAsync(Model(), new DeploymentOptions { Name = "shop" }, Context(), output);

    /// <summary>Writes the outputs into a new temporary folder, returned (the caller deletes it).</summary>
    public async Task<string> WriteToTemporaryFolderAsync()
    {
        var output = Directory.CreateTempSubdirectory("deploy-").FullName;
        await WriteAsync(output);
        return output;
    }

    private DistributedApplicationModel Model() => (app ??= Builder.Build()).Services.GetRequiredService<DistributedApplicationModel>();

    private DistributedApplicationExecutionContext Context() => (app ??= Builder.Build()).Services.GetRequiredService<DistributedApplicationExecutionContext>();

    public void Dispose() => (app as IDisposable)?.Dispose();
}

using Aspire.Hosting.ApplicationModel;
using Aspire.Hosting.Deployment;
using Aspire.Hosting.Pipelines;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;

namespace Aspire.Hosting;

/// <summary>Deployment settings on resources, and the pipeline step that writes Compose, Kustomize and Helm from the model.</summary>
public static class DeploymentBuilderExtensions
{
    /// <summary>The pipeline step's name: <c>aspire do deployment-artifacts</c>; <c>aspire publish</c> runs it too.</summary>
    public const string StepName = "deployment-artifacts";

    /// <summary>Sets what the resource needs when deployed (replicas, compute, probes, user); calls add up.</summary>
    public static IResourceBuilder<T> WithDeployment<T>(this IResourceBuilder<T> builder, Action<DeploymentBuilder> configure)
        where T : IResource
    {
        ArgumentNullException.ThrowIfNull(builder);
        ArgumentNullException.ThrowIfNull(configure);
        if (!builder.Resource.TryGetLastAnnotation<DeploymentAnnotation>(out var annotation))
        {
            builder.WithAnnotation(annotation = new DeploymentAnnotation());
        }
        configure(new DeploymentBuilder(annotation));
        return builder;
    }

    /// <summary>
    /// Adds the publish step that writes <c>compose/</c>, <c>kubernetes/</c> and <c>helm/</c> into the output path
    /// (<c>aspire publish -o deploy</c>, or <c>dotnet run --project AppHost -- --operation publish --step publish --output-path ../deploy</c>).
    /// Options come from the <c>Deployment</c> configuration section, then <paramref name="configure"/>.
    /// </summary>
    public static IDistributedApplicationBuilder AddDeploymentArtifacts(this IDistributedApplicationBuilder builder, Action<DeploymentOptions>? configure = null)
    {
        ArgumentNullException.ThrowIfNull(builder);
        var options = new DeploymentOptions();
        builder.Configuration.GetSection("Deployment").Bind(options);
        configure?.Invoke(options);
        builder.Pipeline.AddStep(StepName, async context =>
        {
            var output = context.Services.GetRequiredService<IPipelineOutputService>().GetOutputDirectory();
            var written = await DeploymentArtifacts.WriteAsync(context.Model, options, context.ExecutionContext, output, context.CancellationToken);
            context.Summary.Add("Deployment artifacts", $"{written} files in {output}");
        }, requiredBy: WellKnownPipelineSteps.Publish);
        return builder;
    }
}

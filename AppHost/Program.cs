using AppHost;
using Aspire.Hosting.ApplicationModel;
using Microsoft.Extensions.Configuration;

// The whole system, top to bottom: infrastructure first, then the worker. Each dependency runs in a
// container, or as a local process where no container engine answers, unless configuration points at an
// existing one (docs/run-locally.md).
var builder = DistributedApplication.CreateBuilder(args).HintWithoutTrustedDevelopmentCertificate();

var stack = Stack.Choose(builder);
var appDb = stack.AddAppDatabase();
var temporal = stack.AddTemporal();
var cache = stack.AddOptionalCache();

builder.AddProject<Projects.Worker>("worker")
    .RunFromBuildOutput()
    .WithReferenceEnvironment(ReferenceEnvironmentInjectionFlags.ConnectionString) // no password copies in *_URI variables
    .WithDependency(appDb)
    .WithDependency(temporal)
    .WithDependency(cache)
    .WithEncryptionInTransit(stack)
    .WithTemporalAuthorization(stack)
    .WithExistingTemporalSettings()
    .WithApiSecrets()
    .WithPayloadEncryption(temporal)
    .WithHttpHealthCheck("/health")
    .WithExternalHttpEndpoints()
    .WithReplicas(builder.Configuration.GetValue("Worker:Replicas", 2))
    .WithWorkerDeployment(appDb, temporal)
    .WithVersioningForCompose(temporal)
    .WithTelemetryViewerForCompose();

// `dotnet run --project AppHost -- --operation publish --step deployment-artifacts --output-path ../deploy` (or `aspire publish`)
// writes Docker Compose, Kustomize and the Helm chart from this model (docs/deployment.md).
builder.AddDeploymentArtifacts(o =>
{
    o.Name = "temporal-orders";
    o.ChartKeywords = ["temporal", "aspire", "dotnet"];
    o.AlertRules = Stack.EmbeddedText("alerts.yaml");
});

try
{
    await builder.Build().RunAsync();
    return 0;
}
catch (StackUnavailableException e)
{
    await Console.Error.WriteLineAsync(e.Message);
    return 1;
}

using AppHost;
using Aspire.Hosting.ApplicationModel;
using Microsoft.Extensions.Configuration;

// The whole system, top to bottom: infrastructure first, then the worker. Each dependency runs in a
// container unless configuration points at an existing one (see README, "Existing infrastructure").
var builder = DistributedApplication.CreateBuilder(args);

var postgres = builder.AddPostgresServer();
var appDb = builder.AddAppDatabase(postgres);
var temporal = builder.AddTemporal(postgres);
var cache = builder.AddOptionalCache();

builder.AddProject<Projects.Worker>("worker")
    .RunFromBuildOutput()
    .WithReferenceEnvironment(ReferenceEnvironmentInjectionFlags.ConnectionString) // no password copies in *_URI variables
    .WithDependency(appDb)
    .WithDependency(temporal)
    .WithDependency(cache)
    .WithExistingTemporalSettings()
    .WithApiSecrets()
    .WithHttpHealthCheck("/health")
    .WithExternalHttpEndpoints()
    .WithReplicas(builder.Configuration.GetValue("Worker:Replicas", 2));

builder.FailFastWithoutContainerRuntime();

try
{
    await builder.Build().RunAsync();
    return 0;
}
catch (ContainerRuntimeUnavailableException e)
{
    await Console.Error.WriteLineAsync(e.Message);
    return 1;
}

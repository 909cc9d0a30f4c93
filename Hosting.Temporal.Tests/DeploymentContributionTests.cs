using Aspire.Hosting.Deployment;
using Aspire.Hosting.Temporal.Deployment;
using Microsoft.Extensions.DependencyInjection;

namespace Hosting.Temporal.Tests;

/// <summary>
/// The integration's deployment contributions (the worker controller's objects, KEDA's scaler) on a model of the
/// test's own: they reach the generator's outputs through its contribution hook alone.
/// </summary>
public sealed class DeploymentContributionTests
{
    [Fact]
    public async Task A_versioned_worker_of_any_name_gets_the_worker_controllers_objects_from_its_namespace_resource()
    {
        using var model = new PublishModel();
        var b = model.Builder;
        var frontend = b.AddContainer("frontend", "example/frontend", "1.2.3")
            .WithEndpoint(targetPort: 7233, name: "grpc")
            .WithDeployment(d => d.RunAs(1000));
        var jobs = b.AddResource(new QueueNamespace("jobs", frontend.GetEndpoint("grpc")));
        b.AddContainer("billing", "example/billing", "2.0.1")
            .WithReference(jobs)
            .WithDeployment(d => d.RunAs(1000).Autoscale(2, 6)
                .VersionedRollouts(jobs, [new RampStep(25, TimeSpan.FromMinutes(2)), new RampStep(60, TimeSpan.FromSeconds(90))],
                    scaledownDelay: TimeSpan.FromMinutes(30), deleteDelay: TimeSpan.FromHours(2)));

        var files = await model.GenerateAsync();

        var component = files["kubernetes/components/worker-versioning/kustomization.yaml"];
        Assert.Contains("name: billing", component, StringComparison.Ordinal);
        Assert.Contains("temporalNamespace: billing-queue", component, StringComparison.Ordinal);
        Assert.Contains("pauseDuration: 1m30s", component, StringComparison.Ordinal);
        Assert.Contains("scaledownDelay: 30m", component, StringComparison.Ordinal);
        Assert.Contains("deleteDelay: 2h", component, StringComparison.Ordinal);
        Assert.Contains("kind: HorizontalPodAutoscaler", component, StringComparison.Ordinal); // it has an HPA to turn into a template
        var connections = files["kubernetes/components/worker-versioning/connections.yaml"];
        Assert.Contains("name: jobs", connections, StringComparison.Ordinal); // named after the model's reference
        Assert.Contains("hostPort: frontend.shop.svc:7233", connections, StringComparison.Ordinal);
        Assert.Contains("name: frontend-from-worker-controller", connections, StringComparison.Ordinal);
        var template = files["helm/shop/templates/billing-versioning.yaml"];
        Assert.StartsWith("{{- /*", template, StringComparison.Ordinal);
        Assert.Contains("{{- if .Values.billing.workerVersioning.enabled }}", template, StringComparison.Ordinal);
        Assert.DoesNotContain("keda", template, StringComparison.Ordinal); // nothing to refuse: it does not scale on a queue
        Assert.Contains("{{- if not .Values.billing.workerVersioning.enabled }}", files["helm/shop/templates/billing.yaml"], StringComparison.Ordinal);
        Assert.Contains("\"workerVersioning\"", files["helm/shop/values.schema.json"], StringComparison.Ordinal);
        Assert.DoesNotContain("worker-versioning", files["kubernetes/base/kustomization.yaml"], StringComparison.Ordinal); // optional
    }

    [Theory]
    [InlineData(50, 30, 10, 60)] // ramps must rise
    [InlineData(10, 29, 50, 60)] // a pause of 30 s at least
    [InlineData(10, 30, 100, 60)] // 99% at most: after the last step the build is current
    public void Versioned_rollouts_refuse_what_the_controller_would(int firstRamp, int firstPause, int secondRamp, int secondPause)
    {
        using var model = new PublishModel();
        var frontend = model.Builder.AddContainer("frontend", "example/frontend", "1.2.3").WithEndpoint(targetPort: 7233, name: "grpc");
        var jobs = model.Builder.AddResource(new QueueNamespace("jobs", frontend.GetEndpoint("grpc")));
        RampStep[] steps = [new(firstRamp, TimeSpan.FromSeconds(firstPause)), new(secondRamp, TimeSpan.FromSeconds(secondPause))];

        Assert.Throws<ArgumentException>(() => model.Builder.AddContainer("billing", "example/billing", "2.0.1")
            .WithDeployment(d => d.VersionedRollouts(jobs, steps, TimeSpan.FromHours(1), TimeSpan.FromHours(24))));
    }

    /// <summary>A queue namespace as an integration would model one: its connection string names a frontend and a namespace.</summary>
    private sealed class QueueNamespace(string name, EndpointReference frontend) : Resource(name), IResourceWithConnectionString
    {
        public ReferenceExpression ConnectionStringExpression =>
            ReferenceExpression.Create($"Endpoint={frontend.Property(EndpointProperty.HostAndPort)};Namespace=billing-queue");
    }

    /// <summary>A model of the test's own, built in publish mode as <c>aspire publish</c> builds one, and generated from.</summary>
    private sealed class PublishModel : IDisposable
    {
        private DistributedApplication? app;

        public IDistributedApplicationBuilder Builder { get; } =
            DistributedApplication.CreateBuilder(["--operation", "publish", "--step", DeploymentBuilderExtensions.StepName]);

        public Task<IReadOnlyDictionary<string, string>> GenerateAsync()
        {
            app ??= Builder.Build();
            return DeploymentArtifacts.GenerateAsync(app.Services.GetRequiredService<DistributedApplicationModel>(), new DeploymentOptions { Name = "shop" },
                app.Services.GetRequiredService<DistributedApplicationExecutionContext>());
        }

        public void Dispose() => (app as IDisposable)?.Dispose();
    }
}

using Aspire.Hosting.ApplicationModel;
using Aspire.Hosting.Deployment;
using Aspire.Hosting.Deployment.Helm;
using Aspire.Hosting.Temporal.Deployment;

namespace Aspire.Hosting;

/// <summary>
/// How Temporal workers and namespaces are deployed beyond what the model runs: scaling on a task queue's backlog
/// (KEDA), versioned rollouts (Temporal's worker controller), and an existing Temporal in place of the model's. Each
/// reaches the deployment outputs through the generator's contribution hook (<see cref="DeploymentBuilder.Contribute"/>).
/// </summary>
public static class TemporalDeploymentExtensions
{
    /// <summary>
    /// Scaling on the backlog of <paramref name="taskQueue"/> in <paramref name="ns"/> through KEDA's <c>temporal</c>
    /// scaler, optional in the outputs (<c>components/keda</c>, <c>keda.enabled</c>) and replacing the HPA when on.
    /// </summary>
    /// <param name="deployment">The worker's deployment settings.</param>
    /// <param name="ns">The namespace resource the worker polls (its connection string is <c>Endpoint=…;Namespace=…</c>).</param>
    /// <param name="taskQueue">The task queue.</param>
    /// <param name="targetQueueSize">Backlog per replica KEDA aims for.</param>
    public static DeploymentBuilder ScaleOnTaskQueue(
        this DeploymentBuilder deployment, IResourceBuilder<IResourceWithConnectionString> ns, string taskQueue, int targetQueueSize = 10)
    {
        ArgumentNullException.ThrowIfNull(deployment);
        ArgumentNullException.ThrowIfNull(ns);
        ArgumentException.ThrowIfNullOrWhiteSpace(taskQueue);
        ArgumentOutOfRangeException.ThrowIfLessThan(targetQueueSize, 1);
        return deployment.Contribute(new KedaTaskQueueScaling(ns.Resource, taskQueue, targetQueueSize));
    }

    /// <summary>
    /// Versioned rollouts of a Temporal worker through the temporal-worker-controller, optional in the outputs
    /// (<c>components/worker-versioning</c>, <c>workerVersioning.enabled</c>): a new build ramps up through
    /// <paramref name="steps"/> while each earlier build keeps running until its pinned workflows drain, then for
    /// <paramref name="scaledownDelay"/>, and its scaled-down Deployment for <paramref name="deleteDelay"/>.
    /// </summary>
    /// <param name="deployment">The worker's deployment settings.</param>
    /// <param name="ns">The namespace resource the worker polls: its frontend is the controller's <c>Connection</c>.</param>
    /// <param name="steps">The Progressive rollout's steps.</param>
    /// <param name="scaledownDelay">How long a drained version (no open pinned workflow left) keeps its pods.</param>
    /// <param name="deleteDelay">How long after that its Deployment, scaled to zero, is kept.</param>
    public static DeploymentBuilder VersionedRollouts(
        this DeploymentBuilder deployment, IResourceBuilder<IResourceWithConnectionString> ns, IReadOnlyList<RampStep> steps,
        TimeSpan scaledownDelay, TimeSpan deleteDelay)
    {
        ArgumentNullException.ThrowIfNull(deployment);
        ArgumentNullException.ThrowIfNull(ns);
        ArgumentNullException.ThrowIfNull(steps);
        // The controller's own limits (its CRD): at most 20 steps, ramps of 1-99%, pauses of 30 s at least.
        if (steps.Count is 0 or > 20)
        {
            throw new ArgumentException("A Progressive rollout has 1 to 20 steps.", nameof(steps));
        }
        for (var i = 0; i < steps.Count; i++)
        {
            var step = steps[i];
            if (step.Percentage is < 1 or > 99 || (i > 0 && step.Percentage <= steps[i - 1].Percentage))
            {
                throw new ArgumentException("Ramp percentages rise strictly from 1 to 99; after the last step the build is current.", nameof(steps));
            }
            if (step.Pause < TimeSpan.FromSeconds(30) || step.Pause.Ticks % TimeSpan.TicksPerSecond != 0)
            {
                throw new ArgumentException("A step pauses 30 s at least, in whole seconds.", nameof(steps));
            }
        }
        if (scaledownDelay < TimeSpan.Zero || deleteDelay < TimeSpan.Zero || scaledownDelay.Ticks % TimeSpan.TicksPerSecond != 0 || deleteDelay.Ticks % TimeSpan.TicksPerSecond != 0)
        {
            throw new ArgumentException("The sunset delays are whole seconds, not negative.");
        }
        // The current build and the one it ramps to run side by side, each with its own autoscaler (a build that
        // drains beside them sheds its load and scales to its minimum).
        return deployment.CopiesSideBySide(2)
            .Contribute(new WorkerControllerRollouts(ns.Resource, [.. steps], scaledownDelay, deleteDelay));
    }

    /// <summary>
    /// With the Helm switch <c>temporal.enabled=false</c>, workers reach an existing Temporal (or Temporal Cloud) at
    /// <c>temporal.frontendAddress</c> (default <paramref name="frontendAddress"/>) in <c>temporal.namespace</c>
    /// (default the namespace's own), and, when <paramref name="apiKeySecretKey"/> is given, read the API key from that
    /// key of <c>temporal.existingSecret</c> into <c>Temporal__ApiKey</c>.
    /// </summary>
    /// <param name="ns">The namespace.</param>
    /// <param name="frontendAddress">Where an existing Temporal's frontend is by default (<c>host:port</c>).</param>
    /// <param name="apiKeySecretKey">The key of the API key in the existing Secret; null for none.</param>
    public static IResourceBuilder<TemporalNamespaceResource> WithExistingTemporalWhenDeployed(
        this IResourceBuilder<TemporalNamespaceResource> ns, string frontendAddress, string? apiKeySecretKey = null)
    {
        ArgumentNullException.ThrowIfNull(ns);
        ArgumentException.ThrowIfNullOrWhiteSpace(frontendAddress);
        return ns.WithDeployment(d => d.WhenExternal("Endpoint={frontendAddress};Namespace={namespace}",
            new Dictionary<string, string> { ["frontendAddress"] = frontendAddress, ["namespace"] = ns.Resource.NamespaceName },
            apiKeySecretKey is null ? null : new Dictionary<string, string> { ["Temporal__ApiKey"] = apiKeySecretKey },
            new Dictionary<string, System.Text.Json.Nodes.JsonObject> { ["frontendAddress"] = ValueSchemas.HostAndPort(), ["namespace"] = ValueSchemas.Token() }));
    }
}

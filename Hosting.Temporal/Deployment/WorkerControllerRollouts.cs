using Aspire.Hosting.ApplicationModel;
using Aspire.Hosting.Deployment;
using Aspire.Hosting.Deployment.Yaml;

using static Aspire.Hosting.Temporal.Deployment.JsonPatches;

namespace Aspire.Hosting.Temporal.Deployment;

/// <summary>
/// The versioned form of a Temporal worker, run by Temporal's worker controller (temporal-worker-controller 1.8,
/// <c>temporal.io/v1alpha1</c>), as an option of the worker (<c>components/worker-versioning</c>,
/// <c>workerVersioning.enabled</c>): a <c>WorkerDeployment</c> with the workload's own pod template, from which the
/// controller makes one Deployment per build and keeps each build running until its pinned workflows have drained;
/// a <c>Connection</c> to the frontend; and, instead of the HPA, one HPA per build through a <c>WorkerResourceTemplate</c>.
/// </summary>
internal sealed class WorkerControllerRollouts : DeploymentContribution
{
    private const string ApiVersion = "temporal.io/v1alpha1";

    private readonly IResourceWithConnectionString ns;
    private readonly IReadOnlyList<RampStep> steps;
    private readonly TimeSpan scaledownDelay;
    private readonly TimeSpan deleteDelay;
    private readonly DeploymentOption option;
    private TemporalTarget? target;

    public WorkerControllerRollouts(IResourceWithConnectionString ns, IReadOnlyList<RampStep> steps, TimeSpan scaledownDelay, TimeSpan deleteDelay)
    {
        this.ns = ns;
        this.steps = steps;
        this.scaledownDelay = scaledownDelay;
        this.deleteDelay = deleteDelay;
        option = new DeploymentOption("workerVersioning", "worker-versioning", "versioning")
        {
            ResourcesFile = "connections.yaml",
            ReplacesWorkload = true,
            ReplacesAutoscaler = true,
            ValuesSchema = WorkerVersioningValues.Schema(),
        };
        option.Values.Add("rollout", WorkerVersioningValues.Rollout(steps));
        option.Values.Add("sunset", WorkerVersioningValues.Sunset(scaledownDelay, deleteDelay));
        // Set it (to the image tag, say) only where a tag always names the code: then a change of settings rolls
        // the build's pods in place instead of making a new version (each upgrade renames the jobs its pods wait for).
        option.Values.Add("buildId", "");
        option.Values.Add("controllerNamespace", WorkerVersioningValues.ControllerNamespace);
        // KEDA's ScaledObject scales the Deployment this option removes; per-build scaling is the WorkerResourceTemplate's.
        option.Excludes.Add(("keda", "workerVersioning.enabled and keda.enabled cannot be combined: KEDA scales the Deployment that the worker "
            + "controller replaces (per-build scaling comes from autoscaling.*)"));
    }

    private TemporalTarget Target => target ?? throw new InvalidOperationException("Read before it is written.");

    /// <summary>The controller's Connection is named after the model's reference to the namespace.</summary>
    private string ConnectionName => ns.Name;

    public override async Task ReadAsync(DeploymentReadContext context, CancellationToken cancellationToken) =>
        target = await TemporalTarget.ReadAsync(context, ns, "is versioned on", cancellationToken);

    public override void DeclareValues(DeploymentValues values) => values.AddOption(option);

    public override void WriteKubernetes(KubernetesContext kubernetes)
    {
        if (kubernetes.IsHelm)
        {
            WriteHelm(kubernetes);
        }
        else
        {
            WriteKustomize(kubernetes);
        }
    }

    /// <summary>
    /// Patches that turn the Deployment into a WorkerDeployment and its HPA into a WorkerResourceTemplate, in place,
    /// so whatever the overlays below changed in them (production's spread over zones, development's small CPU
    /// request and replica bounds, a release's image tag) carries over; plus the Connection, and the frontend's door.
    /// </summary>
    private void WriteKustomize(KubernetesContext kustomize)
    {
        var w = kustomize.Workload;
        kustomize.Patch(option, JsonPatches.For("Deployment", w, """
            # The Deployment becomes the controller's WorkerDeployment with the same pod template; the controller
            # makes one Deployment per build from it, with its own selector and rollout.
            """,
            Op("replace", "/apiVersion", ApiVersion),
            Op("replace", "/kind", "WorkerDeployment"),
            Op("remove", "/spec/selector"),
            Op("remove", "/spec/strategy"),
            Op("remove", "/spec/revisionHistoryLimit"),
            Op("add", "/spec/workerOptions", new Map { { "connectionRef", new Map { { "name", ConnectionName } } }, { "temporalNamespace", Target.Namespace } }),
            Op("add", "/spec/rollout", WorkerVersioningValues.Rollout(steps)),
            Op("add", "/spec/sunset", WorkerVersioningValues.Sunset(scaledownDelay, deleteDelay))));
        if (kustomize.HasAutoscaler)
        {
            var hpa = new Map
            {
                { "apiVersion", "autoscaling/v2" },
                { "kind", "HorizontalPodAutoscaler" },
                { "metadata", new Map { { "name", w } } },
                { "spec", new Map { { "scaleTargetRef", new Map { { "$patch", "replace" } } } } },
            };
            kustomize.Patch(option, new Map
            {
                {
                    "patch", Comment("""
                        # Must match: the keda component deletes this HPA, and KEDA's ScaledObject would then scale a
                        # Deployment that no longer exists, so the two components together fail here. The empty
                        # scaleTargetRef is the controller's cue to fill in each build's Deployment.
                        """) + YamlWriter.Write(hpa)
                },
            });
            kustomize.Patch(option, JsonPatches.For("HorizontalPodAutoscaler", w, """
                # The HPA becomes a WorkerResourceTemplate: the controller makes one HPA per build from it.
                """,
                // JSON patch cannot move a value into its own child: the HPA's spec waits at the top meanwhile.
                Move(from: "/spec", to: "/horizontalPodAutoscalerSpec"),
                Op("add", "/spec", new Map
                {
                    { "workerDeploymentRef", new Map { { "name", w } } },
                    { "template", new Map { { "apiVersion", "autoscaling/v2" }, { "kind", "HorizontalPodAutoscaler" } } },
                }),
                Move(from: "/horizontalPodAutoscalerSpec", to: "/spec/template/spec"),
                Op("replace", "/apiVersion", ApiVersion),
                Op("replace", "/kind", "WorkerResourceTemplate")));
        }
        // The controller calls the frontend from its own namespace: the cluster DNS name, not the short one.
        var frontend = Target.Frontend;
        kustomize.Add(option, Connection(kustomize, frontend is null ? new Scalar(Target.Endpoint) : kustomize.ClusterAddress(frontend)));
        if (Target.Tls is not null)
        {
            kustomize.Patch(TemporalTarget.ClientTlsComponent, TemporalTarget.ClientTlsPatch("Connection", ConnectionName,
                "/spec/mutualTLSSecretRef", MutualTls));
        }
        if (frontend is not null)
        {
            kustomize.Add(option, FrontendDoor.From(kustomize, frontend, $"{frontend.Workload}-from-worker-controller", new Scalar(WorkerVersioningValues.ControllerNamespace)));
        }
    }

    /// <summary>Behind <c>workerVersioning.enabled</c>, the same objects as the component (the Deployment and HPA are off then).</summary>
    private void WriteHelm(KubernetesContext helm)
    {
        var group = Target.Group;
        var spec = new Map();
        if (!helm.HasAutoscaler)
        {
            spec.Add("replicas", helm.Replicas());
        }
        else
        {
            spec.If($"not {helm.Ref("autoscaling.enabled")}", new Map { { "replicas", helm.Replicas() } });
        }
        var options = new Map
        {
            { "connectionRef", new Map { { "name", ConnectionName } } },
            // What the controller injects as TEMPORAL_NAMESPACE, above the worker's own settings: the namespace it polls.
            { "temporalNamespace", group is null ? new Scalar(Target.Namespace) : new Template($"{Target.WhenExternal(helm, "namespace", $"\"{Target.Namespace}\"")} | quote") },
        };
        var buildId = helm.Ref($"{option.Name}.buildId");
        options.If(buildId, new Map { { "unsafeCustomBuildID", new Template($"{buildId} | toString | quote") } });
        spec.Add("workerOptions", options);
        spec.Add("rollout", new TemplateBlock($"toYaml {helm.Ref($"{option.Name}.rollout")}"));
        spec.Add("sunset", new TemplateBlock($"toYaml {helm.Ref($"{option.Name}.sunset")}"));
        spec.Add("template", helm.PodTemplate());
        helm.Add(option, Document("WorkerDeployment", helm.Metadata(), spec));

        var frontend = Target.Frontend;
        YamlNode hostPort = frontend is null ? new Scalar(Target.Endpoint)
            : group is null ? helm.ClusterAddress(frontend)
            : new Template($"{Target.WhenExternal(helm, "frontendAddress", $"(printf \"{frontend.Workload}.%s.svc:{frontend.Port}\" .Release.Namespace)")} | quote");
        var connection = Connection(helm, hostPort);
        // An existing Temporal with an API key (Temporal Cloud): the controller and the pods it makes use the worker's key.
        if (group is not null && Target.ApiKeySecretKey is { } apiKey)
        {
            ((Map)connection["spec"]!).If(Target.CloudCondition(helm), new Map
            {
                { "apiKeySecretRef", new Map { { "name", new Template(helm.RefAt($"{group}.existingSecret")) }, { "key", apiKey } } },
            });
        }
        if (Target.TlsCondition(helm) is { } tls)
        {
            ((Map)connection["spec"]!).If(tls, new Map { { "mutualTLSSecretRef", MutualTls } });
        }
        helm.Add(option, connection);
        if (helm.HasAutoscaler)
        {
            var template = new Map
            {
                { "workerDeploymentRef", new Map { { "name", helm.Workload } } },
                {
                    "template", new Map
                    {
                        { "apiVersion", "autoscaling/v2" },
                        { "kind", "HorizontalPodAutoscaler" },
                        // The empty scaleTargetRef is the controller's cue to fill in each build's Deployment.
                        { "spec", helm.AutoscalerSpec(new Map()) },
                    }
                },
            };
            helm.Add(option, new Conditional(helm.Ref("autoscaling.enabled"), Document("WorkerResourceTemplate", helm.Metadata(), template)));
        }
        if (frontend is not null)
        {
            var allow = FrontendDoor.From(helm, frontend, $"{frontend.Workload}-from-worker-controller", helm.Value(option, "controllerNamespace", "quote"));
            helm.Add(option, group is null ? allow : new Conditional(helm.RefAt($"{group}.enabled"), allow));
        }
    }

    /// <summary>
    /// The clients' certificate, for the controller's calls and the pods it makes (it mounts the Secret and sets
    /// <c>TEMPORAL_TLS_CLIENT_CERT_PATH</c>; the worker's <c>Temporal:TlsDirectory</c> gives the CA).
    /// </summary>
    private static Map MutualTls => new() { { "name", TemporalTls.ClientSecret } };

    private static Map Document(string kind, Map metadata, Map spec) => new()
    {
        { "apiVersion", ApiVersion },
        { "kind", kind },
        { "metadata", metadata },
        { "spec", spec },
    };

    private Map Connection(KubernetesContext kubernetes, YamlNode hostPort) => new()
    {
        { "apiVersion", ApiVersion },
        { "kind", "Connection" },
        { "metadata", new Map { { "name", ConnectionName }, { "labels", kubernetes.SystemLabels() } } },
        { "spec", new Map { { "hostPort", hostPort } } },
    };
}

using System.Globalization;
using Aspire.Hosting.ApplicationModel;
using Aspire.Hosting.Deployment;
using Aspire.Hosting.Deployment.Helm;
using Aspire.Hosting.Deployment.Yaml;

namespace Aspire.Hosting.Temporal.Deployment;

/// <summary>
/// KEDA's <c>ScaledObject</c> with the <c>temporal</c> scaler, as an option of the worker (<c>components/keda</c>,
/// <c>keda.enabled</c>): replicas follow the task-queue backlog, which is what a Temporal worker's load is (CPU lags
/// it, and stays low while activities wait on I/O). Replaces the HPA.
/// </summary>
internal sealed class KedaTaskQueueScaling : DeploymentContribution
{
    private readonly IResourceWithConnectionString ns;
    private readonly string taskQueue;
    private readonly int targetQueueSize;
    private readonly DeploymentOption option;
    private TemporalTarget? target;

    public KedaTaskQueueScaling(IResourceWithConnectionString ns, string taskQueue, int targetQueueSize)
    {
        this.ns = ns;
        this.taskQueue = taskQueue;
        this.targetQueueSize = targetQueueSize;
        option = new DeploymentOption("keda", "keda", "keda")
        {
            ResourcesFile = "scaledobjects.yaml",
            ReplacesAutoscaler = true,
            OwnsReplicas = true,
            ValuesSchema = ValueSchemas.Record(
                ("enabled", ValueSchemas.Boolean()),
                ("targetQueueSize", ValueSchemas.Whole(minimum: 1)),
                ("operatorNamespace", ValueSchemas.NamespaceName())),
        };
        option.Values.Add("targetQueueSize", targetQueueSize);
        option.Values.Add("operatorNamespace", "keda");
    }

    private TemporalTarget Target => target ?? throw new InvalidOperationException("Read before it is written.");

    public override async Task ReadAsync(DeploymentReadContext context, CancellationToken cancellationToken) =>
        target = await TemporalTarget.ReadAsync(context, ns, "scales on a task queue of", cancellationToken);

    public override void DeclareValues(DeploymentValues values)
    {
        values.AddOption(option);
        if (Target.Group is { } group)
        {
            // An existing Temporal may poll another queue name: the group's value, as its namespace is.
            values.AddGroupValue(group, "taskQueue", new Scalar(taskQueue), ValueSchemas.Token());
        }
    }

    public override void WriteKubernetes(KubernetesContext kubernetes)
    {
        if (kubernetes.IsHelm)
        {
            WriteHelm(kubernetes);
            return;
        }
        // KEDA resolves the address from its own namespace: the frontend's cluster DNS name, not its short one.
        var endpoint = Target.Frontend is { } frontend ? kubernetes.ClusterAddress(frontend) : new Scalar(Target.Endpoint);
        kubernetes.Add(option, ScaledObject(kubernetes, endpoint, new Scalar(Target.Namespace), new Scalar(taskQueue),
            new Scalar(targetQueueSize.ToString(CultureInfo.InvariantCulture)), authentication: null));
        if (Target.Frontend is { } reached)
        {
            kubernetes.Add(option, AllowOperator(kubernetes, reached, new Scalar("keda")));
        }
        if (kubernetes.HasAutoscaler)
        {
            // KEDA makes its own HPA from the ScaledObject; two autoscalers on one Deployment fight.
            var delete = new Map
            {
                { "$patch", "delete" },
                { "apiVersion", "autoscaling/v2" },
                { "kind", "HorizontalPodAutoscaler" },
                { "metadata", new Map { { "name", kubernetes.Workload } } },
            };
            kubernetes.Patch(option, new Map { { "patch", YamlWriter.Write(delete) } });
        }
    }

    private void WriteHelm(KubernetesContext helm)
    {
        var group = Target.Group;
        // The group's value when Temporal is a switchable group (an existing one may differ), else the model's.
        YamlNode FromGroup(string key, string model) => group is null ? new Scalar(model) : new Template($"{helm.RefAt($"{group}.{key}")} | quote");
        YamlNode endpoint = Target.Frontend is { } frontend && group is not null
            ? new Template($"{Target.WhenExternal(helm, "frontendAddress", $"(printf \"{frontend.Workload}.%s.svc:{frontend.Port}\" .Release.Namespace)")} | quote")
            : new Scalar(Target.Endpoint);
        // An existing Temporal with an API key (Temporal Cloud): the scaler authenticates with the worker's key.
        var cloud = group is null ? null : Target.CloudCondition(helm);
        var authentication = $"{helm.Workload}-temporal-api-key";
        helm.Add(option, ScaledObject(helm, endpoint, FromGroup("namespace", Target.Namespace), FromGroup("taskQueue", taskQueue),
            helm.Value(option, "targetQueueSize", "toString | quote"), cloud is null ? null : (cloud, authentication)));
        if (cloud is not null && Target.ApiKeySecretKey is { } key)
        {
            helm.Add(option, new Conditional(cloud, ApiKeyAuthentication(authentication, new Template(helm.RefAt($"{group}.existingSecret")), key)));
        }
        if (Target.Frontend is { } reached)
        {
            var allow = AllowOperator(helm, reached, helm.Value(option, "operatorNamespace", "quote"));
            helm.Add(option, group is null ? allow : new Conditional(helm.RefAt($"{group}.enabled"), allow));
        }
    }

    /// <summary>The workload's ScaledObject; <paramref name="authentication"/> (Helm) names a TriggerAuthentication and when it applies.</summary>
    private static Map ScaledObject(KubernetesContext kubernetes, YamlNode endpoint, YamlNode ns, YamlNode taskQueue, YamlNode targetQueueSize,
        (string Condition, string Name)? authentication)
    {
        var trigger = new Map
        {
            { "type", "temporal" },
            {
                "metadata", new Map
                {
                    { "endpoint", endpoint },
                    { "namespace", ns },
                    { "taskQueue", taskQueue },
                    { "targetQueueSize", targetQueueSize },
                    { "activationTargetQueueSize", "0" },
                }
            },
        };
        if (authentication is { } auth)
        {
            trigger.If(auth.Condition, new Map { { "authenticationRef", new Map { { "name", auth.Name } } } });
        }
        return new Map
        {
            { "apiVersion", "keda.sh/v1alpha1" },
            { "kind", "ScaledObject" },
            { "metadata", kubernetes.Metadata() },
            {
                "spec", new Map
                {
                    { "scaleTargetRef", new Map { { "name", kubernetes.Workload } } },
                    { "minReplicaCount", kubernetes.MinReplicas() },
                    { "maxReplicaCount", kubernetes.MaxReplicas() },
                    { "cooldownPeriod", 300 },
                    { "triggers", new Seq { trigger } },
                }
            },
        };
    }

    /// <summary>Temporal Cloud's API key for KEDA's scaler, from the Secret the worker reads it from.</summary>
    private static Map ApiKeyAuthentication(string name, YamlNode secretName, string key) => new()
    {
        { "apiVersion", "keda.sh/v1alpha1" },
        { "kind", "TriggerAuthentication" },
        { "metadata", new Map { { "name", name } } },
        {
            "spec", new Map
            {
                { "secretTargetRef", new Seq { new Map { { "parameter", "apiKey" }, { "name", secretName }, { "key", key } } } },
            }
        },
    };

    /// <summary>KEDA's operator polls the frontend from its own namespace (<c>keda</c>), which default deny would stop.</summary>
    private static Map AllowOperator(KubernetesContext kubernetes, ServiceAddress frontend, YamlNode operatorNamespace) =>
        FrontendDoor.From(kubernetes, frontend, $"{frontend.Workload}-from-keda", operatorNamespace);
}

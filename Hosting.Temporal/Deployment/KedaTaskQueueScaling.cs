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
            new Scalar(targetQueueSize.ToString(CultureInfo.InvariantCulture)), authentications: []));
        if (Target.Tls is not null)
        {
            // Unused until components/temporal-client-tls points the trigger at it (a server of the model's with TLS on).
            kubernetes.Add(option, TlsAuthentication(TlsAuthenticationName(kubernetes)));
            kubernetes.Patch(TemporalTarget.ClientTlsComponent, TemporalTarget.ClientTlsPatch("ScaledObject", kubernetes.Workload,
                "/spec/triggers/0/authenticationRef", new Map { { "name", TlsAuthenticationName(kubernetes) } }));
        }
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
        // The model's server with TLS on: the scaler presents the clients' certificate.
        var tls = Target.TlsCondition(helm);
        List<(string Condition, string Name)> authentications = [];
        if (cloud is not null)
        {
            authentications.Add((cloud, authentication));
        }
        if (tls is not null)
        {
            authentications.Add((tls, TlsAuthenticationName(helm)));
        }
        helm.Add(option, ScaledObject(helm, endpoint, FromGroup("namespace", Target.Namespace), FromGroup("taskQueue", taskQueue),
            helm.Value(option, "targetQueueSize", "toString | quote"), authentications));
        if (cloud is not null && Target.ApiKeySecretKey is { } key)
        {
            helm.Add(option, new Conditional(cloud, ApiKeyAuthentication(authentication, new Template(helm.RefAt($"{group}.existingSecret")), key)));
        }
        if (tls is not null)
        {
            helm.Add(option, new Conditional(tls, TlsAuthentication(TlsAuthenticationName(helm))));
        }
        if (Target.Frontend is { } reached)
        {
            var allow = AllowOperator(helm, reached, helm.Value(option, "operatorNamespace", "quote"));
            helm.Add(option, group is null ? allow : new Conditional(helm.RefAt($"{group}.enabled"), allow));
        }
    }

    /// <summary>The workload's ScaledObject; each of <paramref name="authentications"/> (Helm) names a TriggerAuthentication and when it applies.</summary>
    private static Map ScaledObject(KubernetesContext kubernetes, YamlNode endpoint, YamlNode ns, YamlNode taskQueue, YamlNode targetQueueSize,
        IReadOnlyList<(string Condition, string Name)> authentications)
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
        foreach (var (condition, name) in authentications)
        {
            trigger.If(condition, new Map { { "authenticationRef", new Map { { "name", name } } } });
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

    private static string TlsAuthenticationName(KubernetesContext kubernetes) => $"{kubernetes.Workload}-temporal-tls";

    /// <summary>
    /// The clients' certificate and the CA for KEDA's scaler, from their Secret's keys. The scaler checks the frontend's
    /// name against the host of its endpoint, which the server's certificate carries (docs/security.md, "Encryption in transit").
    /// </summary>
    private static Map TlsAuthentication(string name) => new()
    {
        { "apiVersion", "keda.sh/v1alpha1" },
        { "kind", "TriggerAuthentication" },
        { "metadata", new Map { { "name", name } } },
        {
            "spec", new Map
            {
                {
                    "secretTargetRef", new Seq
                    {
                        new Map { { "parameter", "cert" }, { "name", TemporalTls.ClientSecret }, { "key", "tls.crt" } },
                        new Map { { "parameter", "key" }, { "name", TemporalTls.ClientSecret }, { "key", "tls.key" } },
                        new Map { { "parameter", "ca" }, { "name", TemporalTls.ClientSecret }, { "key", "ca.crt" } },
                    }
                },
            }
        },
    };

    /// <summary>KEDA's operator polls the frontend from its own namespace (<c>keda</c>), which default deny would stop.</summary>
    private static Map AllowOperator(KubernetesContext kubernetes, ServiceAddress frontend, YamlNode operatorNamespace) =>
        FrontendDoor.From(kubernetes, frontend, $"{frontend.Workload}-from-keda", operatorNamespace);
}

using System.Text.Json.Nodes;
using Aspire.Hosting.Deployment;
using Aspire.Hosting.Deployment.Helm;
using Aspire.Hosting.Deployment.Yaml;

namespace Aspire.Hosting.Temporal.Deployment;

/// <summary>
/// Single sign-on for the Temporal Web UI (its OIDC login), an option of the UI (<c>components/temporal-ui-sso</c>,
/// <c>temporal.temporalUi.sso.*</c>): off by default, since the UI is reachable only from inside the cluster
/// (port-forward); on, where the UI is exposed. The provider's settings are Helm values and the client secret comes
/// from a Secret; Kustomize reads all of them from the Secret <c>temporal-ui-sso</c>, which the operator creates. The
/// UI may then call the provider (HTTPS), which the default deny would stop.
/// </summary>
internal sealed class UiSingleSignOn : DeploymentContribution
{
    /// <summary>The Secret Kustomize's component reads the provider's settings from, and the key of the client secret.</summary>
    public const string SecretName = "temporal-ui-sso";

    public const string ClientSecretKey = "TEMPORAL_AUTH_CLIENT_SECRET";

    private static readonly JsonObject HttpsUrl = new() { ["type"] = "string", ["pattern"] = @"^(https://\S+)?$" };

    private readonly DeploymentOption option = new("sso", "temporal-ui-sso", "sso")
    {
        ReplacesWorkload = true,
        ValuesSchema = ValueSchemas.Record(
            ("enabled", ValueSchemas.Boolean()),
            ("providerUrl", HttpsUrl.DeepClone().AsObject()),
            ("clientId", ValueSchemas.AnyText()),
            ("callbackUrl", HttpsUrl.DeepClone().AsObject()),
            ("scopes", ValueSchemas.Token()),
            ("existingSecret", ValueSchemas.ObjectName(optional: true))),
    };

    public UiSingleSignOn()
    {
        option.Values.Add("providerUrl", "");
        option.Values.Add("clientId", "");
        option.Values.Add("callbackUrl", "");
        option.Values.Add("scopes", "openid,profile,email");
        option.Values.Add("existingSecret", "");
    }

    public override void DeclareValues(DeploymentValues values) => values.AddOption(option);

    public override void WriteKubernetes(KubernetesContext kubernetes)
    {
        if (kubernetes.IsHelm)
        {
            kubernetes.Add(option, Deployment(kubernetes));
        }
        else
        {
            kubernetes.Patch(option, new Map
            {
                { "target", new Map { { "kind", "Deployment" }, { "name", kubernetes.Workload } } },
                {
                    "patch", $"# The UI logs in through OIDC; the provider's settings are the Secret {SecretName}'s (docs/temporal-server.md, \"The Web UI\").\n"
                        + YamlWriter.WriteList(KustomizeOperations(kubernetes))
                },
            });
        }
        kubernetes.Add(option, ProviderEgress(kubernetes));
    }

    /// <summary>JSON patch operations that add the login's environment to the container, whichever lists it has already.</summary>
    private static Seq KustomizeOperations(KubernetesContext kustomize)
    {
        const string Container = "/spec/template/spec/containers/0";
        var container = DeploymentDocument.Container(kustomize.PodTemplate());
        var operations = new Seq();
        var variables = LoginSwitch();
        if (container["env"] is null)
        {
            operations.Add(Add($"{Container}/env", new Seq(variables)));
        }
        else
        {
            foreach (var variable in variables)
            {
                operations.Add(Add($"{Container}/env/-", variable));
            }
        }
        var secret = new Map { { "secretRef", new Map { { "name", SecretName } } } };
        operations.Add(container["envFrom"] is null ? Add($"{Container}/envFrom", new Seq { secret }) : Add($"{Container}/envFrom/-", secret));
        return operations;
    }

    /// <summary>What turns the UI's login on, in both outputs; the provider's settings follow.</summary>
    private static Map[] LoginSwitch() => [DeploymentDocument.Variable("TEMPORAL_AUTH_ENABLED", "true"), DeploymentDocument.Variable("TEMPORAL_AUTH_TYPE", "oidc")];

    private static Map Add(string path, YamlNode value) => new() { { "op", "add" }, { "path", path }, { "value", value } };

    /// <summary>The UI's Deployment with its own pod template and the login's environment (Helm: the option replaces the Deployment).</summary>
    private Map Deployment(KubernetesContext helm)
    {
        var template = helm.PodTemplate();
        var env = DeploymentDocument.Environment(DeploymentDocument.Container(template));
        string Required(string key) => $"required \"{helm.Ref($"{option.Name}.{key}")[".Values.".Length..]} is required with sso.enabled\" {helm.Ref($"{option.Name}.{key}")} | quote";
        foreach (var variable in LoginSwitch())
        {
            env.Add(variable);
        }
        env.Add(new Map { { "name", "TEMPORAL_AUTH_PROVIDER_URL" }, { "value", new Template(Required("providerUrl")) } });
        env.Add(new Map { { "name", "TEMPORAL_AUTH_CLIENT_ID" }, { "value", new Template(Required("clientId")) } });
        env.Add(new Map { { "name", "TEMPORAL_AUTH_CALLBACK_URL" }, { "value", new Template(Required("callbackUrl")) } });
        env.Add(new Map { { "name", "TEMPORAL_AUTH_SCOPES" }, { "value", new Template($"{helm.Ref($"{option.Name}.scopes")} | quote") } });
        env.Add(new Map
        {
            { "name", ClientSecretKey },
            {
                "valueFrom", new Map
                {
                    { "secretKeyRef", new Map { { "name", new Template(Required("existingSecret")) }, { "key", ClientSecretKey } } },
                }
            },
        });
        return DeploymentDocument.Of(helm.Metadata(), helm.Replicas(), helm.Selector(helm.Workload), template);
    }

    /// <summary>The login calls the provider (discovery, token exchange) over HTTPS, wherever it is.</summary>
    private static Map ProviderEgress(KubernetesContext kubernetes) => NetworkPolicyDocument.Of(kubernetes, $"{kubernetes.Workload}-sso", new Map
    {
        { "podSelector", new Map { { "matchLabels", kubernetes.Selector(kubernetes.Workload) } } },
        { "policyTypes", Seq.Of(["Egress"]) },
        { "egress", new Seq { new Map { { "ports", new Seq { NetworkPolicyDocument.Port(443) } } } } },
    });
}

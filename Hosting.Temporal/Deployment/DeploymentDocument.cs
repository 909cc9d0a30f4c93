using Aspire.Hosting.Deployment.Yaml;

namespace Aspire.Hosting.Temporal.Deployment;

/// <summary>
/// A Deployment an option renders whole from a workload's pod template (Helm leaves the workload's own out while the
/// option is on, or the option adds one beside it), with the rollout the generator gives its own Deployments: a new
/// pod serves before an old one goes.
/// </summary>
internal static class DeploymentDocument
{
    public static Map Of(Map metadata, YamlNode replicas, Map selector, Map podTemplate, int? minReadySeconds = null) => new()
    {
        { "apiVersion", "apps/v1" },
        { "kind", "Deployment" },
        { "metadata", metadata },
        {
            "spec", new Map
            {
                { "replicas", replicas },
                { "minReadySeconds", minReadySeconds is { } seconds ? new Scalar(seconds) : null },
                { "revisionHistoryLimit", 5 },
                { "selector", new Map { { "matchLabels", selector } } },
                { "strategy", new Map { { "type", "RollingUpdate" }, { "rollingUpdate", new Map { { "maxUnavailable", 0 }, { "maxSurge", 1 } } } } },
                { "template", podTemplate },
            }
        },
    };

    /// <summary>The pod template's (first and only) container.</summary>
    public static Map Container(Map podTemplate) => (Map)((Seq)((Map)podTemplate["spec"]!)["containers"]!).First();

    /// <summary>The container's env list, made when it has none.</summary>
    public static Seq Environment(Map container)
    {
        if (container["env"] is not Seq env)
        {
            env = [];
            container["env"] = env;
        }
        return env;
    }

    public static Map Variable(string name, string value) => new() { { "name", name }, { "value", value } };
}

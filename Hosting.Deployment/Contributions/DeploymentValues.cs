using System.Text.Json.Nodes;
using Aspire.Hosting.Deployment.Helm;
using Aspire.Hosting.Deployment.Planning;
using Aspire.Hosting.Deployment.Yaml;

namespace Aspire.Hosting.Deployment;

/// <summary>The chart's values while they are declared, for a <see cref="DeploymentContribution"/> of one workload.</summary>
public sealed class DeploymentValues
{
    private readonly ChartValues chart;
    private readonly Workload workload;

    internal DeploymentValues(ChartValues chart, Workload workload)
    {
        this.chart = chart;
        this.workload = workload;
    }

    /// <summary>Adds an optional form of the workload: its switch, values and schema.</summary>
    public void AddOption(DeploymentOption option) => chart.AddOption(workload, option);

    /// <summary>
    /// Adds a value to a group's section (<c>{group}.{key}</c>), unless it is there: what the group's dependants read
    /// when it is switched off, say. <paramref name="schema"/> holds it to what can deploy.
    /// </summary>
    public void AddGroupValue(string group, string key, YamlNode value, JsonObject schema) => chart.AddGroupValue(group, key, value, schema);
}

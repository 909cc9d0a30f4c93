namespace Aspire.Hosting.Deployment;

/// <summary>A connection string as deployed: its text, and what the deployment knows about where it leads.</summary>
/// <param name="Text">The connection string, null when it holds a secret.</param>
/// <param name="Group">The deployment group of the resource (a Helm switch), if any.</param>
/// <param name="Target">The workload and port it reaches, when the model runs what it names.</param>
/// <param name="WhenExternal">What dependants get when the group is switched off, as its integration said.</param>
public sealed record DeployedConnection(string? Text, string? Group, ServiceAddress? Target, ExternalConnection? WhenExternal);

namespace Aspire.Hosting.Deployment;

/// <summary>A port of a workload, as other workloads reach it.</summary>
/// <param name="Workload">The workload (its Service has the same name).</param>
/// <param name="Port">The port.</param>
public sealed record ServiceAddress(string Workload, int Port);

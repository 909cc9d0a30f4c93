namespace Aspire.Hosting.Temporal.Deployment;

/// <summary>One step of a Progressive rollout of Temporal's worker controller.</summary>
/// <param name="Percentage">Share of new workflows sent to the new build (1 to 99).</param>
/// <param name="Pause">How long the step holds before the next (at least 30 s, whole seconds).</param>
public sealed record RampStep(int Percentage, TimeSpan Pause);

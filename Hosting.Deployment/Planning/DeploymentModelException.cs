namespace Aspire.Hosting.Deployment.Planning;

/// <summary>The model has something the generator cannot translate; the message names the resource and what to do.</summary>
public sealed class DeploymentModelException(string message) : Exception(message);

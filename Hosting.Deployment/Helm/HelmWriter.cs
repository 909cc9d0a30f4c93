using Aspire.Hosting.Deployment.Planning;

namespace Aspire.Hosting.Deployment.Helm;

internal static class HelmWriter
{
    public static IEnumerable<(string Path, string Contents)> Write(Plan plan, DeploymentOptions options) => [];
}

namespace Aspire.Hosting.Deployment.Kubernetes;

/// <summary>The pinned images of the init containers the outputs add (never <c>latest</c>).</summary>
internal static class HelperImages
{
    /// <summary>Waits for a dependency's Service to accept connections (<c>nc</c>, <c>sh</c>).</summary>
    public const string Busybox = "docker.io/library/busybox:1.37.0";

    /// <summary>Waits for a job to complete (<c>kubectl wait</c>), the one thing here that needs the Kubernetes API.</summary>
    public const string Kubectl = "registry.k8s.io/kubectl:v1.35.2";

    /// <summary>busybox's <c>nobody</c>: the wait needs no user of its own.</summary>
    public const long HelperUser = 65534;
}

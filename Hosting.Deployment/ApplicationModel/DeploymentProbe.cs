namespace Aspire.Hosting.Deployment;

/// <summary>How a deployed container is probed: the same check becomes a Kubernetes probe and a Compose health check.</summary>
public abstract record DeploymentProbe
{
    private protected DeploymentProbe()
    {
    }

    /// <summary>An HTTP GET on an endpoint of the resource; healthy on a 2xx or 3xx answer.</summary>
    /// <param name="Endpoint">The endpoint's name in the model (its target port is probed).</param>
    /// <param name="Path">The request path.</param>
    public static DeploymentProbe Http(string Endpoint, string Path) => new HttpProbe(Endpoint, Path);

    /// <summary>A command run inside the container; healthy when it exits 0.</summary>
    public static DeploymentProbe Exec(params string[] command) => new ExecProbe(command);

    /// <summary>
    /// The gRPC health protocol on an endpoint (Kubernetes' native gRPC probe): healthy when the service answers
    /// SERVING, which an open port does not prove.
    /// </summary>
    public static DeploymentProbe Grpc(string Endpoint, string? Service = null) => new GrpcProbe(Endpoint, Service);

    /// <summary>A TCP connection to an endpoint: the fallback for containers whose integration says nothing better.</summary>
    public static DeploymentProbe Tcp(string Endpoint) => new TcpProbe(Endpoint);
}

/// <summary>See <see cref="DeploymentProbe.Http"/>.</summary>
public sealed record HttpProbe(string Endpoint, string Path) : DeploymentProbe;

/// <summary>See <see cref="DeploymentProbe.Exec"/>.</summary>
public sealed record ExecProbe(IReadOnlyList<string> Command) : DeploymentProbe;

/// <summary>See <see cref="DeploymentProbe.Grpc"/>.</summary>
public sealed record GrpcProbe(string Endpoint, string? Service) : DeploymentProbe;

/// <summary>See <see cref="DeploymentProbe.Tcp"/>.</summary>
public sealed record TcpProbe(string Endpoint) : DeploymentProbe;

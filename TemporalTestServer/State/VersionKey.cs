using Temporalio.Api.Deployment.V1;

namespace TemporalTestServer.State;

/// <summary>
/// A Worker Deployment Version: deployment name plus build id. Null where a version is expected means the
/// unversioned workers, as in the API (a nil current or ramping version).
/// </summary>
public readonly record struct VersionKey(string DeploymentName, string BuildId)
{
    /// <summary>How the deprecated string fields spell unversioned; clients still send and read it.</summary>
    public const string Unversioned = "__unversioned__";

    /// <summary>The deprecated <c>name.build</c> form, still sent by the CLI and still filled in by the server.</summary>
    public string Dotted => $"{DeploymentName}.{BuildId}";

    public WorkerDeploymentVersion ToProto() => new() { DeploymentName = DeploymentName, BuildId = BuildId };

    /// <summary>The form the server uses in its messages, <c>name:build</c>.</summary>
    public override string ToString() => $"{DeploymentName}:{BuildId}";

    public static VersionKey? From(WorkerDeploymentVersion? version) =>
        version is null || string.IsNullOrEmpty(version.BuildId) ? null : new VersionKey(version.DeploymentName, version.BuildId);

    /// <summary>
    /// Parses <c>name.build</c> (or <c>name:build</c>), splitting at the first delimiter as the server does:
    /// deployment names may contain neither. <see cref="Unversioned"/> is null; anything else malformed is refused.
    /// </summary>
    public static VersionKey? Parse(string text)
    {
        if (text == Unversioned)
        {
            return null;
        }
        var cut = text.IndexOfAny(['.', ':']);
        return cut > 0 && cut < text.Length - 1
            ? new VersionKey(text[..cut], text[(cut + 1)..])
            : throw new Grpc.GrpcStatusException(Grpc.StatusCode.InvalidArgument,
                $"invalid version string \"{text}\", expected format is \"<deployment_name>.<build_id>\"");
    }

    /// <summary>The deprecated string form of a possibly unversioned version.</summary>
    public static string DottedOrUnversioned(VersionKey? version) => version?.Dotted ?? Unversioned;
}

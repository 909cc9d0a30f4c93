using Temporalio.Api.Deployment.V1;

namespace TemporalTestServer.State;

/// <summary>
/// A Worker Deployment: its versions and its routing (current and ramping version). Created when the first
/// versioned poller of one of its versions arrives, as on the real server. Guarded by the service lock.
/// </summary>
public sealed class WorkerDeployment
{
    private long conflictCounter;

    public required string Namespace { get; init; }
    public required string Name { get; init; }
    public required DateTime CreateTime { get; init; }

    public Dictionary<string, DeploymentVersion> Versions { get; } = new(StringComparer.Ordinal);

    /// <summary>Receives new workflows and the tasks of unpinned ones; null: the unversioned workers.</summary>
    public VersionKey? Current { get; set; }
    public DateTime? CurrentChangedTime { get; set; }

    /// <summary>Whether a ramp is set: to <see cref="Ramping"/>, or to the unversioned workers when that is null.</summary>
    public bool HasRamp { get; set; }
    public VersionKey? Ramping { get; set; }
    public float RampPercentage { get; set; }
    public DateTime? RampingChangedTime { get; set; }
    public DateTime? RampPercentageChangedTime { get; set; }
    public long RevisionNumber { get; set; }

    public string LastModifierIdentity { get; set; } = "";

    /// <summary>Changes with every write to the routing, so that a client can make its write conditional on what it read.</summary>
    public ByteString ConflictToken { get; private set; } = ByteString.Empty;

    public void NewConflictToken() =>
        ConflictToken = ByteString.CopyFromUtf8($"{Name}#{++conflictCounter}");

    public DeploymentVersion? Find(VersionKey? key) =>
        key is { } k && k.DeploymentName == Name ? Versions.GetValueOrDefault(k.BuildId) : null;

    public RoutingConfig ToRoutingConfig()
    {
        var config = new RoutingConfig
        {
            CurrentDeploymentVersion = Current?.ToProto(),
            RampingDeploymentVersion = Ramping?.ToProto(),
            RampingVersionPercentage = RampPercentage,
            CurrentVersionChangedTime = Timestamp(CurrentChangedTime),
            RampingVersionChangedTime = Timestamp(RampingChangedTime),
            RampingVersionPercentageChangedTime = Timestamp(RampPercentageChangedTime),
            RevisionNumber = RevisionNumber,
        };
#pragma warning disable CS0612 // The deprecated strings: the CLI falls back to them, and the server still fills them in.
        config.CurrentVersion = VersionKey.DottedOrUnversioned(Current);
        config.RampingVersion = HasRamp ? VersionKey.DottedOrUnversioned(Ramping) : "";
#pragma warning restore CS0612
        return config;
    }

    internal static Timestamp? Timestamp(DateTime? time) =>
        time is { } t ? Google.Protobuf.WellKnownTypes.Timestamp.FromDateTime(t) : null;
}

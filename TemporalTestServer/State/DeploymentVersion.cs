using Temporalio.Api.Deployment.V1;
using static Temporalio.Api.Deployment.V1.WorkerDeploymentInfo.Types;

namespace TemporalTestServer.State;

/// <summary>
/// One version of a Worker Deployment: the task queues its workers poll, who polls it, and its routing and
/// drainage status. Guarded by the service lock.
/// </summary>
public sealed class DeploymentVersion
{
    public required VersionKey Key { get; init; }
    public required DateTime CreateTime { get; init; }

    public WorkerDeploymentVersionStatus Status { get; set; } = WorkerDeploymentVersionStatus.Inactive;
    public DateTime? CurrentSinceTime { get; set; }
    public DateTime? RampingSinceTime { get; set; }
    public float RampPercentage { get; set; }
    public DateTime? RoutingUpdateTime { get; set; }
    public DateTime? FirstActivationTime { get; set; }
    public DateTime? LastCurrentTime { get; set; }
    public DateTime? LastDeactivationTime { get; set; }

    public VersionDrainageStatus Drainage { get; set; }
    public DateTime DrainageChangedTime { get; set; }
    public DateTime DrainageCheckedTime { get; set; }

    /// <summary>When the clock next counts the version's open pinned workflows, while it is draining.</summary>
    public DateTime NextDrainageCheck { get; set; }

    /// <summary>Every task queue (name and type) its workers ever polled, with when that was first seen.</summary>
    public SortedDictionary<(string Name, TaskQueueType Type), DateTime> TaskQueues { get; } = [];

    /// <summary>Its workers (instance key), with when each last polled; a worker that shuts down is removed at once.</summary>
    public Dictionary<string, DateTime> Pollers { get; } = new(StringComparer.Ordinal);

    public bool IsActive => CurrentSinceTime is not null || RampingSinceTime is not null;

    public bool Polls(string taskQueue, TaskQueueType type) => TaskQueues.ContainsKey((taskQueue, type));

    public WorkerDeploymentVersionSummary ToSummary()
    {
        var drainage = DrainageInfo();
        var summary = new WorkerDeploymentVersionSummary
        {
            DeploymentVersion = Key.ToProto(),
            Status = Status,
            CreateTime = Timestamp.FromDateTime(CreateTime),
            DrainageInfo = drainage,
            CurrentSinceTime = WorkerDeployment.Timestamp(CurrentSinceTime),
            RampingSinceTime = WorkerDeployment.Timestamp(RampingSinceTime),
            RoutingUpdateTime = WorkerDeployment.Timestamp(RoutingUpdateTime),
            FirstActivationTime = WorkerDeployment.Timestamp(FirstActivationTime),
            LastCurrentTime = WorkerDeployment.Timestamp(LastCurrentTime),
            LastDeactivationTime = WorkerDeployment.Timestamp(LastDeactivationTime),
        };
#pragma warning disable CS0612 // Deprecated fields that older clients (and the Go SDK under the CLI) still read.
        summary.Version = Key.Dotted;
        summary.DrainageStatus = Drainage;
#pragma warning restore CS0612
        return summary;
    }

    public WorkerDeploymentVersionInfo ToInfo()
    {
        var info = new WorkerDeploymentVersionInfo
        {
            DeploymentVersion = Key.ToProto(),
            Status = Status,
            CreateTime = Timestamp.FromDateTime(CreateTime),
            RoutingChangedTime = WorkerDeployment.Timestamp(RoutingUpdateTime),
            CurrentSinceTime = WorkerDeployment.Timestamp(CurrentSinceTime),
            RampingSinceTime = WorkerDeployment.Timestamp(RampingSinceTime),
            RampPercentage = RampPercentage,
            FirstActivationTime = WorkerDeployment.Timestamp(FirstActivationTime),
            LastCurrentTime = WorkerDeployment.Timestamp(LastCurrentTime),
            LastDeactivationTime = WorkerDeployment.Timestamp(LastDeactivationTime),
            DrainageInfo = DrainageInfo(),
        };
#pragma warning disable CS0612 // Deprecated fields, still filled in by the server.
        info.Version = Key.Dotted;
        info.TaskQueueInfos.AddRange(TaskQueues.Keys.Select(q => new WorkerDeploymentVersionInfo.Types.VersionTaskQueueInfo { Name = q.Name, Type = q.Type }));
#pragma warning restore CS0612
        return info;
    }

    /// <summary>As on the server, never an empty drainage info: none until the version first stops being current or ramping.</summary>
    private VersionDrainageInfo? DrainageInfo() => Drainage == VersionDrainageStatus.Unspecified ? null : new()
    {
        Status = Drainage,
        LastChangedTime = Timestamp.FromDateTime(DrainageChangedTime),
        LastCheckedTime = Timestamp.FromDateTime(DrainageCheckedTime),
    };
}

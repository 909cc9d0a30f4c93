namespace TemporalTestServer.Service;

/// <summary>
/// A version's status as routing changes, and its drainage. As on the real server, a version that stops
/// being current or ramping is DRAINING at once; after a grace period (the server waits minutes for its
/// visibility store to catch up; here <see cref="TestServerOptions.DrainageGracePeriod"/>) the clock counts
/// its open pinned workflows, again every <see cref="TestServerOptions.DrainageRefreshInterval"/>, and calls
/// it DRAINED once there are none. DRAINED stays until the version is current or ramping again.
/// </summary>
public sealed partial class TestWorkflowService
{
    /// <summary>How long a worker that stopped polling without saying so still counts (the server's poller history TTL).</summary>
    private static readonly TimeSpan PollerTtl = TimeSpan.FromMinutes(5);

    private readonly TimeSpan drainageGrace;
    private readonly TimeSpan drainageRefresh;

    /// <summary>The version starts receiving new workflows, as current or as ramping: any drainage ends.</summary>
    private static void Activate(DeploymentVersion version, DateTime now, bool asCurrent)
    {
        version.Status = asCurrent ? WorkerDeploymentVersionStatus.Current : WorkerDeploymentVersionStatus.Ramping;
        version.CurrentSinceTime = asCurrent ? now : null;
        version.RampingSinceTime = asCurrent ? null : now;
        version.RampPercentage = 0;
        version.RoutingUpdateTime = now;
        version.FirstActivationTime ??= now;
        if (asCurrent)
        {
            version.LastCurrentTime = now;
        }
        version.LastDeactivationTime = null;
        version.Drainage = VersionDrainageStatus.Unspecified;
    }

    /// <summary>The version stops receiving new workflows: it drains its pinned ones.</summary>
    private void Deactivate(DeploymentVersion version, DateTime now)
    {
        version.Status = WorkerDeploymentVersionStatus.Draining;
        version.CurrentSinceTime = version.RampingSinceTime = null;
        version.RampPercentage = 0;
        version.RoutingUpdateTime = version.LastDeactivationTime = now;
        if (version.Drainage == VersionDrainageStatus.Unspecified)
        {
            version.Drainage = VersionDrainageStatus.Draining;
            version.DrainageChangedTime = version.DrainageCheckedTime = now;
            version.NextDrainageCheck = now + drainageGrace;
        }
    }

    /// <summary>Called by the clock: draining versions whose check is due count their open pinned workflows.</summary>
    private void CheckDrainage(DateTime now)
    {
        foreach (var deployment in deployments.Values)
        {
            foreach (var version in deployment.Versions.Values)
            {
                if (version.Drainage != VersionDrainageStatus.Draining || version.NextDrainageCheck > now)
                {
                    continue;
                }
                version.DrainageCheckedTime = now;
                if (running.Any(run => run.Namespace == deployment.Namespace && run.IsPinned && run.EffectiveVersion == version.Key))
                {
                    version.NextDrainageCheck = now + drainageRefresh;
                    continue;
                }
                version.Drainage = VersionDrainageStatus.Drained;
                version.Status = WorkerDeploymentVersionStatus.Drained;
                version.DrainageChangedTime = now;
            }
        }
    }

    /// <summary>Whether a worker of the version polled lately and has not shut down (pollers are timed in real time).</summary>
    private static bool HasLivePollers(DeploymentVersion version) =>
        version.Pollers.Values.Any(seen => seen > DateTime.UtcNow - PollerTtl);

    /// <summary>A worker shut down: it no longer counts as a poller of any version.</summary>
    private void ForgetWorker(string worker)
    {
        foreach (var version in deployments.Values.SelectMany(d => d.Versions.Values))
        {
            version.Pollers.Remove(worker);
        }
    }
}

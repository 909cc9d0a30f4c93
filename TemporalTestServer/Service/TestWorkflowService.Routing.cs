using Temporalio.Api.Deployment.V1;
using Temporalio.Api.Workflow.V1;

namespace TemporalTestServer.Service;

/// <summary>
/// Worker Deployment Versioning, the matching side: versioned pollers register their version (and the task
/// queues it polls) on their first poll, and every task is routed as the real server's matching service
/// routes it. A pinned run's workflow tasks, queries and activities go to its version (an activity only if
/// that version polls the activity's queue); everything else goes to the task queue's target: the current
/// version of the deployment that polls the queue, the ramping one for the workflow ids that hash into the
/// ramp, or the unversioned workers when there is no current version. Versioned pollers get no other work.
/// </summary>
public sealed partial class TestWorkflowService
{
    private readonly Dictionary<(string Namespace, string Name), WorkerDeployment> deployments = [];
    private readonly TaskRoute<object> workflowRoute;
    private readonly TaskRoute<ActivityTask> activityRoute;

    /// <summary>
    /// A poll: a versioned worker's version, registered (with its deployment) at first sight, with the task
    /// queue when it is a normal one. Returns the version the poller polls as; null for an unversioned worker.
    /// </summary>
    private VersionKey? RegisterPoller(string ns, TaskQueue queue, TaskQueueType type, WorkerDeploymentOptions? options, string worker)
    {
        if (options?.WorkerVersioningMode != WorkerVersioningMode.Versioned)
        {
            return null;
        }
        if (string.IsNullOrEmpty(options.DeploymentName) || string.IsNullOrEmpty(options.BuildId))
        {
            throw new GrpcStatusException(StatusCode.InvalidArgument, "versioned worker must have deployment name and build id");
        }
        if (options.DeploymentName.IndexOfAny(['.', ':']) >= 0)
        {
            throw new GrpcStatusException(StatusCode.InvalidArgument, "deployment name cannot contain ':' or '.'");
        }
        var key = new VersionKey(options.DeploymentName, options.BuildId);
        var version = VersionOf(ns, key, create: true)!;
        version.Pollers[worker] = DateTime.UtcNow;
        if (queue.Kind != TaskQueueKind.Sticky && version.TaskQueues.TryAdd((queue.Name, type), Now))
        {
            // The queue may now route to this version (a current version counts only for the queues it polls).
            Rematch(ns);
        }
        return key;
    }

    private WorkerDeployment? DeploymentOf(string ns, string name, bool create = false)
    {
        if (!deployments.TryGetValue((ns, name), out var deployment) && create)
        {
            deployments[(ns, name)] = deployment = new WorkerDeployment { Namespace = ns, Name = name, CreateTime = Now };
            deployment.NewConflictToken();
        }
        return deployment;
    }

    private DeploymentVersion? VersionOf(string ns, VersionKey? key, bool create = false)
    {
        if (key is not { } k || DeploymentOf(ns, k.DeploymentName, create) is not { } deployment)
        {
            return null;
        }
        if (!deployment.Versions.TryGetValue(k.BuildId, out var version) && create)
        {
            deployment.Versions[k.BuildId] = version = new DeploymentVersion { Key = k, CreateTime = Now };
        }
        return version;
    }

    /// <summary>
    /// Where the unpinned tasks of a task queue go for one workflow id. As in the server's matching, a
    /// deployment's current (or ramping) version counts for a queue only if that version polls it, a
    /// versioned current wins over an unversioned one, and between deployments the latest change wins.
    /// </summary>
    private VersionKey? TargetVersion(string ns, string taskQueue, TaskQueueType type, string workflowId)
    {
        VersionKey? current = null, ramping = null;
        DateTime currentSince = default, rampSince = default;
        bool versionedCurrent = false, versionedRamp = false;
        float percentage = 0;
        foreach (var deployment in deployments.Values)
        {
            if (deployment.Namespace != ns || !deployment.Versions.Values.Any(v => v.Polls(taskQueue, type)))
            {
                continue;
            }
            if (deployment.CurrentChangedTime is { } changed && changed > currentSince)
            {
                if (deployment.Find(deployment.Current)?.Polls(taskQueue, type) == true)
                {
                    (current, currentSince, versionedCurrent) = (deployment.Current, changed, true);
                }
                else if (!versionedCurrent && deployment.Current is null)
                {
                    (current, currentSince) = (null, changed);
                }
            }
            if (deployment.RampPercentageChangedTime is { } rampChanged && rampChanged > rampSince)
            {
                if (deployment.Find(deployment.Ramping)?.Polls(taskQueue, type) == true)
                {
                    (ramping, percentage, rampSince, versionedRamp) = (deployment.Ramping, deployment.RampPercentage, rampChanged, true);
                }
                else if (!versionedRamp && deployment.Ramping is null)
                {
                    (ramping, percentage, rampSince) = (null, deployment.HasRamp ? deployment.RampPercentage : 0, rampChanged);
                }
            }
        }
        return percentage <= 0 ? current
            : percentage >= 100 ? ramping
            : FarmHash.RampThreshold(workflowId) <= percentage ? ramping : current;
    }

    /// <summary>Where a run's workflow tasks and queries go.</summary>
    private VersionKey? WorkflowTarget(WorkflowRun run) =>
        run.IsPinned ? run.EffectiveVersion : TargetVersion(run.Namespace, run.TaskQueue, TaskQueueType.Workflow, run.WorkflowId);

    private VersionKey? WorkflowItemTarget(object item) => item switch
    {
        QueryState query => WorkflowTarget(query.Run),
        WorkflowRun run => WorkflowTarget(run),
        StickyOffer offer => offer.Run.LastWorkerVersion, // the sticky queue's worker, which completed the last task
        _ => null,
    };

    /// <summary>
    /// Where an activity goes: a pinned run's version when that version polls the activity's queue (else, as
    /// an independent activity, the queue's target); an unpinned run's, the queue's target.
    /// </summary>
    private VersionKey? ActivityTarget(ActivityTask task)
    {
        if (!task.Run.Activities.TryGetValue(task.ScheduledEventId, out var activity))
        {
            return null; // stale: dropped by whichever poller meets it
        }
        var queue = activity.Attributes.TaskQueue.Name;
        return task.Run.IsPinned && VersionOf(task.Run.Namespace, task.Run.EffectiveVersion)?.Polls(queue, TaskQueueType.Activity) == true
            ? task.Run.EffectiveVersion
            : TargetVersion(task.Run.Namespace, queue, TaskQueueType.Activity, task.Run.WorkflowId);
    }

    /// <summary>After a routing change: waiting tasks go to the waiting pollers of the versions they now go to.</summary>
    private void Rematch(string ns)
    {
        foreach (var ((queueNs, _), queue) in workflowQueues)
        {
            if (queueNs == ns)
            {
                queue.Rematch(workflowRoute);
            }
        }
        foreach (var ((queueNs, _), queue) in activityQueues)
        {
            if (queueNs == ns)
            {
                queue.Rematch(activityRoute);
            }
        }
    }

    /// <summary>
    /// A sticky queue keeps an unpinned run only while the run stays on its version: once its target is
    /// elsewhere, its next task goes to the normal queue (the server answers "sticky worker unavailable").
    /// </summary>
    private bool MayStaySticky(WorkflowRun run) => run.IsPinned || WorkflowTarget(run) == run.EffectiveVersion;

    /// <summary>
    /// A workflow task starts on a poller: an unpinned run that starts it elsewhere than on its version is
    /// in transition there until the task completes. A pinned run stays put.
    /// </summary>
    private static void NoteWorkflowTaskStart(WorkflowRun run, VersionKey? poller)
    {
        if (!run.IsPinned && (run.Transition is not null || poller != run.EffectiveVersion))
        {
            run.Transition = new VersionTransition(poller);
        }
    }

    /// <summary>
    /// Whether an activity may start on this poller now. An unpinned run's activity that would start on
    /// the version its workflow tasks now go to starts a transition instead: it is held, with the run's
    /// other activities, and a workflow task moves the run there first (as on the real server).
    /// </summary>
    private bool MayStartActivity(WorkflowRun run, VersionKey? poller)
    {
        if (run.IsPinned)
        {
            return true;
        }
        if (run.Transition is not null)
        {
            return false;
        }
        // An activity routed elsewhere than where the workflow's tasks go is independent of the workflow.
        if (poller == run.EffectiveVersion || poller != WorkflowTarget(run))
        {
            return true;
        }
        run.Transition = new VersionTransition(poller);
        ScheduleWorkflowTask(run);
        return false;
    }

    /// <summary>
    /// Records what the worker that completed a workflow task reported, as the server does (its versioning
    /// behaviour and version on the run and on the completed event), and ends a transition to that version.
    /// True when a transition is still under way: the run then needs another workflow task at once.
    /// </summary>
    private bool RecordVersioning(WorkflowRun run, RespondWorkflowTaskCompletedRequest r, WorkflowTaskCompletedEventAttributes completed)
    {
        var options = r.DeploymentOptions;
        var versioned = options?.WorkerVersioningMode == WorkerVersioningMode.Versioned;
        var version = versioned ? new VersionKey(options!.DeploymentName, options.BuildId) : (VersionKey?)null;
        // As the server: a behaviour reported by a worker that does not use versioning is ignored.
        var behavior = options is not null && !versioned ? VersioningBehavior.Unspecified : r.VersioningBehavior;
        completed.WorkerDeploymentName = options?.DeploymentName ?? "";
        completed.DeploymentVersion = version?.ToProto();
        completed.VersioningBehavior = behavior;
        run.WorkerDeploymentName = completed.WorkerDeploymentName;
        run.LastWorkerVersion = version;
        run.Behavior = behavior;
        run.Version = behavior == VersioningBehavior.Unspecified ? null : version;
        if (run.Transition is { } transition && transition.To == version)
        {
            run.Transition = null;
            // Activities held during the transition are queued again, now routed from the new version.
            foreach (var activity in run.Activities.Values.Where(a => a.Phase == ActivityPhase.Queued))
            {
                Enqueue(run, activity);
            }
        }
        return run.Transition is not null;
    }

    /// <summary>DescribeWorkflowExecution's versioning info, as the server fills it in.</summary>
    private static WorkflowExecutionVersioningInfo? VersioningInfo(WorkflowRun run)
    {
        if (run.Behavior == VersioningBehavior.Unspecified && run.Override is null && run.Transition is null)
        {
            return null;
        }
        var info = new WorkflowExecutionVersioningInfo
        {
            Behavior = run.Behavior,
            DeploymentVersion = run.Version?.ToProto(),
            VersioningOverride = run.Override,
            VersionTransition = run.Transition is { } t ? new DeploymentVersionTransition { DeploymentVersion = t.To?.ToProto() } : null,
        };
#pragma warning disable CS0612 // the deprecated string, still filled in by the server
        info.Version = run.Version?.Dotted ?? "";
#pragma warning restore CS0612
        return info;
    }

    /// <summary>
    /// A pinned override at start must name a version that polls the workflow's task queue, as the server
    /// checks; an override pinned to no version is refused.
    /// </summary>
    private void ValidateOverride(string ns, VersioningOverride? o, string taskQueue)
    {
        if (o is null || o.OverrideCase == VersioningOverride.OverrideOneofCase.AutoUpgrade)
        {
            return;
        }
        if (WorkflowRun.OverridePinnedVersion(o) is not { } pinned)
        {
            throw new GrpcStatusException(StatusCode.InvalidArgument, "must provide version if override is pinned.");
        }
        if (VersionOf(ns, pinned)?.Polls(taskQueue, TaskQueueType.Workflow) != true)
        {
            throw new GrpcStatusException(StatusCode.FailedPrecondition,
                $"Pinned version '{pinned}' is not present in task queue '{taskQueue}' of type 'Workflow'");
        }
    }
}

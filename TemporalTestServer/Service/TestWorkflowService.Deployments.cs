using Temporalio.Api.Deployment.V1;
using static Temporalio.Api.WorkflowService.V1.DescribeWorkerDeploymentVersionResponse.Types;
using static Temporalio.Api.WorkflowService.V1.ListWorkerDeploymentsResponse.Types;

namespace TemporalTestServer.Service;

/// <summary>
/// Worker Deployment Versioning, the deployment side: what the SDK's deployment calls and the CLI's
/// <c>temporal worker deployment</c> commands use. Requests are read as the server's frontend reads them
/// (the deprecated <c>version</c> string first, as the CLI still sends it, then the build id), and they are
/// validated, refused and answered with the real server's rules and messages; the routing they change is
/// applied by <c>Routing</c>, the drainage it starts by <c>Drainage</c>.
/// </summary>
public sealed partial class TestWorkflowService
{
    private void MapDeployments(GrpcEndpoint endpoint)
    {
        Map<DescribeWorkerDeploymentRequest>(endpoint, "DescribeWorkerDeployment", r =>
        {
            var deployment = RequireDeployment(r.Namespace, r.DeploymentName);
            return new DescribeWorkerDeploymentResponse { WorkerDeploymentInfo = Info(deployment), ConflictToken = deployment.ConflictToken };
        });
        Map<ListWorkerDeploymentsRequest>(endpoint, "ListWorkerDeployments", ListDeployments);
        Map<DescribeWorkerDeploymentVersionRequest>(endpoint, "DescribeWorkerDeploymentVersion", DescribeVersion);
        Map<SetWorkerDeploymentCurrentVersionRequest>(endpoint, "SetWorkerDeploymentCurrentVersion", SetCurrentVersion);
        Map<SetWorkerDeploymentRampingVersionRequest>(endpoint, "SetWorkerDeploymentRampingVersion", SetRampingVersion);
        Map<DeleteWorkerDeploymentVersionRequest>(endpoint, "DeleteWorkerDeploymentVersion", DeleteVersion);
        Map<DeleteWorkerDeploymentRequest>(endpoint, "DeleteWorkerDeployment", r =>
        {
            RequireNamespace(r.Namespace);
            if (DeploymentOf(r.Namespace, r.DeploymentName) is { } deployment)
            {
                if (deployment.Versions.Count > 0)
                {
                    throw new GrpcStatusException(StatusCode.FailedPrecondition, "deployment has versions, can't be deleted");
                }
                deployments.Remove((r.Namespace, r.DeploymentName));
            }
            return new DeleteWorkerDeploymentResponse(); // deleting what does not exist succeeds, as on the server
        });
    }

    private WorkerDeployment RequireDeployment(string ns, string name)
    {
        RequireNamespace(ns);
        return DeploymentOf(ns, name) ?? throw GrpcStatusException.NotFound(
            $"no Worker Deployment found with name '{name}'; does your Worker Deployment have pollers?");
    }

    private static WorkerDeploymentInfo Info(WorkerDeployment deployment)
    {
        var info = new WorkerDeploymentInfo
        {
            Name = deployment.Name,
            CreateTime = Timestamp.FromDateTime(deployment.CreateTime),
            RoutingConfig = deployment.ToRoutingConfig(),
            LastModifierIdentity = deployment.LastModifierIdentity,
            // Routing changes apply at once here: there are no task queue partitions to propagate to.
            RoutingConfigUpdateState = RoutingConfigUpdateState.Completed,
        };
        info.VersionSummaries.AddRange(deployment.Versions.Values.OrderByDescending(v => v.CreateTime).Select(v => v.ToSummary()));
        return info;
    }

    private IMessage ListDeployments(ListWorkerDeploymentsRequest r)
    {
        RequireNamespace(r.Namespace);
        var skip = int.TryParse(r.NextPageToken.ToStringUtf8(), out var offset) ? offset : 0;
        var take = r.PageSize > 0 ? r.PageSize : 1000;
        var all = deployments.Values.Where(d => d.Namespace == r.Namespace).OrderByDescending(d => d.CreateTime).ToList();
        var response = new ListWorkerDeploymentsResponse();
        foreach (var deployment in all.Skip(skip).Take(take))
        {
            response.WorkerDeployments.Add(new WorkerDeploymentSummary
            {
                Name = deployment.Name,
                CreateTime = Timestamp.FromDateTime(deployment.CreateTime),
                RoutingConfig = deployment.ToRoutingConfig(),
                LatestVersionSummary = deployment.Versions.Values.MaxBy(v => v.CreateTime)?.ToSummary(),
                CurrentVersionSummary = deployment.Find(deployment.Current)?.ToSummary(),
                RampingVersionSummary = deployment.Find(deployment.Ramping)?.ToSummary(),
            });
        }
        if (skip + take < all.Count)
        {
            response.NextPageToken = ByteString.CopyFromUtf8((skip + take).ToString(System.Globalization.CultureInfo.InvariantCulture));
        }
        return response;
    }

    private IMessage DescribeVersion(DescribeWorkerDeploymentVersionRequest r)
    {
        RequireNamespace(r.Namespace);
#pragma warning disable CS0612 // the deprecated string: the CLI and the Go SDK still send it
        var text = !string.IsNullOrEmpty(r.Version) ? r.Version
            : r.DeploymentVersion is { } v ? $"{v.DeploymentName}.{v.BuildId}"
            : throw new GrpcStatusException(StatusCode.InvalidArgument, "deployment version cannot be empty");
#pragma warning restore CS0612
        var version = VersionOf(r.Namespace, RequireVersioned(text)) ?? throw GrpcStatusException.NotFound("Worker Deployment Version not found");
        var response = new DescribeWorkerDeploymentVersionResponse { WorkerDeploymentVersionInfo = version.ToInfo() };
        foreach (var (name, type) in version.TaskQueues.Keys)
        {
            response.VersionTaskQueues.Add(new VersionTaskQueue
            {
                Name = name,
                Type = type,
                Stats = r.ReportTaskQueueStats ? new TaskQueueStats { ApproximateBacklogCount = Backlog(r.Namespace, name, type, version.Key) } : null,
            });
        }
        return response;
    }

    private IMessage SetCurrentVersion(SetWorkerDeploymentCurrentVersionRequest r)
    {
        RequireNamespace(r.Namespace);
        if (string.IsNullOrEmpty(r.DeploymentName))
        {
            throw new GrpcStatusException(StatusCode.InvalidArgument, "deployment name cannot be empty");
        }
#pragma warning disable CS0612
        var text = !string.IsNullOrEmpty(r.Version) ? r.Version
#pragma warning restore CS0612
            : !string.IsNullOrEmpty(r.BuildId) ? $"{r.DeploymentName}.{r.BuildId}" : VersionKey.Unversioned;
        var target = ParseFor(r.DeploymentName, text);
        var deployment = r.AllowNoPollers ? DeploymentOf(r.Namespace, r.DeploymentName, create: true)! : RequireDeployment(r.Namespace, r.DeploymentName);
        if (deployment.Current == target && deployment.LastModifierIdentity == r.Identity)
        {
            // The server answers a repeated request with success and the token it holds.
            return new SetWorkerDeploymentCurrentVersionResponse { ConflictToken = deployment.ConflictToken };
        }
        CheckConflictToken(deployment, r.ConflictToken);
        var version = ExistingOrAllowed(deployment, target, r.AllowNoPollers);
        if (!r.IgnoreMissingTaskQueues && target is not null && deployment.Find(deployment.Current) is { } current)
        {
            CheckTaskQueues(deployment.Namespace, current, version!, "current");
        }
        var previous = deployment.Current;
        if (previous != target)
        {
            var now = Now;
            deployment.Current = target;
            deployment.CurrentChangedTime = now;
            if (deployment.HasRamp && deployment.Ramping == target)
            {
                // The ramping version (or the unversioned ramp) is promoted: the ramp ends.
                (deployment.HasRamp, deployment.Ramping, deployment.RampPercentage) = (false, null, 0);
                deployment.RampingChangedTime = deployment.RampPercentageChangedTime = now;
            }
            deployment.RevisionNumber++;
            if (version is not null)
            {
                Activate(version, now, asCurrent: true);
            }
            if (deployment.Find(previous) is { } before)
            {
                Deactivate(before, now);
            }
            Rematch(r.Namespace);
        }
        deployment.NewConflictToken();
        deployment.LastModifierIdentity = r.Identity;
        var response = new SetWorkerDeploymentCurrentVersionResponse { ConflictToken = deployment.ConflictToken };
#pragma warning disable CS0612 // deprecated in favour of reading the deployment first, but still answered
        response.PreviousVersion = VersionKey.DottedOrUnversioned(previous);
        response.PreviousDeploymentVersion = previous?.ToProto();
#pragma warning restore CS0612
        return response;
    }

    private IMessage SetRampingVersion(SetWorkerDeploymentRampingVersionRequest r)
    {
        RequireNamespace(r.Namespace);
        if (r.Percentage is < 0 or > 100)
        {
            throw new GrpcStatusException(StatusCode.InvalidArgument, "Percentage must be between 0 and 100 (inclusive)");
        }
#pragma warning disable CS0612
        var text = !string.IsNullOrEmpty(r.Version) ? r.Version
#pragma warning restore CS0612
            : !string.IsNullOrEmpty(r.BuildId) ? $"{r.DeploymentName}.{r.BuildId}"
            : r.Percentage > 0 ? VersionKey.Unversioned : "";
        if (text == VersionKey.Unversioned && r.Percentage == 0 && string.IsNullOrEmpty(r.BuildId))
        {
            text = ""; // the Go SDK (under the CLI) unsets a ramp this way
        }
        var unset = text.Length == 0;
        var target = unset ? null : ParseFor(r.DeploymentName, text);
        var deployment = r.AllowNoPollers ? DeploymentOf(r.Namespace, r.DeploymentName, create: true)! : RequireDeployment(r.Namespace, r.DeploymentName);
        var previousText = deployment.HasRamp ? VersionKey.DottedOrUnversioned(deployment.Ramping) : "";
        var previousPercentage = deployment.RampPercentage;
        if (text == previousText && r.Percentage == previousPercentage && deployment.LastModifierIdentity == r.Identity)
        {
            return new SetWorkerDeploymentRampingVersionResponse { ConflictToken = deployment.ConflictToken };
        }
        CheckConflictToken(deployment, r.ConflictToken);
        if (!unset && target == deployment.Current)
        {
            throw new GrpcStatusException(StatusCode.FailedPrecondition, $"requested ramping version {text} is already current");
        }
        var version = unset ? null : ExistingOrAllowed(deployment, target, r.AllowNoPollers);
        var previous = deployment.HasRamp ? deployment.Find(deployment.Ramping) : null;
        if (text != previousText || r.Percentage != previousPercentage)
        {
            var now = Now;
            var newRamp = !unset && text != previousText;
            if (newRamp && !r.IgnoreMissingTaskQueues && version is not null && deployment.Find(deployment.Current) is { } current)
            {
                CheckTaskQueues(deployment.Namespace, current, version, "ramping");
            }
            if (unset || newRamp)
            {
                deployment.RampingChangedTime = now;
                if (previous is not null)
                {
                    Deactivate(previous, now);
                }
            }
            if (newRamp && version is not null)
            {
                Activate(version, now, asCurrent: false);
            }
            (deployment.HasRamp, deployment.Ramping, deployment.RampPercentage) = (!unset, target, r.Percentage);
            deployment.RampPercentageChangedTime = now;
            if (version is not null)
            {
                version.RampPercentage = r.Percentage;
                version.RoutingUpdateTime = now;
            }
            deployment.RevisionNumber++;
            Rematch(r.Namespace);
        }
        deployment.NewConflictToken();
        deployment.LastModifierIdentity = r.Identity;
        var response = new SetWorkerDeploymentRampingVersionResponse { ConflictToken = deployment.ConflictToken };
#pragma warning disable CS0612 // deprecated in favour of reading the deployment first, but still answered
        response.PreviousDeploymentVersion = previous?.Key.ToProto();
        response.PreviousVersion = previousText;
        response.PreviousPercentage = previousPercentage;
#pragma warning restore CS0612
        return response;
    }

    /// <summary>
    /// The server's rules: a version that does not exist is already deleted; one that is current or ramping,
    /// draining (unless asked to skip that check) or polled by a live worker is refused.
    /// </summary>
    private IMessage DeleteVersion(DeleteWorkerDeploymentVersionRequest r)
    {
        RequireNamespace(r.Namespace);
#pragma warning disable CS0612
        var text = r.DeploymentVersion is { } v ? $"{v.DeploymentName}.{v.BuildId}" : r.Version;
#pragma warning restore CS0612
        var key = RequireVersioned(text);
        var deployment = RequireDeployment(r.Namespace, key.DeploymentName);
        if (deployment.Find(key) is not { } version)
        {
            return new DeleteWorkerDeploymentVersionResponse();
        }
        if (deployment.Current == key || (deployment.HasRamp && deployment.Ramping == key))
        {
            throw new GrpcStatusException(StatusCode.FailedPrecondition, $"version '{key}' cannot be deleted since it is current or ramping");
        }
        if (!r.SkipDrainage && version.Drainage == VersionDrainageStatus.Draining)
        {
            throw new GrpcStatusException(StatusCode.FailedPrecondition, $"version '{key}' cannot be deleted since it is draining");
        }
        if (HasLivePollers(version))
        {
            throw new GrpcStatusException(StatusCode.FailedPrecondition, $"version '{key}' cannot be deleted since it has active pollers");
        }
        deployment.Versions.Remove(key.BuildId);
        deployment.LastModifierIdentity = r.Identity;
        Rematch(r.Namespace);
        return new DeleteWorkerDeploymentVersionResponse();
    }

    private static VersionKey? ParseFor(string deploymentName, string text)
    {
        var key = VersionKey.Parse(text);
        return key is { } k && k.DeploymentName != deploymentName
            ? throw new GrpcStatusException(StatusCode.InvalidArgument, $"invalid version string '{text}' does not match deployment name '{deploymentName}'")
            : key;
    }

    private static VersionKey RequireVersioned(string text) =>
        VersionKey.Parse(text) ?? throw new GrpcStatusException(StatusCode.InvalidArgument,
            $"invalid version string \"{text}\", expected format is \"<deployment_name>.<build_id>\"");

    private static void CheckConflictToken(WorkerDeployment deployment, ByteString token)
    {
        if (!token.IsEmpty && token != deployment.ConflictToken)
        {
            throw new GrpcStatusException(StatusCode.FailedPrecondition, "conflict token mismatch");
        }
    }

    /// <summary>The target version, which must exist unless the caller allows a version no worker has polled yet.</summary>
    private DeploymentVersion? ExistingOrAllowed(WorkerDeployment deployment, VersionKey? target, bool allowNoPollers) =>
        target is not { } key ? null
        : deployment.Find(key) ?? (allowNoPollers
            ? VersionOf(deployment.Namespace, key, create: true)
            : throw GrpcStatusException.NotFound($"build ID '{key.BuildId}' not found in Worker Deployment '{key.DeploymentName}'"));

    /// <summary>
    /// Refuses a version that lacks a task queue the current version polls and still has work for (the
    /// server also counts a queue's recent add rate; here, its backlog): that queue would become unversioned.
    /// </summary>
    private void CheckTaskQueues(string ns, DeploymentVersion current, DeploymentVersion proposed, string role)
    {
        foreach (var (name, type) in current.TaskQueues.Keys)
        {
            if (!proposed.Polls(name, type) && Backlog(ns, name, type, current.Key) > 0)
            {
                throw new GrpcStatusException(StatusCode.FailedPrecondition,
                    $"proposed {role} version '{proposed.Key}' is missing active task queues from the current version; these would become unversioned if it is set as the {role} version");
            }
        }
    }

    private long Backlog(string ns, string taskQueue, TaskQueueType type, VersionKey version) => type == TaskQueueType.Activity
        ? ActivityQueue(ns, taskQueue).Backlog(version, activityRoute)
        : WorkflowQueue(ns, taskQueue).Backlog(version, workflowRoute);
}

using k8s;
using k8s.Models;
using Worker.Temporal;

namespace AppHost.Tests.Deployment;

/// <summary>
/// What every rendered Kubernetes output must meet, checked on the objects the real tools rendered: probes,
/// securityContext, compute, pinned images, secrets only in Secrets, selectors and targets that exist, network
/// policies, and a worker grace period that covers its shutdown window. A WorkerDeployment's pod template (the
/// temporal-worker-controller's pods) is held to the same as a Deployment's.
/// </summary>
internal static class KubernetesPolicy
{
    public static void Check(string rendered, List<IKubernetesObject> objects)
    {
        var workerDeployments = WorkerControllerObjects.WorkerDeployments(rendered);
        var pods = Pods(rendered, objects);
        Assert.NotEmpty(pods);
        foreach (var (owner, template, longRunning) in pods)
        {
            var spec = template.Spec;
            Assert.True(spec.SecurityContext?.RunAsNonRoot == true, $"{owner}: pod runAsNonRoot");
            Assert.True(spec.SecurityContext.RunAsUser > 0, $"{owner}: a fixed non-root uid");
            Assert.Equal("RuntimeDefault", spec.SecurityContext.SeccompProfile?.Type);
            Assert.False(spec.AutomountServiceAccountToken ?? true, $"{owner}: no service-account token in the pod");
            foreach (var container in (spec.InitContainers ?? []).Concat(spec.Containers))
            {
                var where = $"{owner}/{container.Name}";
                var security = container.SecurityContext;
                Assert.True(security?.AllowPrivilegeEscalation == false, $"{where}: allowPrivilegeEscalation false");
                Assert.True(security.ReadOnlyRootFilesystem == true, $"{where}: read-only root filesystem");
                Assert.Equal(["ALL"], security.Capabilities?.Drop ?? []);
                Assert.True(container.Resources?.Requests?.ContainsKey("cpu") == true && container.Resources.Requests.ContainsKey("memory"), $"{where}: requests");
                Assert.True(container.Resources.Limits?.ContainsKey("memory") == true, $"{where}: a memory limit");
                Assert.Matches(@"^[^:@\s]+(:\d+)?/?[^:@\s]*(:[\w.\-]+|@sha256:[0-9a-f]{64})$", container.Image);
                Assert.False(container.Image.EndsWith(":latest", StringComparison.Ordinal), $"{where}: a pinned image, not latest");
            }
            if (longRunning)
            {
                foreach (var container in spec.Containers)
                {
                    Assert.True(container.ReadinessProbe is not null && container.LivenessProbe is not null && container.StartupProbe is not null,
                        $"{owner}/{container.Name}: readiness, liveness and startup probes");
                }
                // Where the process writes: /tmp at least is a volume, the root filesystem being read-only.
                Assert.Contains(spec.Containers[0].VolumeMounts ?? [], m => m.MountPath == "/tmp");
            }
        }

        var labels = pods.Select(p => p.Template.Metadata.Labels).ToList();
        foreach (var service in objects.OfType<V1Service>())
        {
            Assert.True(labels.Any(l => Matches(service.Spec.Selector, l)), $"Service {service.Name()} selects no pod");
        }
        foreach (var budget in objects.OfType<V1PodDisruptionBudget>())
        {
            Assert.True(labels.Any(l => Matches(budget.Spec.Selector.MatchLabels, l)), $"PodDisruptionBudget {budget.Name()} selects no pod");
        }
        var workloads = objects.OfType<IKubernetesObject<V1ObjectMeta>>().Where(o => o is V1Deployment or V1StatefulSet).Select(o => (o.Kind, o.Name())).ToList();
        foreach (var hpa in objects.OfType<V2HorizontalPodAutoscaler>())
        {
            Assert.Contains((hpa.Spec.ScaleTargetRef.Kind, hpa.Spec.ScaleTargetRef.Name), workloads);
        }
        foreach (var document in GeneratedDeployment.Documents(rendered).Where(d => GeneratedDeployment.KindOf(d) == "ScaledObject"))
        {
            var target = System.Text.RegularExpressions.Regex.Match(document, @"scaleTargetRef:\s+name: (\S+)").Groups[1].Value;
            Assert.Contains(("Deployment", target), workloads);
            Assert.DoesNotContain(objects.OfType<V2HorizontalPodAutoscaler>(), h => h.Spec.ScaleTargetRef.Name == target); // KEDA owns the HPA
        }

        // The worker controller makes one HPA per build from a template: its target is left empty for the controller
        // to fill in, and the WorkerDeployment it names exists.
        foreach (var template in WorkerControllerObjects.ResourceTemplates(rendered))
        {
            Assert.Contains(template.WorkerDeployment, workerDeployments.Select(d => d.Name));
            Assert.Empty((Dictionary<object, object>)((Dictionary<object, object>)template.Template["spec"])["scaleTargetRef"]);
        }

        var policies = objects.OfType<V1NetworkPolicy>().ToList();
        // Default deny over every pod of the system (and no one else's, in a shared namespace).
        var defaultDeny = Assert.Single(policies, p => p.Name().EndsWith("-default-deny", StringComparison.Ordinal));
        Assert.Equal(["Ingress", "Egress"], defaultDeny.Spec.PolicyTypes);
        Assert.Null(defaultDeny.Spec.Ingress);
        Assert.All(pods, p => Assert.True(Matches(defaultDeny.Spec.PodSelector.MatchLabels, p.Template.Metadata.Labels), $"{p.Owner} outside default deny"));
        foreach (var (owner, template, _) in pods)
        {
            Assert.True(policies.Any(p => p != defaultDeny && Matches(p.Spec.PodSelector.MatchLabels, template.Metadata.Labels)),
                $"{owner}: a NetworkPolicy of its own");
        }

        // Secret values: only in Secrets (base64), never in a ConfigMap, an env value or an argument.
        foreach (var sentinel in GeneratedDeployment.SecretSentinels.Values)
        {
            Assert.DoesNotContain(sentinel, rendered, StringComparison.Ordinal);
        }

        // The worker is a Deployment, or in the versioned form the controller's WorkerDeployment.
        var worker = objects.OfType<V1Deployment>().SingleOrDefault(d => d.Name() == "worker")?.Spec.Template
            ?? workerDeployments.Single(d => d.Name == "worker").Template;
        var window = new TemporalSettings().GracefulShutdownTimeout + TemporalHostingExtensions.HostShutdownMargin;
        Assert.True(worker.Spec.TerminationGracePeriodSeconds > window.TotalSeconds,
            $"the worker's grace period ({worker.Spec.TerminationGracePeriodSeconds} s) must exceed its shutdown window ({window.TotalSeconds} s)");
    }

    /// <summary>Every pod template of a rendered output, named by its owner: the workloads' and the worker controller's WorkerDeployments'.</summary>
    public static List<(string Owner, V1PodTemplateSpec Template, bool LongRunning)> Pods(string rendered, List<IKubernetesObject> objects) =>
        [.. PodTemplates(objects), .. WorkerControllerObjects.WorkerDeployments(rendered).Select(d => ($"WorkerDeployment/{d.Name}", d.Template, true))];

    private static IEnumerable<(string Owner, V1PodTemplateSpec Template, bool LongRunning)> PodTemplates(List<IKubernetesObject> objects)
    {
        foreach (var o in objects)
        {
            switch (o)
            {
                case V1Deployment d:
                    yield return ($"Deployment/{d.Name()}", d.Spec.Template, true);
                    break;
                case V1StatefulSet s:
                    yield return ($"StatefulSet/{s.Name()}", s.Spec.Template, true);
                    break;
                case V1Job j:
                    yield return ($"Job/{j.Name()}", j.Spec.Template, false);
                    break;
                case V1CronJob c:
                    yield return ($"CronJob/{c.Name()}", c.Spec.JobTemplate.Spec.Template, false);
                    break;
            }
        }
    }

    /// <summary>Whether a non-empty label selector (matchLabels, a Service's selector) selects <paramref name="labels"/>.</summary>
    public static bool Matches(IDictionary<string, string>? selector, IDictionary<string, string> labels) =>
        selector is { Count: > 0 } && selector.All(s => labels.TryGetValue(s.Key, out var value) && value == s.Value);
}

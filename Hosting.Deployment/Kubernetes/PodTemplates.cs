using Aspire.Hosting.Deployment.Planning;
using Aspire.Hosting.Deployment.Yaml;

namespace Aspire.Hosting.Deployment.Kubernetes;

/// <summary>
/// The pod template of a workload's Deployment, StatefulSet or Job: its container (environment with secrets by
/// reference, probes, compute, securityContext), the init containers that hold it until its dependencies are
/// ready, and its volumes (writable paths, files, the API token only a waiting init container mounts).
/// </summary>
internal sealed class PodTemplates(ManifestValues values, KubernetesObjects objects)
{
    private const string TokenPath = "/var/run/secrets/kubernetes.io/serviceaccount";

    /// <summary>The pod annotation that rolls the pods when their settings change (<see cref="ManifestValues.SettingsChecksum"/>).</summary>
    public const string SettingsChecksumAnnotation = "checksum/settings";

    private Plan Plan => values.Plan;

    public Map For(Workload w)
    {
        var metadata = new Map { { "labels", objects.Labels(w) } };
        var annotations = new Map();
        if (w.Settings.Metrics is { } metrics)
        {
            annotations.Add("prometheus.io/scrape", "true");
            annotations.Add("prometheus.io/port", ManifestValues.Number(WorkloadPolicy.PortOf(w, metrics.Endpoint)));
            annotations.Add("prometheus.io/path", metrics.Path);
        }
        if (objects.Settings(w).ToList() is { Count: > 0 } settings)
        {
            annotations.Add(SettingsChecksumAnnotation, values.SettingsChecksum(settings));
        }
        metadata.Add("annotations", annotations.Count > 0 ? annotations : null);
        var spec = new Map
        {
            { "serviceAccountName", w.Name },
            // No token in the pod; a waiting init container gets its own (PodVolumes).
            { "automountServiceAccountToken", false },
            { "securityContext", values.PodSecurityContext(w) },
            { "terminationGracePeriodSeconds", WorkloadPolicy.GracePeriodSeconds(w) },
        };
        if (!w.IsLongRunning)
        {
            spec.Add("restartPolicy", "OnFailure");
        }
        var init = InitContainers(w);
        spec.Add("initContainers", init.Count > 0 ? init : null);
        spec.Add("containers", new Seq { Container(w) });
        spec.Add("volumes", PodVolumes(w));
        return new Map { { "metadata", metadata }, { "spec", spec } };
    }

    private Map Container(Workload w)
    {
        var container = new Map
        {
            { "name", w.Name },
            { "image", values.Image(w) },
            { "imagePullPolicy", values.ImagePullPolicy(w) },
        };
        if (w.Entrypoint is { } entrypoint)
        {
            container.Add("command", Seq.Of(entrypoint.Select(KubernetesObjects.Escape)));
        }
        if (w.Args.Count > 0)
        {
            container.Add("args", Seq.Of(w.Args.Select(a => a.HasSecret
                ? throw new DeploymentModelException($"An argument of '{w.Name}' holds a secret: pass it through the environment.")
                : KubernetesObjects.Escape(a.LiteralText!))));
        }
        if (w.Ports.Count > 0)
        {
            container.Add("ports", new Seq(w.Ports.Select(p => (YamlNode)new Map { { "name", KubernetesObjects.PortName(p) }, { "containerPort", p.TargetPort }, { "protocol", "TCP" } })));
        }
        if (objects.Settings(w).Any())
        {
            container.Add("envFrom", new Seq { new Map { { "configMapRef", new Map { { "name", $"{w.Name}-settings" } } } } });
        }
        var env = Environment(w);
        container.Add("env", env.Count > 0 ? env : null);
        container.Add("resources", values.Resources(w));
        container.Add("securityContext", values.ContainerSecurityContext(w));
        if (w.IsLongRunning)
        {
            container.Add("startupProbe", Probe(w, WorkloadPolicy.Startup(w), periodSeconds: 5, failureThreshold: 60));
            container.Add("readinessProbe", Probe(w, WorkloadPolicy.Readiness(w), periodSeconds: 10, failureThreshold: 3));
            container.Add("livenessProbe", Probe(w, WorkloadPolicy.Liveness(w), periodSeconds: 20, failureThreshold: 3));
        }
        container.Add("volumeMounts", VolumeMounts(w));
        return container;
    }

    /// <summary>
    /// Secrets by reference, before anything that uses them: Kubernetes expands <c>$(NAME)</c> only from variables
    /// defined earlier, which is how a connection string carries a password without holding it.
    /// </summary>
    private Seq Environment(Workload w)
    {
        var env = new Seq();
        foreach (var variable in w.Settings.PodAddressVariables)
        {
            env.Add(new Map
            {
                { "name", variable },
                { "valueFrom", new Map { { "fieldRef", new Map { { "fieldPath", "status.podIP" } } } } },
            });
        }
        var composite = w.Environment.Where(e => e.Value.HasSecret && e.Value.WholeSecret is null).ToList();
        foreach (var secret in composite.SelectMany(e => e.Value.Secrets).Distinct())
        {
            var entry = KubernetesObjects.SecretEnv(KubernetesObjects.SecretVariable(secret), values.SecretNameNode, secret.Key);
            // A secret only the connection strings of one switchable group use is read only while that group is on: an
            // existing server's values come from its own Secret, and the chart's needs no key for them.
            var groups = composite.Where(e => e.Value.Secrets.Contains(secret)).Select(e => values.ForeignGroup(w, e.Value)).Distinct().ToList();
            env.Add(groups is [{ } group] ? values.OnlyWhileGroupIsOn(group, entry) : entry);
        }
        foreach (var variable in w.Environment.Where(e => !objects.Settings(w).Contains(e)))
        {
            values.AddEnvironment(env, w, variable, v => v.Value.WholeSecret is { } whole
                ? KubernetesObjects.SecretEnv(v.Name, values.SecretNameNode, whole.Key)
                : new Map { { "name", v.Name }, { "value", values.Text(v.Value, s => $"$({KubernetesObjects.SecretVariable(s)})") } });
        }
        return env;
    }

    private static Map? Probe(Workload w, DeploymentProbe? probe, int periodSeconds, int failureThreshold)
    {
        if (probe is null)
        {
            return null;
        }
        var map = probe switch
        {
            HttpProbe http => new Map { { "httpGet", new Map { { "path", http.Path }, { "port", WorkloadPolicy.PortOf(w, http.Endpoint) } } } },
            ExecProbe exec => new Map { { "exec", new Map { { "command", Seq.Of(exec.Command) } } } },
            GrpcProbe grpc => new Map { { "grpc", GrpcAction(w, grpc) } },
            TcpProbe tcp => new Map { { "tcpSocket", new Map { { "port", WorkloadPolicy.PortOf(w, tcp.Endpoint) } } } },
            _ => throw new InvalidOperationException(probe.GetType().Name),
        };
        map.Add("periodSeconds", periodSeconds);
        map.Add("timeoutSeconds", 5);
        map.Add("failureThreshold", failureThreshold);
        return map;
    }

    private static Map GrpcAction(Workload w, GrpcProbe grpc)
    {
        var action = new Map { { "port", WorkloadPolicy.PortOf(w, grpc.Endpoint) } };
        action.Add("service", grpc.Service is null ? null : new Scalar(grpc.Service));
        return action;
    }

    private Seq InitContainers(Workload w)
    {
        var init = new Seq();
        foreach (var dependency in w.Dependencies)
        {
            var target = Plan[dependency.Target];
            var container = dependency.Completion ? WaitForJob(target) : WaitForService(target);
            if (container is null)
            {
                continue;
            }
            init.Add(values.DependencyCondition(target) is { } condition ? new Conditional(condition, new Seq { container }) : container);
        }
        return init;
    }

    private static Map? WaitForService(Workload target)
    {
        if (target.Ports.Count == 0)
        {
            return null;
        }
        var port = target.Ports[0].TargetPort;
        return Helper($"wait-for-{target.Name}", HelperImages.Busybox,
            Seq.Of(["/bin/sh", "-c", $"until nc -z -w 2 {target.Name} {port}; do echo waiting for {target.Name}:{port}; sleep 2; done"]), mounts: null);
    }

    private Map WaitForJob(Workload job) =>
        Helper($"wait-for-{job.Name}", HelperImages.Kubectl,
            new Seq { "kubectl", "wait", "--for=condition=complete", values.JobName(job, prefix: "job/"), "--timeout=30m" },
            new Seq { new Map { { "name", "api-token" }, { "mountPath", TokenPath }, { "readOnly", true } } });

    private static Map Helper(string name, string image, Seq command, Seq? mounts)
    {
        var container = new Map
        {
            { "name", name },
            { "image", image },
            { "imagePullPolicy", "IfNotPresent" },
            { "command", command },
            { "resources", HelperResources() },
            {
                "securityContext", new Map
                {
                    { "allowPrivilegeEscalation", false },
                    { "readOnlyRootFilesystem", true },
                    { "runAsNonRoot", true },
                    { "runAsUser", HelperImages.HelperUser },
                    { "capabilities", new Map { { "drop", Seq.Of(["ALL"]) } } },
                }
            },
        };
        container.Add("volumeMounts", mounts);
        return container;
    }

    private static Map HelperResources() => new()
    {
        { "requests", new Map { { "cpu", "10m" }, { "memory", "16Mi" } } },
        { "limits", new Map { { "memory", "64Mi" } } },
    };

    private static string WritableVolume(int index) => $"writable-{index}";

    private static string FilesVolume(int index) => $"files-{index}";

    private static string SecretVolume(int index) => $"secret-{index}";

    private static string Directory(FileMount file) => file.Directory.Length > 1 ? file.Directory.TrimEnd('/') : file.Directory;

    private static IEnumerable<string> FileDirectories(Workload w) => w.Files.Select(Directory).Distinct(StringComparer.Ordinal);

    private static Seq VolumeMounts(Workload w)
    {
        var mounts = new Seq();
        foreach (var (path, index) in w.Settings.WritablePaths.Select((p, i) => (p, i)))
        {
            mounts.Add(new Map { { "name", WritableVolume(index) }, { "mountPath", path } });
        }
        foreach (var volume in w.Volumes)
        {
            mounts.Add(new Map { { "name", volume.Name }, { "mountPath", volume.Target } });
        }
        foreach (var (secret, index) in w.Settings.SecretMounts.Select((m, i) => (m, i)))
        {
            mounts.Add(new Map { { "name", SecretVolume(index) }, { "mountPath", secret.Path }, { "readOnly", true } });
        }
        // A directory, not each file with subPath: the kubelet then updates the files when the ConfigMap changes, so a
        // process that reads its file again (Temporal's dynamic configuration) takes a change without a restart. The
        // directory holds the model's files only.
        foreach (var (directory, index) in FileDirectories(w).Select((d, i) => (d, i)))
        {
            mounts.Add(new Map { { "name", FilesVolume(index) }, { "mountPath", directory }, { "readOnly", true } });
        }
        return mounts;
    }

    private Seq PodVolumes(Workload w)
    {
        var volumes = new Seq();
        foreach (var index in Enumerable.Range(0, w.Settings.WritablePaths.Count))
        {
            volumes.Add(new Map { { "name", WritableVolume(index) }, { "emptyDir", new Map { { "sizeLimit", "256Mi" } } } });
        }
        foreach (var (directory, index) in FileDirectories(w).Select((d, i) => (d, i)))
        {
            var items = new Seq(w.Files.Where(f => Directory(f) == directory).Select(f => (YamlNode)new Map { { "key", f.FileName }, { "path", f.FileName } }));
            volumes.Add(new Map { { "name", FilesVolume(index) }, { "configMap", new Map { { "name", $"{w.Name}-files" }, { "items", items } } } });
        }
        foreach (var (mount, index) in w.Settings.SecretMounts.Select((m, i) => (m, i)))
        {
            // 0440: readable by the pod's group (fsGroup) as PostgreSQL wants a key it does not own, and by no one else.
            var secret = new Map { { "secretName", mount.SecretName }, { "optional", true }, { "defaultMode", 288 } };
            if (mount.Keys is { } keys)
            {
                secret.Add("items", new Seq(keys.Select(k => (YamlNode)new Map { { "key", k }, { "path", k } })));
            }
            volumes.Add(new Map { { "name", SecretVolume(index) }, { "secret", secret } });
        }
        if (w.Kind != WorkloadKind.StatefulService)
        {
            foreach (var volume in w.Volumes)
            {
                volumes.Add(new Map { { "name", volume.Name }, { "persistentVolumeClaim", new Map { { "claimName", volume.Name } } } });
            }
        }
        if (KubernetesObjects.NeedsApi(w))
        {
            // What automountServiceAccountToken would mount, for the waiting init container only.
            var token = new Map
            {
                { "name", "api-token" },
                {
                    "projected", new Map
                    {
                        {
                            "sources", new Seq
                            {
                                new Map { { "serviceAccountToken", new Map { { "path", "token" }, { "expirationSeconds", 3607 } } } },
                                new Map { { "configMap", new Map { { "name", "kube-root-ca.crt" }, { "items", new Seq { new Map { { "key", "ca.crt" }, { "path", "ca.crt" } } } } } } },
                                new Map
                                {
                                    {
                                        "downwardAPI", new Map
                                        {
                                            { "items", new Seq { new Map { { "path", "namespace" }, { "fieldRef", new Map { { "fieldPath", "metadata.namespace" } } } } } },
                                        }
                                    },
                                },
                            }
                        },
                    }
                },
            };
            volumes.Add(KubernetesObjects.ApiCondition(values, w) is { } condition ? new Conditional(condition, new Seq { token }) : token);
        }
        return volumes;
    }
}

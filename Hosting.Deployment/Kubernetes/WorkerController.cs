using System.Globalization;
using System.Text;
using System.Text.Json.Nodes;
using Aspire.Hosting.Deployment.Helm;
using Aspire.Hosting.Deployment.Planning;
using Aspire.Hosting.Deployment.Yaml;

namespace Aspire.Hosting.Deployment.Kubernetes;

/// <summary>
/// The versioned form of a Temporal worker, run by Temporal's worker controller (temporal-worker-controller 1.8,
/// <c>temporal.io/v1alpha1</c>): a <c>WorkerDeployment</c> with the workload's own pod template, from which the
/// controller makes one Deployment per build and keeps each build running until its pinned workflows have drained;
/// a <c>Connection</c> to the frontend; and, instead of the HPA, one HPA per build through a <c>WorkerResourceTemplate</c>.
/// Everything the outputs know of the controller is here: the Kustomize component and the Helm switch.
/// </summary>
internal static class WorkerController
{
    private const string ApiVersion = "temporal.io/v1alpha1";

    /// <summary>The Kustomize component's folder under <c>components/</c>.</summary>
    public const string Component = "worker-versioning";

    /// <summary>Where the controller's charts install it (its documentation's namespace): its calls to the frontend come from there.</summary>
    private const string ControllerNamespace = "temporal-system";

    /// <summary>
    /// <c>components/worker-versioning</c>: patches that turn each versioned workload's Deployment into a
    /// WorkerDeployment and its HPA into a WorkerResourceTemplate, in place, so whatever the overlays below changed
    /// in them (production's spread over zones, development's small CPU request and replica bounds, a release's
    /// image tag) carries over; plus the Connection, and the frontend's door for the controller.
    /// </summary>
    public static IEnumerable<(string File, YamlNode[] Documents)> KustomizeComponent(ManifestValues values, IReadOnlyList<Workload> versioned)
    {
        var patches = new Seq();
        foreach (var w in versioned)
        {
            var v = w.Versioning!;
            patches.Add(JsonPatch("Deployment", w.Name, """
                # The Deployment becomes the controller's WorkerDeployment with the same pod template; the controller
                # makes one Deployment per build from it, with its own selector and rollout.

                """, new Seq
                {
                    Op("replace", "/apiVersion", ApiVersion),
                    Op("replace", "/kind", "WorkerDeployment"),
                    Op("remove", "/spec/selector"),
                    Op("remove", "/spec/strategy"),
                    Op("remove", "/spec/revisionHistoryLimit"),
                    Op("add", "/spec/workerOptions", new Map { { "connectionRef", new Map { { "name", v.ConnectionName } } }, { "temporalNamespace", v.Temporal.Namespace } }),
                    Op("add", "/spec/rollout", Rollout(v)),
                    Op("add", "/spec/sunset", Sunset(v)),
                }));
            if (w.Settings.Autoscale is null)
            {
                continue; // the Deployment's replicas stay: a fixed count per build
            }
            patches.Add(new Map
            {
                {
                    "patch", $"""
                        # Must match: the keda component deletes this HPA, and KEDA's ScaledObject would then scale a
                        # Deployment that no longer exists, so the two components together fail here. The empty
                        # scaleTargetRef is the controller's cue to fill in each build's Deployment.
                        apiVersion: autoscaling/v2
                        kind: HorizontalPodAutoscaler
                        metadata:
                          name: {w.Name}
                        spec:
                          scaleTargetRef:
                            $patch: replace

                        """.ReplaceLineEndings("\n")
                },
            });
            patches.Add(JsonPatch("HorizontalPodAutoscaler", w.Name, """
                # The HPA becomes a WorkerResourceTemplate: the controller makes one HPA per build from it.

                """, new Seq
                {
                    // JSON patch cannot move a value into its own child: the HPA's spec waits at the top meanwhile.
                    Move(from: "/spec", to: "/horizontalPodAutoscalerSpec"),
                    Op("add", "/spec", new Map
                    {
                        { "workerDeploymentRef", new Map { { "name", w.Name } } },
                        { "template", new Map { { "apiVersion", "autoscaling/v2" }, { "kind", "HorizontalPodAutoscaler" } } },
                    }),
                    Move(from: "/horizontalPodAutoscalerSpec", to: "/spec/template/spec"),
                    Op("replace", "/apiVersion", ApiVersion),
                    Op("replace", "/kind", "WorkerResourceTemplate"),
                }));
        }
        var component = new Map
        {
            { "apiVersion", "kustomize.config.k8s.io/v1alpha1" },
            { "kind", "Component" },
            { "resources", Seq.Of(["connections.yaml"]) },
            { "patches", patches },
        };
        yield return ("kustomization.yaml", [component]);

        // A component added by an overlay does not get the base's namespace: its objects name it themselves.
        List<YamlNode> documents = [];
        foreach (var v in versioned.Select(w => w.Versioning!).DistinctBy(v => v.ConnectionName))
        {
            var frontend = v.Temporal.Frontend;
            // The controller calls the frontend from its own namespace: the cluster DNS name, not the short one.
            var connection = Connection(values, v, new Scalar(frontend is null ? v.Temporal.Endpoint : $"{frontend.Target}.{values.Options.Name}.svc:{frontend.Port}"));
            ((Map)connection["metadata"]!).Add("namespace", values.Options.Name);
            documents.Add(connection);
            if (frontend is not null)
            {
                var allow = AllowController(values, frontend, new Scalar(ControllerNamespace));
                ((Map)allow["metadata"]!).Add("namespace", values.Options.Name);
                documents.Add(allow);
            }
        }
        yield return ("connections.yaml", [.. documents]);
    }

    /// <summary>
    /// <c>templates/{name}-versioning.yaml</c>: behind <c>workerVersioning.enabled</c>, the same objects as the
    /// component (the Deployment and HPA are off then); its values and their schema go into <paramref name="values"/>.
    /// </summary>
    public static string HelmTemplate(HelmValues values, KubernetesObjects objects, Workload w)
    {
        var v = w.Versioning!;
        var enabled = values.Ref(w, "workerVersioning.enabled");
        values.Section(w).Add("workerVersioning", new Map
        {
            { "enabled", false },
            { "rollout", Rollout(v) },
            { "sunset", Sunset(v) },
            // Set it (to the image tag, say) only where a tag always names the code: then a change of settings rolls
            // the build's pods in place instead of making a new version (each upgrade renames the jobs its pods wait for).
            { "buildId", "" },
            { "controllerNamespace", ControllerNamespace },
        });
        values.Schemas[values.PathTo(w, "workerVersioning")] = ValuesSchema();

        var group = v.Temporal.Group;
        var spec = new Map();
        if (w.Settings.Autoscale is null)
        {
            spec.Add("replicas", values.Replicas(w));
        }
        else
        {
            spec.If($"not {values.Ref(w, "autoscaling.enabled")}", new Map { { "replicas", values.Replicas(w) } });
        }
        var options = new Map
        {
            { "connectionRef", new Map { { "name", v.ConnectionName } } },
            // What the controller injects as TEMPORAL_NAMESPACE, above the worker's own settings: the namespace it polls.
            { "temporalNamespace", group is null ? new Scalar(v.Temporal.Namespace) : new Template($"ternary \"{v.Temporal.Namespace}\" .Values.{group}.namespace .Values.{group}.enabled | quote") },
        };
        var buildId = values.Ref(w, "workerVersioning.buildId");
        options.If(buildId, new Map { { "unsafeCustomBuildID", new Template($"{buildId} | toString | quote") } });
        spec.Add("workerOptions", options);
        spec.Add("rollout", new TemplateBlock($"toYaml {values.Ref(w, "workerVersioning.rollout")}"));
        spec.Add("sunset", new TemplateBlock($"toYaml {values.Ref(w, "workerVersioning.sunset")}"));
        spec.Add("template", objects.PodTemplate(w));
        List<YamlNode> documents = [Document("WorkerDeployment", objects.Metadata(w), spec)];

        var frontend = v.Temporal.Frontend;
        YamlNode hostPort = frontend is null ? new Scalar(v.Temporal.Endpoint)
            : group is null ? new Template($"printf \"{frontend.Target}.%s.svc:{frontend.Port}\" .Release.Namespace | quote")
            : new Template($"ternary (printf \"{frontend.Target}.%s.svc:{frontend.Port}\" .Release.Namespace) .Values.{group}.frontendAddress .Values.{group}.enabled | quote");
        var connection = Connection(values, v, hostPort);
        // An existing Temporal with an API key (Temporal Cloud): the controller and the pods it makes use the worker's key.
        var apiKey = w.Environment.SelectMany(e => e.Value.Resources).FirstOrDefault(r => r.Group == group)?.WhenExternal?.SecretEnvironment?.Values.FirstOrDefault();
        if (group is not null && apiKey is not null)
        {
            ((Map)connection["spec"]!).If($"and (not .Values.{group}.enabled) .Values.{group}.existingSecret", new Map
            {
                { "apiKeySecretRef", new Map { { "name", new Template($".Values.{group}.existingSecret") }, { "key", apiKey } } },
            });
        }
        documents.Add(connection);
        if (w.Settings.Autoscale is not null)
        {
            var template = new Map
            {
                { "workerDeploymentRef", new Map { { "name", w.Name } } },
                {
                    "template", new Map
                    {
                        { "apiVersion", "autoscaling/v2" },
                        { "kind", "HorizontalPodAutoscaler" },
                        // The empty scaleTargetRef is the controller's cue to fill in each build's Deployment.
                        { "spec", objects.AutoscalerSpec(w, new Map()) },
                    }
                },
            };
            documents.Add(new Conditional(values.Ref(w, "autoscaling.enabled"), Document("WorkerResourceTemplate", objects.Metadata(w), template)));
        }
        if (frontend is not null)
        {
            var allow = AllowController(values, frontend, new Template($"{values.Ref(w, "workerVersioning.controllerNamespace")} | quote"));
            documents.Add(group is null ? allow : new Conditional($".Values.{group}.enabled", allow));
        }

        var text = new StringBuilder(Generated.TemplateComment).Append(CultureInfo.InvariantCulture, $"{{{{- if {enabled} }}}}\n");
        if (w.Queue is not null)
        {
            // KEDA's ScaledObject scales the Deployment this switch removes; per-build scaling is the WorkerResourceTemplate's.
            text.Append(CultureInfo.InvariantCulture, $$$"""
                {{- if {{{values.Ref(w, "keda.enabled")}}} }}
                {{- fail "workerVersioning.enabled and keda.enabled cannot be combined: KEDA scales the Deployment that the worker controller replaces (per-build scaling comes from autoscaling.*)" }}
                {{- end }}

                """);
        }
        return text.Append(YamlWriter.Write(documents)).Append("{{- end }}\n").ToString().ReplaceLineEndings("\n");
    }

    private static Map Document(string kind, Map metadata, Map spec) => new()
    {
        { "apiVersion", ApiVersion },
        { "kind", kind },
        { "metadata", metadata },
        { "spec", spec },
    };

    /// <summary>
    /// The Progressive rollout: each step sends that share of new workflows to the new build (the order saga is
    /// Pinned, so a workflow stays on the build it started on); after the last step's pause the build is current.
    /// </summary>
    private static Map Rollout(VersionedRollout v) => new()
    {
        { "strategy", "Progressive" },
        {
            "steps", new Seq(v.Steps.Select(s => (YamlNode)new Map
            {
                { "rampPercentage", s.Percentage },
                { "pauseDuration", GoDuration(s.Pause) },
            }))
        },
    };

    private static Map Sunset(VersionedRollout v) => new()
    {
        { "scaledownDelay", GoDuration(v.ScaledownDelay) },
        { "deleteDelay", GoDuration(v.DeleteDelay) },
    };

    private static Map Connection(ManifestValues values, VersionedRollout v, YamlNode hostPort) => new()
    {
        { "apiVersion", ApiVersion },
        { "kind", "Connection" },
        { "metadata", new Map { { "name", v.ConnectionName }, { "labels", Labels(values) } } },
        { "spec", new Map { { "hostPort", hostPort } } },
    };

    private static Map Labels(ManifestValues values) => new()
    {
        { "app.kubernetes.io/instance", values.Instance },
        { "app.kubernetes.io/part-of", values.Options.Name },
        { "app.kubernetes.io/managed-by", values.ManagedBy },
    };

    /// <summary>The controller reads and sets the worker deployment's routing from its own namespace, which default deny would stop.</summary>
    private static Map AllowController(ManifestValues values, Connection frontend, YamlNode controllerNamespace) => new()
    {
        { "apiVersion", "networking.k8s.io/v1" },
        { "kind", "NetworkPolicy" },
        { "metadata", new Map { { "name", $"{frontend.Target}-from-worker-controller" }, { "labels", new Map { { "app.kubernetes.io/part-of", values.Options.Name } } } } },
        {
            "spec", new Map
            {
                { "podSelector", new Map { { "matchLabels", KubernetesObjects.Selector(values, frontend.Target) } } },
                { "policyTypes", Seq.Of(["Ingress"]) },
                {
                    "ingress", new Seq
                    {
                        new Map
                        {
                            { "from", new Seq { new Map { { "namespaceSelector", new Map { { "matchLabels", new Map { { "kubernetes.io/metadata.name", controllerNamespace } } } } } } } },
                            { "ports", NetworkPolicies.Ports([frontend.Port]) },
                        },
                    }
                },
            }
        },
    };

    /// <summary>The schema of <c>workerVersioning</c>: what the controller's CRD accepts, so a wrong value fails at install.</summary>
    private static JsonObject ValuesSchema()
    {
        const string Duration = "^([0-9]+(\\.[0-9]+)?(ns|us|ms|s|m|h))+$";
        return new JsonObject
        {
            ["type"] = "object",
            ["additionalProperties"] = false,
            ["properties"] = new JsonObject
            {
                ["enabled"] = new JsonObject { ["type"] = "boolean" },
                ["rollout"] = new JsonObject
                {
                    ["type"] = "object",
                    ["additionalProperties"] = false,
                    ["required"] = new JsonArray("strategy"),
                    ["properties"] = new JsonObject
                    {
                        ["strategy"] = new JsonObject { ["enum"] = new JsonArray("Manual", "AllAtOnce", "Progressive") },
                        ["steps"] = new JsonObject
                        {
                            ["type"] = "array",
                            ["maxItems"] = 20,
                            ["items"] = new JsonObject
                            {
                                ["type"] = "object",
                                ["additionalProperties"] = false,
                                ["required"] = new JsonArray("rampPercentage", "pauseDuration"),
                                ["properties"] = new JsonObject
                                {
                                    ["rampPercentage"] = new JsonObject { ["type"] = "integer", ["minimum"] = 1, ["maximum"] = 99 },
                                    ["pauseDuration"] = new JsonObject { ["type"] = "string", ["pattern"] = Duration },
                                },
                            },
                        },
                    },
                    // Progressive without steps would never promote (the controller waits for a step that is not there).
                    ["if"] = new JsonObject { ["properties"] = new JsonObject { ["strategy"] = new JsonObject { ["const"] = "Progressive" } } },
                    ["then"] = new JsonObject { ["required"] = new JsonArray("steps"), ["properties"] = new JsonObject { ["steps"] = new JsonObject { ["minItems"] = 1 } } },
                },
                ["sunset"] = new JsonObject
                {
                    ["type"] = "object",
                    ["additionalProperties"] = false,
                    ["properties"] = new JsonObject
                    {
                        ["scaledownDelay"] = new JsonObject { ["type"] = "string", ["pattern"] = Duration },
                        ["deleteDelay"] = new JsonObject { ["type"] = "string", ["pattern"] = Duration },
                    },
                },
                ["buildId"] = new JsonObject
                {
                    ["type"] = new JsonArray("string", "number"),
                    ["maxLength"] = 63,
                    ["pattern"] = "^$|^[a-zA-Z0-9]([a-zA-Z0-9._-]*[a-zA-Z0-9])?$",
                },
                ["controllerNamespace"] = new JsonObject { ["type"] = "string", ["pattern"] = "^[a-z0-9]([-a-z0-9]*[a-z0-9])?$" },
            },
        };
    }

    private static Map JsonPatch(string kind, string name, string comment, Seq operations) => new()
    {
        { "target", new Map { { "kind", kind }, { "name", name } } },
        { "patch", comment.ReplaceLineEndings("\n").TrimEnd('\n') + "\n" + YamlWriter.WriteList(operations) },
    };

    private static Map Op(string op, string path, YamlNode? value = null)
    {
        var operation = new Map { { "op", op }, { "path", path } };
        operation.Add("value", value);
        return operation;
    }

    private static Map Move(string from, string to) => new() { { "op", "move" }, { "from", from }, { "path", to } };

    private static Map Op(string op, string path, string value) => Op(op, path, new Scalar(value));

    /// <summary>A Go duration (<c>10m</c>, <c>1h30m</c>, <c>24h</c>), what the controller's CRD reads.</summary>
    public static string GoDuration(TimeSpan span)
    {
        if (span == TimeSpan.Zero)
        {
            return "0s";
        }
        var text = new StringBuilder();
        var hours = (long)span.TotalHours;
        if (hours > 0)
        {
            text.Append(hours.ToString(CultureInfo.InvariantCulture)).Append('h');
        }
        if (span.Minutes > 0)
        {
            text.Append(span.Minutes.ToString(CultureInfo.InvariantCulture)).Append('m');
        }
        if (span.Seconds > 0)
        {
            text.Append(span.Seconds.ToString(CultureInfo.InvariantCulture)).Append('s');
        }
        return text.ToString();
    }
}

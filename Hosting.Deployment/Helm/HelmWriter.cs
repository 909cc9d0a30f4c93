using System.Globalization;
using System.Text;
using System.Text.Json.Nodes;
using Aspire.Hosting.Deployment.Compose;
using Aspire.Hosting.Deployment.Kubernetes;
using Aspire.Hosting.Deployment.Planning;
using Aspire.Hosting.Deployment.Yaml;

namespace Aspire.Hosting.Deployment.Helm;

/// <summary>
/// <c>helm/{name}/</c>: the same objects as Kustomize (<see cref="KubernetesObjects"/>) over <c>values.yaml</c>, a
/// schema that rejects wrong types and unknown top-level keys, production values, a Secret that keeps generated
/// values across upgrades, KEDA behind <c>keda.enabled</c>, Temporal's worker controller behind
/// <c>workerVersioning.enabled</c> (<see cref="WorkerController"/>), and NOTES.
/// </summary>
internal static class HelmWriter
{
    public static IEnumerable<(string Path, string Contents)> Write(Plan plan, DeploymentOptions options)
    {
        var root = $"helm/{options.Name}";
        var values = new HelmValues(plan, options);
        var objects = new KubernetesObjects(values);
        List<(string, string)> templates = [];
        templates.Add(($"{root}/templates/default-deny.yaml", Yaml(NetworkPolicies.DefaultDeny(values))));
        foreach (var workload in plan.Workloads)
        {
            templates.Add(($"{root}/templates/{workload.Name}.yaml", Yaml([.. objects.For(workload)])));
        }
        foreach (var workload in plan.Workloads.Where(w => w.Queue is not null))
        {
            templates.Add(($"{root}/templates/{workload.Name}-keda.yaml", Yaml(KedaDocuments(values, workload))));
        }
        foreach (var workload in plan.Workloads.Where(w => w.Versioning is not null))
        {
            templates.Add(($"{root}/templates/{workload.Name}-versioning.yaml", WorkerController.HelmTemplate(values, objects, workload)));
        }
        templates.Add(($"{root}/templates/secret.yaml", Secret(plan, values)));
        if (options.AlertRules is { } rules)
        {
            // The rule file as it is: Helm reads it with .Files.Get, so Prometheus's own {{ $labels }} templates stay untouched.
            values.Values.Add("prometheusRule", new Map { { "enabled", false }, { "labels", new Map() } });
            templates.Add(($"{root}/rules/alerts.yaml", rules));
            templates.Add(($"{root}/templates/prometheusrule.yaml", "{{- if .Values.prometheusRule.enabled }}\n" + PrometheusRule.Document(
                $"  name: {options.Name}-alerts\n  labels:\n    app.kubernetes.io/part-of: {options.Name}\n    app.kubernetes.io/instance: {{{{ .Release.Name }}}}\n"
                + "    {{- with .Values.prometheusRule.labels }}\n    {{- toYaml . | nindent 4 }}\n    {{- end }}\n",
                "  {{- .Files.Get \"rules/alerts.yaml\" | nindent 2 }}\n") + "{{- end }}\n"));
        }

        // values.yaml is complete once every template has asked for its values.
        yield return ($"{root}/Chart.yaml", Generated.Header + YamlWriter.Write(Chart(plan, options)));
        yield return ($"{root}/values.yaml", ValuesHeader(plan) + YamlWriter.Write(values.Values));
        yield return ($"{root}/values-production.yaml", Generated.Header + YamlWriter.Write(Production(plan, values)));
        yield return ($"{root}/values.schema.json", Schema(values));
        yield return ($"{root}/templates/_helpers.tpl", Helpers(values));
        yield return ($"{root}/templates/NOTES.txt", Notes(plan, values));
        yield return ($"{root}/.helmignore", "*.orig\n*.tmp\n.git/\n");
        foreach (var template in templates)
        {
            yield return template;
        }
    }

    private static string Yaml(params YamlNode[] documents) =>
        Generated.TemplateComment + YamlWriter.Write(documents);

    private static Map Chart(Plan plan, DeploymentOptions options) => new()
    {
        { "apiVersion", "v2" },
        { "name", options.Name },
        { "description", $"{options.Name}: generated from its Aspire AppHost model" },
        { "type", "application" },
        { "version", options.ChartVersion },
        { "appVersion", options.ImageTag },
        // gRPC probes (the Temporal frontend's readiness) are stable from 1.27.
        { "kubeVersion", ">=1.27.0-0" },
        { "keywords", Seq.Of(["temporal", "aspire", "dotnet"]) },
    };

    private static YamlNode[] KedaDocuments(HelmValues values, Workload w)
    {
        var queue = w.Queue!;
        var group = queue.Group;
        var keda = new Map { { "enabled", false }, { "targetQueueSize", queue.TargetQueueSize }, { "operatorNamespace", "keda" } };
        values.Values.Add("keda", keda);
        // The group's value when Temporal is a switchable group (an existing one may differ), else the model's.
        YamlNode FromGroup(string key, string model) => group is null ? new Scalar(model) : new Template($".Values.{group}.{key} | quote");
        if (group is not null && values.Values[group] is Map section && section["taskQueue"] is null)
        {
            section.Add("taskQueue", queue.TaskQueue);
        }
        YamlNode endpoint = queue.Frontend is { } frontend && group is not null
            ? new Template($"ternary (printf \"{frontend.Target}.%s.svc:{frontend.Port}\" .Release.Namespace) .Values.{group}.frontendAddress .Values.{group}.enabled | quote")
            : new Scalar(queue.Endpoint);
        // An existing Temporal with an API key (Temporal Cloud): the scaler authenticates with the worker's key.
        var cloud = group is null ? null : $"and (not .Values.{group}.enabled) .Values.{group}.existingSecret";
        var authentication = $"{w.Name}-temporal-api-key";
        var scaledObject = Keda.ScaledObject(values, w, endpoint,
            FromGroup("namespace", queue.Namespace),
            FromGroup("taskQueue", queue.TaskQueue),
            new Template(".Values.keda.targetQueueSize | toString | quote"),
            cloud is null ? null : (cloud, authentication));
        List<YamlNode> documents = [new Conditional(".Values.keda.enabled", scaledObject)];
        if (cloud is not null && w.Environment.SelectMany(e => e.Value.Resources).FirstOrDefault(r => r.Group == group)?.WhenExternal?.SecretEnvironment is { Count: > 0 } secretEnvironment)
        {
            documents.Add(new Conditional($"and .Values.keda.enabled ({cloud})",
                Keda.ApiKeyAuthentication(authentication, new Template($".Values.{group}.existingSecret"), secretEnvironment.Values.First())));
        }
        if (queue.Frontend is { } reached)
        {
            var allow = Keda.AllowOperator(values, reached);
            documents.Add(new Conditional(group is null ? ".Values.keda.enabled" : $"and .Values.keda.enabled .Values.{group}.enabled", allow));
        }
        return [.. documents];
    }

    /// <summary>
    /// The chart's Secret, unless <c>secrets.existingSecret</c> names one. A value not given is generated once and
    /// kept: on upgrade the existing Secret's value is read back (<c>lookup</c>), so a database password never changes
    /// under its database. Created before the hooks that may need it.
    /// </summary>
    private static string Secret(Plan plan, HelmValues values)
    {
        var name = values.SecretName;
        var text = new StringBuilder(Generated.TemplateComment);
        text.Append(CultureInfo.InvariantCulture, $$$"""
            {{- if not .Values.secrets.existingSecret }}
            {{- $existing := (lookup "v1" "Secret" .Release.Namespace "{{{name}}}").data | default dict }}
            apiVersion: v1
            kind: Secret
            metadata:
              name: {{{name}}}
              labels:
                app.kubernetes.io/instance: {{ .Release.Name }}
                app.kubernetes.io/part-of: {{{values.Options.Name}}}
                app.kubernetes.io/managed-by: {{ .Release.Service }}
              annotations:
                helm.sh/hook: pre-install,pre-upgrade
                helm.sh/hook-weight: "-10"
                helm.sh/hook-delete-policy: before-hook-creation
                helm.sh/resource-policy: keep
            type: Opaque
            data:

            """);
        foreach (var secret in plan.Secrets)
        {
            text.Append(CultureInfo.InvariantCulture,
                $"  {secret.Key}: {{{{ .Values.secrets.{secret.Key} | default (get $existing \"{secret.Key}\" | b64dec) | default (randAlphaNum 32) | b64enc | quote }}}}\n");
        }
        text.Append("{{- end }}\n");
        return text.ToString().ReplaceLineEndings("\n");
    }

    private static string Helpers(HelmValues values) => Generated.TemplateComment + $$$"""
        {{- define "{{{values.Chart}}}.secretName" -}}
        {{ .Values.secrets.existingSecret | default "{{{values.SecretName}}}" }}
        {{- end }}

        """.ReplaceLineEndings("\n");

    private static string Notes(Plan plan, HelmValues values)
    {
        const string Namespace = "{{ .Release.Namespace }}";
        var secretName = $"{{{{ include \"{values.Chart}.secretName\" . }}}}";
        var app = plan.Workloads.FirstOrDefault(w => w.IsProject && w.Ports.Any(p => p.IsExternal));
        var text = new StringBuilder($"{values.Options.Name} is installed in namespace {Namespace} (release {{{{ .Release.Name }}}}).\n\n");
        if (app is not null)
        {
            var port = app.Ports.First(p => p.IsExternal).TargetPort;
            text.Append(CultureInfo.InvariantCulture, $"Reach {app.Name} (add an Ingress or Gateway route for real traffic):\n")
                .Append(CultureInfo.InvariantCulture, $"  kubectl -n {Namespace} port-forward svc/{app.Name} {port}:{port}\n\n");
        }
        var key = plan.Secrets.Count > 0 ? plan.Secrets[0].Key : "KEY";
        text.Append(CultureInfo.InvariantCulture, $"Secrets are in {secretName}; one value, for example:\n")
            .Append(CultureInfo.InvariantCulture, $"  kubectl -n {Namespace} get secret {secretName} -o jsonpath='{{.data.{key}}}' | base64 -d\n\n")
            .Append(CultureInfo.InvariantCulture, $"Watch the start (jobs, then servers, then {app?.Name ?? "the application"}):\n")
            .Append(CultureInfo.InvariantCulture, $"  kubectl -n {Namespace} get pods -w\n");
        return text.ToString();
    }

    private static string ValuesHeader(Plan plan)
    {
        var text = new StringBuilder(Generated.Header);
        text.Append("""
            #
            # The application's settings are at the top (replicaCount, image, resources, autoscaling, keda, workerVersioning).
            # Each part of the infrastructure has a switch; switched off, the chart uses an existing one:
            #   <group>.enabled: false  and  <group>.existingSecret: a Secret holding, under their variable names, the values
            #   the application reads from that part (for example ConnectionStrings__appdb), unless the group takes them
            #   from values (temporal.frontendAddress, temporal.namespace).
            # secrets.*: left empty, a value is generated at install and kept across upgrades; or secrets.existingSecret.

            """);
        foreach (var group in plan.Groups)
        {
            var parts = string.Join(", ", plan.Workloads.Where(w => w.Group == group).Select(w => w.Name));
            text.Append(CultureInfo.InvariantCulture, $"#   {group}: {parts}\n");
        }
        return text.Append('\n').ToString().ReplaceLineEndings("\n");
    }

    private static Map Production(Plan plan, HelmValues values)
    {
        var production = new Map();
        var app = plan.Workloads.FirstOrDefault(w => w.IsProject && w.Group is null && w.Settings.Autoscale is not null);
        if (app is not null)
        {
            // Three replicas at least, so one node's loss or one rollout step leaves two polling.
            var min = Math.Max(3, app.Settings.Autoscale!.MinReplicas);
            production.Add("replicaCount", min);
            production.Add("autoscaling", new Map { { "enabled", true }, { "minReplicas", min }, { "maxReplicas", Math.Max(min, app.Settings.Autoscale.MaxReplicas) } });
        }
        foreach (var w in plan.Workloads.Where(w => w.Kind == WorkloadKind.StatefulService && w.Group is not null))
        {
            var section = plan.Workloads.Count(x => x.Group == w.Group) == 1 ? new Map { { "persistence", new Map { { "size", "50Gi" } } } } : null;
            production.Add(w.Group!, section);
        }
        return production;
    }

    /// <summary>
    /// Types from the defaults, and the stricter schemas some sections bring; unknown keys refused at the top level (a
    /// typo there would otherwise be ignored).
    /// </summary>
    private static string Schema(HelmValues values)
    {
        var schema = SchemaOf(values.Values);
        foreach (var (path, section) in values.Schemas)
        {
            var parent = schema;
            var keys = path.Split('.');
            foreach (var key in keys[..^1])
            {
                parent = (JsonObject)parent["properties"]![key]!;
            }
            parent["properties"]![keys[^1]] = section.DeepClone();
        }
        schema["$schema"] = "https://json-schema.org/draft-07/schema#";
        schema["additionalProperties"] = false;
        var ordered = new JsonObject { ["$schema"] = schema["$schema"]!.DeepClone() };
        foreach (var (key, value) in schema.Where(p => p.Key != "$schema").ToList())
        {
            ordered[key] = value!.DeepClone();
        }
        // Relaxed escaping: a pattern's "+" stays "+" (valid JSON either way, readable only this way).
        return ordered.ToJsonString(new System.Text.Json.JsonSerializerOptions
        {
            WriteIndented = true,
            Encoder = System.Text.Encodings.Web.JavaScriptEncoder.UnsafeRelaxedJsonEscaping,
        }) + "\n";
    }

    private static JsonObject SchemaOf(YamlNode node) => node switch
    {
        Map map => new JsonObject
        {
            ["type"] = "object",
            ["properties"] = new JsonObject(map.Where(e => e.Value is not Conditional).Select(e => KeyValuePair.Create(e.Key, (JsonNode?)SchemaOf(e.Value)))),
        },
        Seq => new JsonObject { ["type"] = "array" },
        Scalar { Value: bool } => new JsonObject { ["type"] = "boolean" },
        Scalar { Value: int or long } => new JsonObject { ["type"] = "integer" },
        // `--set image.tag=17` or `resources.requests.cpu=2` arrive as numbers: both are accepted where a string is.
        Scalar => new JsonObject { ["type"] = new JsonArray("string", "number") },
        _ => throw new InvalidOperationException(node.GetType().Name),
    };
}

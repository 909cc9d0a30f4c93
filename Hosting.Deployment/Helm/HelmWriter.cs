using System.Globalization;
using System.Text;
using Aspire.Hosting.Deployment.Kubernetes;
using Aspire.Hosting.Deployment.Planning;
using Aspire.Hosting.Deployment.Yaml;

namespace Aspire.Hosting.Deployment.Helm;

/// <summary>
/// <c>helm/{name}/</c>, values first: the values model (<see cref="ChartValues"/>) and its schema are computed and
/// checked before any template is rendered; then the same objects as Kustomize (<see cref="KubernetesObjects"/>) as
/// expressions over it, each option of a workload (<see cref="DeploymentOption"/>) behind its switch, a Secret that
/// keeps generated values across upgrades, production values, and NOTES.
/// </summary>
internal static class HelmWriter
{
    public static IEnumerable<(string Path, string Contents)> Write(Plan plan, DeploymentOptions options)
    {
        var root = $"helm/{options.Name}";
        var chart = new ChartValues(plan, options);
        var schema = SchemaGenerator.For(chart);
        SchemaCheck.Validate(schema, chart.Root);

        var values = new HelmValues(plan, options, chart);
        var objects = new KubernetesObjects(values);
        List<(string, string)> templates = [];
        templates.Add(($"{root}/templates/default-deny.yaml", Template(NetworkPolicies.DefaultDeny(values))));
        foreach (var workload in plan.Workloads)
        {
            var contributed = ContributedObjects.Of(values, objects, workload);
            var own = contributed.Documents.Select(d => values.Condition(workload) is { } condition ? new Conditional(condition, d) : d);
            templates.Add(($"{root}/templates/{workload.Name}.yaml", Template([.. objects.For(workload), .. own])));
            foreach (var option in contributed.OptionDocuments.GroupBy(d => d.Option))
            {
                templates.Add(($"{root}/templates/{workload.Name}-{option.Key.TemplateSuffix}.yaml",
                    OptionTemplate(values, workload, option.Key, [.. option.Select(d => d.Document)])));
            }
        }
        templates.Add(($"{root}/templates/secret.yaml", Template(Secret(plan, values))));
        if (options.AlertRules is { } rules)
        {
            // The rule file as it is: Helm reads it with .Files.Get, so Prometheus's own {{ $labels }} templates stay untouched.
            templates.Add(($"{root}/rules/alerts.yaml", rules));
            var labels = new Map { { "app.kubernetes.io/part-of", options.Name }, { "app.kubernetes.io/instance", new Template(".Release.Name") } };
            labels.With(chart.Ref("prometheusRule.labels"));
            var rule = PrometheusRule.Document(new Map { { "name", $"{options.Name}-alerts" }, { "labels", labels } },
                new TemplateBlock(".Files.Get \"rules/alerts.yaml\""));
            templates.Add(($"{root}/templates/prometheusrule.yaml", YamlWriter.WriteTemplate(new Conditional(chart.Ref("prometheusRule.enabled"), rule))));
        }

        yield return ($"{root}/Chart.yaml", Generated.Header + YamlWriter.Write(Chart(plan, options)));
        yield return ($"{root}/values.yaml", ValuesHeader(plan, chart) + YamlWriter.Write(chart.Root));
        yield return ($"{root}/values-production.yaml", Generated.Header + YamlWriter.Write(Production(plan, chart)));
        yield return ($"{root}/values.schema.json", SchemaGenerator.Write(schema));
        yield return ($"{root}/templates/_helpers.tpl", Helpers(values));
        yield return ($"{root}/templates/NOTES.txt", Notes(plan, values));
        yield return ($"{root}/.helmignore", "*.orig\n*.tmp\n.git/\n");
        foreach (var template in templates)
        {
            yield return template;
        }
    }

    private static string Template(params YamlNode[] documents) => Generated.TemplateComment + YamlWriter.WriteTemplate(documents);

    /// <summary>
    /// <c>templates/{workload}-{suffix}.yaml</c>: an option's documents behind its switch, failing with the option's
    /// message when one it excludes is on too.
    /// </summary>
    private static string OptionTemplate(HelmValues values, Workload w, DeploymentOption option, YamlNode[] documents)
    {
        var text = new StringBuilder(Generated.TemplateComment).Append(CultureInfo.InvariantCulture, $"{{{{- if {values.Enabled(w, option)} }}}}\n");
        // An excluded option the workload does not have cannot be on.
        foreach (var (excluded, message) in option.Excludes.Where(e => values.Chart.OptionsOf(w).Any(o => o.Name == e.Option)))
        {
            var other = values.Chart.OptionsOf(w).First(o => o.Name == excluded);
            var fail = new Map();
            fail.Action($"fail {System.Text.Json.JsonSerializer.Serialize(message)}");
            text.Append(YamlWriter.WriteTemplate(new Conditional(values.Enabled(w, other), fail)));
        }
        var conditioned = documents.Select(d => values.Condition(w) is { } condition ? new Conditional(condition, d) : d);
        return text.Append(YamlWriter.WriteTemplate(conditioned)).Append("{{- end }}\n").ToString();
    }

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
        { "keywords", Seq.Of(options.ChartKeywords) },
    };

    /// <summary>
    /// The chart's Secret, unless <c>secrets.existingSecret</c> names one. A value not given is generated once and
    /// kept: on upgrade the existing Secret's value is read back (<c>lookup</c>), so a database password never changes
    /// under its database. Created before the hooks that may need it.
    /// </summary>
    private static Conditional Secret(Plan plan, HelmValues values)
    {
        var name = values.SecretName;
        var data = new Map();
        foreach (var secret in plan.Secrets)
        {
            data.Add(secret.Key, new Template(
                $"{values.Chart.Ref($"secrets.{secret.Key}")} | default (get $existing \"{secret.Key}\" | b64dec) | default (randAlphaNum 32) | b64enc | quote"));
        }
        var document = new Map();
        document.Action($"$existing := (lookup \"v1\" \"Secret\" .Release.Namespace \"{name}\").data | default dict");
        document.Add("apiVersion", "v1");
        document.Add("kind", "Secret");
        document.Add("metadata", new Map
        {
            { "name", name },
            {
                "labels", new Map
                {
                    { "app.kubernetes.io/instance", new Template(".Release.Name") },
                    { "app.kubernetes.io/part-of", values.Options.Name },
                    { "app.kubernetes.io/managed-by", new Template(".Release.Service") },
                }
            },
            {
                "annotations", new Map
                {
                    { "helm.sh/hook", "pre-install,pre-upgrade" },
                    { "helm.sh/hook-weight", "-10" },
                    { "helm.sh/hook-delete-policy", "before-hook-creation" },
                    { "helm.sh/resource-policy", "keep" },
                }
            },
        });
        document.Add("type", "Opaque");
        document.Add("data", data);
        return new Conditional($"not {values.Chart.Ref("secrets.existingSecret")}", document);
    }

    private static string Helpers(HelmValues values) => Generated.TemplateComment + $$$"""
        {{- define "{{{values.ChartName}}}.secretName" -}}
        {{ .Values.secrets.existingSecret | default "{{{values.SecretName}}}" }}
        {{- end }}

        """.ReplaceLineEndings("\n");

    private static string Notes(Plan plan, HelmValues values)
    {
        const string Namespace = "{{ .Release.Namespace }}";
        var secretName = $"{{{{ include \"{values.ChartName}.secretName\" . }}}}";
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
            .Append(CultureInfo.InvariantCulture, $"  kubectl -n {Namespace} get pods -w\n\n")
            // A chart cannot create or own the namespace it is installed into (the release is stored there first).
            .Append("Every pod meets the restricted Pod Security Standard; have the namespace enforce it, as the Kustomize base does:\n")
            .Append(CultureInfo.InvariantCulture, $"  kubectl label namespace {Namespace} {string.Join(' ', KustomizeWriter.PodSecurityLabels.Select(l => $"{l.Key}={l.Value}"))}\n");
        return text.ToString();
    }

    private static string ValuesHeader(Plan plan, ChartValues chart)
    {
        var app = chart.Root.Select(e => e.Key).Where(k => !plan.Groups.Contains(k) && k is not ("settings" or "hooks" or "secrets" or "prometheusRule"));
        var external = plan.Workloads.SelectMany(w => w.Environment).SelectMany(e => e.Value.Resources)
            .Where(r => r.Group is not null && r.WhenExternal is not null).DistinctBy(r => r.Group)
            .SelectMany(r => r.WhenExternal!.Defaults.Keys.Select(k => $"{r.Group}.{k}")).ToList();
        var text = new StringBuilder(Generated.Header);
        text.Append(CultureInfo.InvariantCulture, $"""
            #
            # The application's settings are at the top ({string.Join(", ", app)}).
            # Each part of the infrastructure has a switch; switched off, the chart uses an existing one:
            #   <group>.enabled: false  and  <group>.existingSecret: a Secret holding, under their variable names, the values
            #   the application reads from that part (for example ConnectionStrings__appdb){(external.Count > 0 ? ", unless the group takes them" : ".")}

            """);
        if (external.Count > 0)
        {
            text.Append(CultureInfo.InvariantCulture, $"#   from values ({string.Join(", ", external)}).\n");
        }
        text.Append("# secrets.*: left empty, a value is generated at install and kept across upgrades; or secrets.existingSecret.\n");
        foreach (var group in plan.Groups)
        {
            var parts = string.Join(", ", plan.Workloads.Where(w => w.Group == group).Select(w => w.Name));
            text.Append(CultureInfo.InvariantCulture, $"#   {group}: {parts}\n");
        }
        return text.Append('\n').ToString().ReplaceLineEndings("\n");
    }

    /// <summary>Sets a dotted path in a values map, making the sections on the way.</summary>
    private static void SetAt(Map root, string path, YamlNode value)
    {
        var keys = path.Split('.');
        var section = root;
        foreach (var key in keys[..^1])
        {
            if (section[key] is not Map next)
            {
                next = new Map();
                section.Add(key, next);
            }
            section = next;
        }
        section.Add(keys[^1], value);
    }

    private static Map Production(Plan plan, ChartValues values)
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
        var settings = new Map();
        foreach (var w in plan.Workloads)
        {
            foreach (var (variable, value) in w.Settings.ProductionSettings)
            {
                // The plan holds each such variable to one setting (PlanReader): its key under settings.
                var key = ((SettingPart)w.Environment.Single(e => e.Name == variable).Value.Parts[0]).Key;
                if (settings[key] is null)
                {
                    settings.Add(key, new Scalar(value));
                }
            }
        }
        production.Add("settings", settings.Count > 0 ? settings : null);
        foreach (var w in plan.Workloads)
        {
            foreach (var option in values.OptionsOf(w).Where(o => o.InProduction))
            {
                SetAt(production, values.PathTo(w, $"{option.Name}.enabled"), new Scalar(true));
            }
        }
        // Production storage for every stateful workload of a group, wherever its values live (the group's section, or
        // the workload's own within it when the group has several).
        foreach (var w in plan.Workloads.Where(w => w.Kind == WorkloadKind.StatefulService && w.Group is not null))
        {
            SetAt(production, values.PathTo(w, "persistence.size"), new Scalar("50Gi"));
        }
        return production;
    }
}

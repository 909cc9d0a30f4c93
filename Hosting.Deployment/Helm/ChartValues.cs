using System.Text.Json.Nodes;
using Aspire.Hosting.Deployment.Kubernetes;
using Aspire.Hosting.Deployment.Planning;
using Aspire.Hosting.Deployment.Yaml;

namespace Aspire.Hosting.Deployment.Helm;

/// <summary>
/// The chart's <c>values.yaml</c> as one model, computed from the plan before any template is rendered, with the
/// schema of each value: the application's values at the top under the names <c>helm create</c> uses, then its
/// settings, then each group (<c>{group}.enabled</c>, <c>existingSecret</c>, how dependants reach it when switched
/// off, its workloads' values), then the chart's own switches. Templates only read it (<see cref="Ref(string)"/> refuses a
/// value that was not declared), so the order in which they are rendered changes nothing.
/// </summary>
internal sealed class ChartValues
{
    private readonly Dictionary<string, JsonObject> schemas = new(StringComparer.Ordinal);
    private readonly Dictionary<string, List<DeploymentOption>> options = new(StringComparer.Ordinal);
    private readonly Plan plan;

    public ChartValues(Plan plan, DeploymentOptions deployment)
    {
        this.plan = plan;
        // The application's values at the top are its long-running workload's; a job of the application (a migration job,
        // the same image) shares them.
        foreach (var w in plan.Workloads.Where(IsApp).OrderBy(w => w.IsLongRunning ? 0 : 1).Take(1))
        {
            DeclareWorkload(w);
        }
        foreach (var setting in plan.Workloads.SelectMany(w => w.Environment).SelectMany(e => e.Value.Settings).DistinctBy(s => s.Key))
        {
            Add(SectionAt("settings"), "settings", setting.Key, new Scalar(setting.Default), ValueSchemas.AnyText());
        }
        foreach (var group in plan.Groups)
        {
            var section = SectionAt(group);
            Add(section, group, "enabled", new Scalar(true), ValueSchemas.Boolean());
            Add(section, group, "existingSecret", new Scalar(""), ValueSchemas.ObjectName(optional: true));
            var external = plan.Workloads.SelectMany(w => w.Environment).SelectMany(e => e.Value.Resources)
                .FirstOrDefault(r => r.Group == group && r.WhenExternal is not null)?.WhenExternal;
            foreach (var (key, value) in external?.Defaults ?? new Dictionary<string, string>())
            {
                Add(section, group, key, new Scalar(value), external!.Schemas?.GetValueOrDefault(key)?.DeepClone().AsObject() ?? ValueSchemas.Token());
            }
            foreach (var w in plan.Workloads.Where(w => w.Group == group))
            {
                DeclareWorkload(w);
            }
        }
        foreach (var w in plan.Workloads.Where(w => !IsApp(w) && w.Group is null))
        {
            DeclareWorkload(w);
        }
        Add(SectionAt("hooks"), "hooks", "enabled", new Scalar(true), ValueSchemas.Boolean());
        var secrets = SectionAt("secrets");
        Add(secrets, "secrets", "existingSecret", new Scalar(""), ValueSchemas.ObjectName(optional: true));
        foreach (var secret in plan.Secrets)
        {
            Add(secrets, "secrets", secret.Key, new Scalar(""), ValueSchemas.AnyText());
        }
        if (deployment.AlertRules is not null)
        {
            var rule = SectionAt("prometheusRule");
            Add(rule, "prometheusRule", "enabled", new Scalar(false), ValueSchemas.Boolean());
            Add(rule, "prometheusRule", "labels", new Map(), new JsonObject
            {
                ["type"] = "object",
                ["additionalProperties"] = new JsonObject { ["type"] = "string", ["maxLength"] = 63 },
            });
        }
        // A group value a contribution adds goes after the group's own (its section may not be declared yet).
        foreach (var (group, key, value, schema) in groupValues)
        {
            var section = SectionAt(group);
            if (section[key] is null)
            {
                Add(section, group, key, value, schema);
            }
        }
    }

    /// <summary>The values, in order.</summary>
    public Map Root { get; } = new();

    public static bool IsApp(Workload w) => w.IsProject && w.Group is null;

    /// <summary>The options of a workload, in the order they were declared.</summary>
    public IReadOnlyList<DeploymentOption> OptionsOf(Workload w) => options.GetValueOrDefault(w.Name) ?? [];

    /// <summary>Where a workload's values live: the application at the top; a group's workloads under the group.</summary>
    public string PathOf(Workload w)
    {
        if (IsApp(w))
        {
            return "";
        }
        if (w.Group is { } group)
        {
            return IsGroupsOwn(w) ? group : $"{group}.{Camel(w.Name)}";
        }
        return Camel(w.Name);
    }

    /// <summary>
    /// Whether the workload's values are the group's own section: it is the group's only workload, or its only
    /// long-running one (a server, whose jobs sit in sections of their own below it: <c>postgresql.image</c> is the
    /// server's, <c>postgresql.postgresRoles.image</c> a job's). A group of several servers gives each a section.
    /// </summary>
    private bool IsGroupsOwn(Workload w)
    {
        var members = plan.Workloads.Where(x => x.Group == w.Group).ToList();
        return members.Count == 1 || members.Where(x => x.IsLongRunning).ToList() is [var only] && only == w;
    }

    /// <summary>The dotted path of a key in the workload's values section.</summary>
    public string PathTo(Workload w, string key) => PathOf(w) is { Length: > 0 } path ? $"{path}.{key}" : key;

    /// <summary>A template reference to a declared value (<c>.Values.a.b</c>); a value not declared is a generator bug.</summary>
    public string Ref(string path) => Has(path) ? $".Values.{path}"
        : throw new InvalidOperationException($"The chart reads .Values.{path}, which values.yaml does not declare.");

    public string Ref(Workload w, string key) => Ref(PathTo(w, key));

    public bool Has(string path)
    {
        YamlNode? node = Root;
        foreach (var key in path.Split('.'))
        {
            node = (node as Map)?[key];
        }
        return node is not null;
    }

    /// <summary>The schema declared for each value path (the others are inferred from their defaults).</summary>
    public IReadOnlyDictionary<string, JsonObject> Schemas => schemas;

    public void AddOption(Workload w, DeploymentOption option)
    {
        var section = SectionAt(PathTo(w, option.Name));
        section.Add("enabled", false);
        foreach (var (key, value) in option.Values)
        {
            section.Add(key, value);
        }
        schemas[PathTo(w, option.Name)] = option.ValuesSchema?.DeepClone().AsObject() ?? WithEnabled(SchemaGenerator.Infer(option.Values));
        (options.TryGetValue(w.Name, out var list) ? list : options[w.Name] = []).Add(option);
    }

    public void AddGroupValue(string group, string key, YamlNode value, JsonObject schema) => groupValues.Add((group, key, value, schema));

    private readonly List<(string Group, string Key, YamlNode Value, JsonObject Schema)> groupValues = [];

    private static JsonObject WithEnabled(JsonObject schema)
    {
        ((JsonObject)schema["properties"]!)["enabled"] = ValueSchemas.Boolean();
        return schema;
    }

    /// <summary>A workload's values: its image and compute; the application's pod settings, replicas and autoscaling; storage, schedule.</summary>
    private void DeclareWorkload(Workload w)
    {
        var path = PathOf(w);
        var section = SectionAt(path);
        if (IsApp(w) && w.Kind == WorkloadKind.Service)
        {
            Add(section, path, "replicaCount", new Scalar(w.Settings.Replicas), ValueSchemas.Whole(minimum: 0));
        }
        var at = w.Image.LastIndexOf(':');
        var image = new Map { { "repository", w.Image[..at] }, { "tag", w.Image[(at + 1)..] } };
        var imageSchema = ValueSchemas.Record(("repository", ValueSchemas.ImageRepository()), ("tag", ValueSchemas.ImageTag()));
        if (IsApp(w))
        {
            image.Add("pullPolicy", "IfNotPresent");
            ((JsonObject)imageSchema["properties"]!)["pullPolicy"] = ValueSchemas.OneOf("Always", "IfNotPresent", "Never");
        }
        Add(section, path, "image", image, imageSchema);
        Add(section, path, "resources", ManifestValues.DefaultResources(w),
            ValueSchemas.Record(("requests", ValueSchemas.Quantities()), ("limits", ValueSchemas.Quantities())));
        if (IsApp(w))
        {
            Add(section, path, "podSecurityContext", ManifestValues.DefaultPodSecurityContext(w), PodSecurityContextSchema());
            Add(section, path, "securityContext", ManifestValues.DefaultContainerSecurityContext(w), ContainerSecurityContextSchema());
        }
        if (w.Volumes.Count > 0)
        {
            Add(section, path, "persistence", new Map { { "size", ManifestValues.DefaultStorageSize } }, ValueSchemas.Record(("size", ValueSchemas.Quantity())));
        }
        if (w.Kind == WorkloadKind.ScheduledJob)
        {
            Add(section, path, "schedule", new Scalar(w.Settings.Schedule!), ValueSchemas.Cron());
        }
        if (w.IsLongRunning && w.Settings.Autoscale is { } autoscale)
        {
            Add(section, path, "autoscaling", new Map
            {
                { "enabled", true },
                { "minReplicas", autoscale.MinReplicas },
                { "maxReplicas", autoscale.MaxReplicas },
                { "targetCPUUtilizationPercentage", autoscale.CpuPercent },
                { "targetMemoryUtilizationPercentage", autoscale.MemoryPercent },
            }, ValueSchemas.Record(
                ("enabled", ValueSchemas.Boolean()),
                ("minReplicas", ValueSchemas.Whole(minimum: 1)),
                ("maxReplicas", ValueSchemas.Whole(minimum: 1)),
                ("targetCPUUtilizationPercentage", ValueSchemas.Whole(minimum: 1)),
                ("targetMemoryUtilizationPercentage", ValueSchemas.Whole(minimum: 1))));
        }
        // The options contributions bring, beside the workload's own values.
        foreach (var contribution in w.Settings.Contributions)
        {
            contribution.DeclareValues(new DeploymentValues(this, w));
        }
    }

    /// <summary>The pod's user is fixed and not root: 0 would fail <c>runAsNonRoot</c> at start.</summary>
    private static JsonObject PodSecurityContextSchema()
    {
        var schema = ValueSchemas.Record(
            ("runAsNonRoot", ValueSchemas.Boolean()),
            ("runAsUser", ValueSchemas.Whole(minimum: 1)),
            ("runAsGroup", ValueSchemas.Whole(minimum: 0)),
            ("fsGroup", ValueSchemas.Whole(minimum: 0)),
            ("seccompProfile", ValueSchemas.Record(("type", ValueSchemas.OneOf("RuntimeDefault", "Localhost", "Unconfined")), ("localhostProfile", ValueSchemas.Token()))));
        schema.Remove("additionalProperties"); // the rest of a PodSecurityContext is the user's to add
        return schema;
    }

    private static JsonObject ContainerSecurityContextSchema()
    {
        var schema = ValueSchemas.Record(
            ("allowPrivilegeEscalation", ValueSchemas.Boolean()),
            ("readOnlyRootFilesystem", ValueSchemas.Boolean()),
            ("runAsNonRoot", ValueSchemas.Boolean()),
            ("runAsUser", ValueSchemas.Whole(minimum: 1)),
            ("capabilities", new JsonObject
            {
                ["type"] = "object",
                ["properties"] = new JsonObject
                {
                    ["drop"] = new JsonObject { ["type"] = "array", ["items"] = ValueSchemas.Token() },
                    ["add"] = new JsonObject { ["type"] = "array", ["items"] = ValueSchemas.Token() },
                },
            }));
        schema.Remove("additionalProperties");
        return schema;
    }

    private void Add(Map section, string sectionPath, string key, YamlNode value, JsonObject schema)
    {
        section.Add(key, value);
        schemas[sectionPath.Length > 0 ? $"{sectionPath}.{key}" : key] = schema;
    }

    private Map SectionAt(string path)
    {
        var section = Root;
        foreach (var key in path.Split('.', StringSplitOptions.RemoveEmptyEntries))
        {
            if (section[key] is not Map next)
            {
                section.Add(key, next = new Map());
            }
            section = next;
        }
        return section;
    }

    public static string Camel(string name)
    {
        var parts = name.Split('-', StringSplitOptions.RemoveEmptyEntries);
        return parts[0] + string.Concat(parts.Skip(1).Select(p => char.ToUpperInvariant(p[0]) + p[1..]));
    }
}

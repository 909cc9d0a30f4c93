using System.Globalization;
using k8s;
using k8s.Models;
using YamlDotNet.RepresentationModel;

namespace AppHost.Tests.Deployment;

/// <summary>
/// The self-hosted Temporal server as each rendered form runs it (what <c>kubectl kustomize</c> and <c>helm template</c>
/// print, not the generator's model): history shards per environment, a dynamic configuration fit for a cluster,
/// mounted so that a change applies live, a frontend that drains inside the pod's grace period, and pods that roll
/// when a setting changes (docs/temporal-server.md).
/// </summary>
[Collection(SharedDeployment.Name)]
public sealed class TemporalServerFormsTests(GeneratedDeployment generated)
{
    private const string Server = "temporal-server";

    /// <summary>Keys Temporal's own development configuration sets that a cluster must not run with.</summary>
    private static readonly string[] DevelopmentOnlyKeys = ["system.forceSearchAttributesCacheRefreshOnRead"];

    public static TheoryData<string, string[], string> Forms => new()
    {
        { "kustomize", ["overlays/development"], "4" },
        { "kustomize", ["overlays/production"], "512" },
        { "helm", [], "4" },
        { "helm", ["-f", "values-production.yaml"], "512" },
    };

    [Theory]
    [MemberData(nameof(Forms))]
    public async Task History_shards_are_four_in_development_and_512_in_production(string tool, string[] form, string shards)
    {
        var objects = await RenderAsync(tool, form);

        Assert.Equal(shards, Settings(objects)["NUM_HISTORY_SHARDS"]);
    }

    [Theory]
    [MemberData(nameof(Forms))]
    public async Task The_dynamic_config_has_no_development_key_keeps_archival_off_and_drains_the_frontend_within_the_grace_period(
        string tool, string[] form, string shards)
    {
        _ = shards;
        var objects = await RenderAsync(tool, form);
        var (path, contents) = DynamicConfig(objects);

        var keys = ParseKeys(contents);
        Assert.DoesNotContain(keys.Keys, DevelopmentOnlyKeys.Contains);
        Assert.Equal("disabled", keys["system.historyArchivalState"]);
        Assert.Equal("disabled", keys["system.visibilityArchivalState"]);
        Assert.Equal("false", keys["system.enableReadFromHistoryArchival"]);
        var failing = Seconds(keys["frontend.shutdownFailHealthCheckDuration"]);
        var draining = Seconds(keys["frontend.shutdownDrainDuration"]);
        Assert.True(failing > 0 && draining > 0, $"the frontend neither fails its health check nor drains: {failing} s, {draining} s");
        var grace = Deployment(objects).Spec.Template.Spec.TerminationGracePeriodSeconds;
        // The process needs a moment of its own after draining (closing stores): a margin of 5 s at least.
        Assert.True(failing + draining + 5 <= grace, $"{failing} s + {draining} s of drain do not fit a grace period of {grace} s");
        Assert.StartsWith("/", path, StringComparison.Ordinal);
    }

    [Theory]
    [MemberData(nameof(Forms))]
    public async Task The_dynamic_config_is_mounted_as_a_directory_so_a_changed_config_map_reaches_the_running_server(
        string tool, string[] form, string shards)
    {
        _ = shards;
        var objects = await RenderAsync(tool, form);
        var (path, _) = DynamicConfig(objects);
        var pod = Deployment(objects).Spec.Template.Spec;
        var directory = path[..path.LastIndexOf('/')];

        var mount = Assert.Single(pod.Containers[0].VolumeMounts, m => path.StartsWith(m.MountPath + "/", StringComparison.Ordinal) || m.MountPath == path);
        // The kubelet never updates a file mounted with subPath: the server would read its start-up config for ever.
        Assert.Null(mount.SubPath);
        Assert.Equal(directory, mount.MountPath);
        var volume = Assert.Single(pod.Volumes, v => v.Name == mount.Name);
        Assert.Equal($"{Server}-files", volume.ConfigMap.Name);
        Assert.Contains(volume.ConfigMap.Items, i => i.Path == path[(directory.Length + 1)..]);
    }

    [Fact]
    public async Task A_changed_setting_changes_the_pod_template_in_helm_and_kustomize()
    {
        var helmDefault = Checksum(await RenderAsync("helm", []));
        var helmAgain = Checksum(await RenderAsync("helm", []));
        var helmChanged = Checksum(await RenderAsync("helm", ["--set-string", "settings.TEMPORAL_SERVER_HISTORY_SHARDS=16"]));
        var development = Checksum(await RenderAsync("kustomize", ["overlays/development"]));
        var production = Checksum(await RenderAsync("kustomize", ["overlays/production"]));

        Assert.Equal(helmDefault, helmAgain);
        Assert.NotEqual(helmDefault, helmChanged);
        // The production overlay patches the setting, and the checksum with it.
        Assert.NotEqual(development, production);
    }

    [Theory]
    [MemberData(nameof(Forms))]
    public async Task Production_runs_each_service_as_its_own_deployment_and_development_runs_one_process(string tool, string[] form, string shards)
    {
        var objects = await RenderAsync(tool, form);
        var servers = objects.OfType<V1Deployment>().Where(d => d.Spec.Template.Spec.Containers[0].Image.StartsWith("temporalio/server:", StringComparison.Ordinal))
            .ToDictionary(d => ServicesOf(d), d => d);

        if (shards == "4")
        {
            // Development: the single process (no TEMPORAL_SERVICES: all four).
            Assert.Equal("(all)", Assert.Single(servers.Keys));
            return;
        }
        Assert.Equal(["frontend", "history", "matching", "worker"], servers.Keys.Order());
        // The frontend keeps the server's name, so the Service clients reach selects it, and only it.
        Assert.Equal(Server, servers["frontend"].Name());
        var service = objects.OfType<V1Service>().Single(s => s.Name() == Server);
        foreach (var (name, deployment) in servers)
        {
            var labels = deployment.Spec.Template.Metadata.Labels;
            Assert.Equal(name == "frontend", KubernetesPolicy.Matches(service.Spec.Selector, labels));
            Assert.True(deployment.Spec.Template.Spec.TopologySpreadConstraints?.Count >= 2, $"{name}: spread over nodes and zones");
            Assert.Single(objects.OfType<V1PodDisruptionBudget>(), b => b.Spec.MaxUnavailable?.Value == "1" && KubernetesPolicy.Matches(b.Spec.Selector.MatchLabels, labels));
            // Its own pools (env wins over the settings ConfigMap's).
            Assert.Contains(deployment.Spec.Template.Spec.Containers[0].Env, e => e.Name == "SQL_MAX_CONNS");
            // Another service's pod reaches it on every port (membership, internode gRPC).
            foreach (var other in servers.Values.Where(o => o != deployment))
            {
                Assert.True(Admits(objects, from: other.Spec.Template.Metadata.Labels, to: labels), $"{other.Name()} cannot reach {deployment.Name()}");
            }
            // Both ends: the service may leave for PostgreSQL's port, and PostgreSQL's pods let it in.
            Assert.True(Egress(objects, labels, 5432), $"{name} cannot leave for PostgreSQL");
            var postgres = objects.OfType<V1StatefulSet>().Single(d => d.Name() == "postgres").Spec.Template.Metadata.Labels;
            Assert.True(Ingress(objects, from: labels, to: postgres, 5432), $"PostgreSQL does not admit {name}");
            Assert.True(Egress(objects, labels, 53), $"{name} cannot resolve names");
        }
        Assert.True(servers["frontend"].Spec.Replicas >= 2 && servers["history"].Spec.Replicas >= 2, "frontend and history survive one pod's loss");
        // Every pod reads the production settings and rolls when they change: the same checksum as the frontend's.
        var checksums = servers.Values.Select(d => d.Spec.Template.Metadata.Annotations["checksum/settings"]).Distinct().ToList();
        Assert.Single(checksums);
        // The kubelet probes each service on its own gRPC port, as a TCP connection: its gRPC probe cannot speak the
        // TLS those ports serve in production.
        var ports = new Dictionary<string, int> { ["frontend"] = 7233, ["history"] = 7234, ["matching"] = 7235, ["worker"] = 7239 };
        foreach (var (name, deployment) in servers)
        {
            // Listening is not serving: a rollout counts a new pod only once it has had time to take over.
            Assert.True(deployment.Spec.MinReadySeconds >= 30, $"{name}: a rollout moves on as soon as the port opens");
            var container = deployment.Spec.Template.Spec.Containers[0];
            foreach (var probe in new[] { container.StartupProbe, container.ReadinessProbe, container.LivenessProbe })
            {
                Assert.True(probe is { Grpc: null, TcpSocket: not null }, $"{name}: a probe that is not a TCP connection");
                Assert.True(probe.TcpSocket.Port.Value == "grpc" || probe.TcpSocket.Port.Value == ports[name].ToString(System.Globalization.CultureInfo.InvariantCulture),
                    $"{name} probes port {probe.TcpSocket.Port.Value}, not its own");
            }
        }
    }

    [Fact]
    public async Task Helm_sizes_each_service_of_the_production_topology_from_values()
    {
        var objects = await RenderAsync("helm", ["-f", "values-production.yaml", "--set", "temporal.temporalServer.topology.history.replicas=5",
            "--set", "temporal.temporalServer.topology.matching.resources.requests.cpu=750m"]);

        var history = objects.OfType<V1Deployment>().Single(d => d.Name() == $"{Server}-history");
        var matching = objects.OfType<V1Deployment>().Single(d => d.Name() == $"{Server}-matching");
        Assert.Equal(5, history.Spec.Replicas);
        Assert.Equal("750m", matching.Spec.Template.Spec.Containers[0].Resources.Requests["cpu"].ToString());
    }

    private static string ServicesOf(V1Deployment deployment) =>
        deployment.Spec.Template.Spec.Containers[0].Env?.FirstOrDefault(e => e.Name == "TEMPORAL_SERVICES")?.Value ?? "(all)";

    private static bool Selects(V1LabelSelector selector, IDictionary<string, string> labels) =>
        (selector.MatchLabels ?? new Dictionary<string, string>()).All(l => labels.TryGetValue(l.Key, out var v) && v == l.Value)
        && (selector.MatchExpressions ?? []).All(e => e.OperatorProperty == "In" && labels.TryGetValue(e.Key, out var v) && e.Values.Contains(v));

    /// <summary>Some NetworkPolicy selecting the destination admits the source on every port, and one selecting the source lets it out.</summary>
    private static bool Admits(List<IKubernetesObject> objects, IDictionary<string, string> from, IDictionary<string, string> to)
    {
        var policies = objects.OfType<V1NetworkPolicy>().ToList();
        var admitted = policies.Where(p => Selects(p.Spec.PodSelector, to)).SelectMany(p => p.Spec.Ingress ?? [])
            .Any(r => r.Ports is null && (r.FromProperty ?? []).Any(peer => peer.PodSelector is { } s && peer.NamespaceSelector is null && Selects(s, from)));
        var released = policies.Where(p => Selects(p.Spec.PodSelector, from)).SelectMany(p => p.Spec.Egress ?? [])
            .Any(r => r.Ports is null && (r.To ?? []).Any(peer => peer.PodSelector is { } s && peer.NamespaceSelector is null && Selects(s, to)));
        return admitted && released;
    }

    private static bool Ingress(List<IKubernetesObject> objects, IDictionary<string, string> from, IDictionary<string, string> to, int port) =>
        objects.OfType<V1NetworkPolicy>().Where(p => Selects(p.Spec.PodSelector, to)).SelectMany(p => p.Spec.Ingress ?? [])
            .Any(r => (r.Ports is null || r.Ports.Any(p => p.Port?.Value == port.ToString(CultureInfo.InvariantCulture)))
                && (r.FromProperty ?? []).Any(peer => peer.PodSelector is { } s && peer.NamespaceSelector is null && Selects(s, from)));

    private static bool Egress(List<IKubernetesObject> objects, IDictionary<string, string> labels, int port) =>
        objects.OfType<V1NetworkPolicy>().Where(p => Selects(p.Spec.PodSelector, labels)).SelectMany(p => p.Spec.Egress ?? [])
            .Any(r => (r.Ports ?? []).Any(p => p.Port?.Value == port.ToString(CultureInfo.InvariantCulture)));

    [Fact]
    public async Task Compose_takes_the_shards_from_its_env_file_with_the_development_default_and_mounts_the_deployed_config()
    {
        var compose = await File.ReadAllTextAsync(Path.Combine(generated.Compose, "docker-compose.yaml"));
        var example = await File.ReadAllTextAsync(Path.Combine(generated.Compose, ".env.example"));

        Assert.Contains("NUM_HISTORY_SHARDS: \"${TEMPORAL_SERVER_HISTORY_SHARDS:-4}\"", compose, StringComparison.Ordinal);
        Assert.Contains("TEMPORAL_SERVER_HISTORY_SHARDS=", example, StringComparison.Ordinal);
        var file = Assert.Single(Directory.GetFiles(Path.Combine(generated.Compose, "files", Server)));
        var keys = ParseKeys(await File.ReadAllTextAsync(file));
        Assert.DoesNotContain(keys.Keys, DevelopmentOnlyKeys.Contains);
        Assert.Equal("disabled", keys["system.historyArchivalState"]);
    }

    private async Task<List<IKubernetesObject>> RenderAsync(string tool, string[] form) => GeneratedDeployment.ParseStrict(tool == "helm"
        ? await generated.HelmTemplateAsync(Validators.Helm4, form)
        : await generated.KustomizeAsync(form[0]));

    private static V1Deployment Deployment(List<IKubernetesObject> objects) => objects.OfType<V1Deployment>().Single(d => d.Name() == Server);

    private static IDictionary<string, string> Settings(List<IKubernetesObject> objects) =>
        objects.OfType<V1ConfigMap>().Single(c => c.Name() == $"{Server}-settings").Data;

    private static string Checksum(List<IKubernetesObject> objects) => Deployment(objects).Spec.Template.Metadata.Annotations["checksum/settings"];

    /// <summary>The file the server is told to read (DYNAMIC_CONFIG_FILE_PATH) and its contents, from the files ConfigMap.</summary>
    private static (string Path, string Contents) DynamicConfig(List<IKubernetesObject> objects)
    {
        var path = Settings(objects)["DYNAMIC_CONFIG_FILE_PATH"];
        var files = objects.OfType<V1ConfigMap>().Single(c => c.Name() == $"{Server}-files").Data;
        return (path, files[path[(path.LastIndexOf('/') + 1)..]]);
    }

    /// <summary>Each key of a dynamic config file with its unconstrained value (the first).</summary>
    private static Dictionary<string, string> ParseKeys(string contents)
    {
        var yaml = new YamlStream();
        yaml.Load(new StringReader(contents));
        var root = (YamlMappingNode)yaml.Documents[0].RootNode;
        return root.Children.ToDictionary(
            e => ((YamlScalarNode)e.Key).Value!,
            e => ((YamlScalarNode)((YamlMappingNode)((YamlSequenceNode)e.Value).Children[0]).Children[new YamlScalarNode("value")]).Value!);
    }

    private static int Seconds(string duration) =>
        duration.EndsWith('s') ? int.Parse(duration[..^1], CultureInfo.InvariantCulture) : throw new FormatException($"not in seconds: {duration}");
}

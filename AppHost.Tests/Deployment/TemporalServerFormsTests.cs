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

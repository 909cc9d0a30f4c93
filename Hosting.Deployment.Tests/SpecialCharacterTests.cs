using k8s.Models;

namespace Hosting.Deployment.Tests;

/// <summary>
/// Text that YAML, Helm, Compose and Kubernetes each read specially (<c>:</c>, <c>#</c>, quotes, <c>{{ }}</c>,
/// <c>$(VAR)</c>, <c>${VAR}</c>, <c>%</c>, a backslash, indicators) round-trips through all three outputs: written by
/// the one writer, rendered by the real tools, parsed back, and equal to what the model said. Aspire refuses such
/// characters in resource names (letters, digits and hyphens only), so they reach the outputs in values: a setting,
/// an environment variable beside a secret, an argument, a file.
/// </summary>
public sealed class SpecialCharacterTests : IDisposable
{
    private const string Tricky = "a: b # \"c\" 'd' {{ e }} $(F) ${G} 100% \\back -x &y *z !t |p >q @r `s` [u] {v}";

    // A setting's default is written inside Compose's ${KEY:-default}, which can hold no "}" and no "$" (PlanErrorTests).
    private const string TrickySetting = "a: b # \"c\" 'd' {{ e (F) 100% \\back -x &y *z !t |p >q @r [u]";

    // Text inside a ReferenceExpression is a composite format, where Aspire itself reads "{{" as "{": no braces there.
    private const string TrickyInFormat = "a: b # \"c\" 'd' $(F) $G 100% \\back -x &y *z !t |p >q @r `s` [u]";

    private const string TrickyFile = "line: \"one\" # {{ .Values.not }}\n  $(NOT) ${NOT} %s\n";

    private readonly PublishModel model = new();

    [Fact]
    public void Aspire_refuses_them_in_a_resource_name_so_they_never_reach_the_generator_as_one()
    {
        // Built at run time: Aspire's analyzer (ASPIRE006) already refuses such a name written in the source.
        var name = string.Concat("web", ": \"#1\"");
        Assert.ThrowsAny<ArgumentException>(() => model.Builder.AddContainer(name, "nginx", "1.27.3"));
    }

    [Fact]
    public async Task Special_characters_round_trip_through_compose_kustomize_and_helm()
    {
        var b = model.Builder;
        var password = b.AddParameter("password", secret: true);
        var setting = b.AddParameter("note", TrickySetting, publishValueAsDefault: true);
        b.AddContainer("web", "nginx", "1.27.3")
            .WithHttpEndpoint(targetPort: 8080, name: "http")
            .WithArgs("--banner", Tricky)
            .WithEnvironment("PLAIN", Tricky)
            .WithEnvironment("NOTE", setting)
            .WithEnvironment(c => c.EnvironmentVariables["DSN"] = ReferenceExpression.Create($"password={password};note={TrickyInFormat}"))
            .WithContainerFiles("/etc/web", [new ContainerFile { Name = "web.conf", Contents = TrickyFile }])
            .WithDeployment(d => d.RunAs(101));
        var output = await model.WriteToTemporaryFolderAsync();
        try
        {
            // Compose, as docker-compose resolves it (a "$$" in the file is a "$" in the container).
            var web = (Dictionary<object, object>)((Dictionary<object, object>)(await RenderedOutputs.ComposeAsync(output, secret: "pw"))["services"])["web"];
            var environment = (Dictionary<object, object>)web["environment"];
            Assert.Equal(Tricky, Unescape((string)environment["PLAIN"]));
            Assert.Equal(TrickySetting, Unescape((string)environment["NOTE"]));
            Assert.Equal($"password=pw;note={TrickyInFormat}", Unescape((string)environment["DSN"]));
            Assert.Equal(["--banner", Tricky], ((List<object>)web["command"]).Cast<string>().Select(Unescape));
            Assert.Equal(TrickyFile, await File.ReadAllTextAsync(Path.Combine(output, "compose", "files", "web", "web.conf")));

            // Kustomize and Helm (3 and 4): the same values in the same places.
            var (_, kustomized) = await RenderedOutputs.KustomizeAsync(output);
            AssertKubernetes(kustomized);
            foreach (var (_, objects) in await RenderedOutputs.HelmAsync(output, "shop"))
            {
                AssertKubernetes(objects);
            }
        }
        finally
        {
            Directory.Delete(output, recursive: true);
        }
    }

    /// <summary>
    /// Values where the kubelet expands <c>$(VAR)</c> (env values, args) carry <c>$$(</c> for a literal <c>$(</c>, which
    /// it turns back; ConfigMap data (read through envFrom, never expanded) and files are the text itself.
    /// </summary>
    private static void AssertKubernetes(List<k8s.IKubernetesObject> objects)
    {
        var settings = objects.OfType<V1ConfigMap>().Single(c => c.Name() == "web-settings").Data;
        Assert.Equal(Tricky, settings["PLAIN"]);
        Assert.Equal(TrickySetting, settings["NOTE"]);
        Assert.Equal(TrickyFile, objects.OfType<V1ConfigMap>().Single(c => c.Name() == "web-files").Data["web.conf"]);
        var container = objects.OfType<V1Deployment>().Single(d => d.Name() == "web").Spec.Template.Spec.Containers[0];
        Assert.Equal(["--banner", Tricky], container.Args.Select(Expand));
        Assert.Equal($"password=$(SECRET_PASSWORD);note={TrickyInFormat}", Expand(container.Env.Single(e => e.Name == "DSN").Value));
    }

    /// <summary>What the kubelet does to a literal: <c>$$</c> is one <c>$</c> (the variable references here are the secret's).</summary>
    private static string Expand(string value) => value.Replace("$$", "$", StringComparison.Ordinal);

    /// <summary>docker-compose 1.29's <c>config</c> prints a literal <c>$</c> as <c>$$</c>, as the file has it.</summary>
    private static string Unescape(string value) => value.Replace("$$", "$", StringComparison.Ordinal);

    public void Dispose() => model.Dispose();
}

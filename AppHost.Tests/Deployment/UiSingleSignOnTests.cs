using k8s;
using k8s.Models;

namespace AppHost.Tests.Deployment;

/// <summary>
/// The Temporal Web UI is reachable only from inside the cluster unless an operator exposes it, and where it is
/// exposed it logs in through OIDC (the option <c>sso</c>: <c>components/temporal-ui-sso</c>, <c>temporal.temporalUi.sso.*</c>),
/// with the client secret from a Secret, never a value in a manifest (docs/temporal-server.md, "The Web UI").
/// </summary>
[Collection(SharedDeployment.Name)]
public sealed class UiSingleSignOnTests(GeneratedDeployment generated)
{
    private const string Ui = "temporal-ui";

    private static readonly string[] HelmSso =
    [
        "--set", "temporal.temporalUi.sso.enabled=true", "--set", "temporal.temporalUi.sso.providerUrl=https://login.example.com/realms/ops",
        "--set", "temporal.temporalUi.sso.clientId=temporal-ui", "--set", "temporal.temporalUi.sso.callbackUrl=https://temporal.example.com/auth/sso/callback",
        "--set", "temporal.temporalUi.sso.existingSecret=temporal-ui-oidc",
    ];

    public static TheoryData<string, string[]> DefaultForms => new()
    {
        { "kustomize", ["overlays/development"] },
        { "kustomize", ["overlays/production"] },
        { "helm", [] },
        { "helm", ["-f", "values-production.yaml"] },
    };

    [Theory]
    [MemberData(nameof(DefaultForms))]
    public async Task By_default_the_ui_is_reachable_only_inside_the_cluster_and_asks_no_login(string tool, string[] form)
    {
        var objects = await RenderAsync(tool, form);

        Assert.Equal("ClusterIP", objects.OfType<V1Service>().Single(s => s.Name() == Ui).Spec.Type);
        Assert.Empty(objects.OfType<V1Ingress>());
        Assert.DoesNotContain(Container(objects).Env ?? [], e => e.Name.StartsWith("TEMPORAL_AUTH_", StringComparison.Ordinal));
    }

    [Fact]
    public async Task Kustomize_turns_the_login_on_from_the_operators_secret_and_lets_the_ui_reach_the_provider()
    {
        var objects = await RenderAsync("kustomize", ["overlays/production", "temporal-ui-sso"]);
        var container = Container(objects);

        Assert.Equal("true", container.Env.Single(e => e.Name == "TEMPORAL_AUTH_ENABLED").Value);
        Assert.Contains(container.EnvFrom, e => e.SecretRef?.Name == "temporal-ui-sso");
        Assert.Contains(container.EnvFrom, e => e.ConfigMapRef?.Name == $"{Ui}-settings"); // what it had stays
        AssertReachesProvider(objects);
    }

    [Fact]
    public async Task Helm_takes_the_providers_settings_from_values_and_the_client_secret_from_a_secret()
    {
        var objects = await RenderAsync("helm", HelmSso);
        var container = Container(objects);
        var env = container.Env.ToDictionary(e => e.Name);

        Assert.Equal("https://login.example.com/realms/ops", env["TEMPORAL_AUTH_PROVIDER_URL"].Value);
        Assert.Equal("temporal-ui", env["TEMPORAL_AUTH_CLIENT_ID"].Value);
        Assert.Equal("https://temporal.example.com/auth/sso/callback", env["TEMPORAL_AUTH_CALLBACK_URL"].Value);
        var secret = env["TEMPORAL_AUTH_CLIENT_SECRET"];
        Assert.Null(secret.Value);
        Assert.Equal("temporal-ui-oidc", secret.ValueFrom.SecretKeyRef.Name);
        AssertReachesProvider(objects);
    }

    [Theory]
    [InlineData("temporal.temporalUi.sso.providerUrl", "temporal.temporalUi.sso.providerUrl is required with sso.enabled")]
    [InlineData("temporal.temporalUi.sso.existingSecret", "temporal.temporalUi.sso.existingSecret is required with sso.enabled")]
    public async Task Helm_refuses_the_login_without_a_setting_it_needs_naming_it(string left, string message)
    {
        var values = HelmSso.ToList();
        var at = values.FindIndex(v => v.StartsWith(left + "=", StringComparison.Ordinal));
        values.RemoveRange(at - 1, 2);

        var result = await generated.TryHelmTemplateAsync(Validators.Helm4, [.. values]);

        Assert.NotEqual(0, result.ExitCode);
        Assert.Contains(message, result.Output, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Helm_refuses_a_provider_that_is_not_https()
    {
        var result = await generated.TryHelmTemplateAsync(Validators.Helm4, [.. HelmSso, "--set", "temporal.temporalUi.sso.providerUrl=http://login.example.com"]);

        Assert.NotEqual(0, result.ExitCode);
        Assert.Contains("/temporal/temporalUi/sso/providerUrl", result.Output, StringComparison.Ordinal);
    }

    private static void AssertReachesProvider(List<IKubernetesObject> objects)
    {
        var labels = objects.OfType<V1Deployment>().Single(d => d.Name() == Ui).Spec.Template.Metadata.Labels;
        Assert.Contains(objects.OfType<V1NetworkPolicy>().Where(p => KubernetesPolicy.Matches(p.Spec.PodSelector.MatchLabels, labels))
            .SelectMany(p => p.Spec.Egress ?? []), r => (r.Ports ?? []).Any(p => p.Port?.Value == "443"));
    }

    private static V1Container Container(List<IKubernetesObject> objects) =>
        objects.OfType<V1Deployment>().Single(d => d.Name() == Ui).Spec.Template.Spec.Containers[0];

    private async Task<List<IKubernetesObject>> RenderAsync(string tool, string[] form) => GeneratedDeployment.ParseStrict(tool == "helm"
        ? await generated.HelmTemplateAsync(Validators.Helm4, form)
        : await generated.KustomizeAsync(form[0], form[1..]));
}

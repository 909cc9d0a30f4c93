using Aspire.Hosting.Deployment;
using Aspire.Hosting.Deployment.Helm;
using Aspire.Hosting.Deployment.Yaml;

namespace AppHost;

/// <summary>
/// An optional admission policy (<c>components/image-signature</c>, <c>imageSignature.enabled</c>): Sigstore's
/// policy-controller admits the workload's pods only when their image carries a keyless signature (cosign, a
/// Fulcio certificate logged in Rekor) whose identity is the release workflow of <c>repository</c> on a version tag,
/// as scripts/release.sh sign makes it (docs/supply-chain.md, "Admission policy"). The controller enforces policies
/// in namespaces labelled <c>policy.sigstore.dev/include: "true"</c>: the Kustomize component labels the system's
/// namespace; a Helm install labels its own.
/// </summary>
internal sealed class SignedImagePolicy : DeploymentContribution
{
    public const string GitHubIssuer = "https://token.actions.githubusercontent.com";

    private readonly DeploymentOption option;

    /// <param name="repository">The GitHub repository whose release workflow signs the image (<c>owner/name</c>).</param>
    public SignedImagePolicy(string repository)
    {
        option = new DeploymentOption("imageSignature", "image-signature", "image-signature")
        {
            ResourcesFile = "clusterimagepolicy.yaml",
            ValuesSchema = ValueSchemas.Record(
                ("enabled", ValueSchemas.Boolean()),
                ("issuer", ValueSchemas.Token()),
                ("subjectRegExp", ValueSchemas.Token())),
        };
        option.Values.Add("issuer", GitHubIssuer);
        option.Values.Add("subjectRegExp", Identity(repository));
    }

    /// <summary>The certificate identity of a signature made by <c>repository</c>'s release workflow for a version tag.</summary>
    public static string Identity(string repository) =>
        $@"^https://github\.com/{repository.Replace(".", @"\.", StringComparison.Ordinal)}/\.github/workflows/release\.yml@refs/tags/v[0-9]+\.[0-9]+\.[0-9]+(-[0-9A-Za-z.-]+)?$";

    public override void DeclareValues(DeploymentValues values) => values.AddOption(option);

    public override void WriteKubernetes(KubernetesContext kubernetes)
    {
        // Cluster-scoped: in Helm the release's namespace keeps two installs apart.
        YamlNode name = kubernetes.IsHelm
            ? new Template($"printf \"%s-{kubernetes.Workload}-signature\" .Release.Namespace | quote")
            : new Scalar($"{kubernetes.SystemName}-{kubernetes.Workload}-signature");
        kubernetes.Add(option, new Map
        {
            { "apiVersion", "policy.sigstore.dev/v1beta1" },
            { "kind", "ClusterImagePolicy" },
            { "metadata", new Map { { "name", name }, { "labels", kubernetes.Labels() } } },
            {
                "spec", new Map
                {
                    // By tag, by digest, or both (what a release pins): the repository and nothing longer.
                    { "images", new Seq { new Map { { "glob", kubernetes.ImageRepository(":*") } }, new Map { { "glob", kubernetes.ImageRepository("@*") } } } },
                    {
                        "authorities", new Seq
                        {
                            new Map
                            {
                                { "name", "release-workflow" },
                                {
                                    "keyless", new Map
                                    {
                                        { "url", "https://fulcio.sigstore.dev" },
                                        {
                                            "identities", new Seq
                                            {
                                                new Map
                                                {
                                                    { "issuer", kubernetes.Value(option, "issuer", "quote") },
                                                    { "subjectRegExp", kubernetes.Value(option, "subjectRegExp", "quote") },
                                                },
                                            }
                                        },
                                    }
                                },
                                { "ctlog", new Map { { "url", "https://rekor.sigstore.dev" } } },
                            },
                        }
                    },
                    { "mode", "enforce" },
                }
            },
        });
        if (!kubernetes.IsHelm)
        {
            var include = new Map
            {
                { "apiVersion", "v1" },
                { "kind", "Namespace" },
                { "metadata", new Map { { "name", kubernetes.SystemName }, { "labels", new Map { { "policy.sigstore.dev/include", "true" } } } } },
            };
            kubernetes.Patch(option, new Map { { "patch", YamlWriter.Write(include) } });
        }
    }
}

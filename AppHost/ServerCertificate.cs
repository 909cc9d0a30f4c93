using Aspire.Hosting.Deployment;
using Aspire.Hosting.Deployment.Helm;
using Aspire.Hosting.Deployment.Yaml;

namespace AppHost;

/// <summary>
/// A server's TLS certificate from cert-manager, an option of the server (<c>components/{server}-certificates</c>,
/// Helm <c>{server's values}.certificates.enabled</c>): off by default, since production may bring the Secret from
/// its own PKI. On, cert-manager issues it from a CA of the server's own, made in the namespace (a self-signed issuer
/// signs the CA once; the CA issuer signs the server's certificate and renews it), unless <c>issuer</c> names one of
/// the organisation's (an <c>Issuer</c> or <c>ClusterIssuer</c>). The certificate names the host names clients use, so
/// their host-name check holds (docs/security.md, "Encryption in transit").
/// </summary>
/// <param name="secretName">The Secret the server mounts (<c>tls.crt</c>, <c>tls.key</c>, <c>ca.crt</c>).</param>
/// <param name="server">The server's workload name, its host name for clients.</param>
/// <param name="clientSecret">For a server that asks its clients for a certificate (and whose own certificate is also
/// its client's, between its services): the Secret of the clients' certificate, from the same issuer.</param>
internal sealed class ServerCertificate(string secretName, string server, string? clientSecret = null) : DeploymentContribution
{
    private readonly DeploymentOption option = CreateOption(server);

    private static DeploymentOption CreateOption(string server)
    {
        var option = new DeploymentOption("certificates", $"{server}-certificates", "certificates")
        {
            ValuesSchema = ValueSchemas.Record(
                ("enabled", ValueSchemas.Boolean()),
                ("issuer", ValueSchemas.Record(("name", ValueSchemas.ObjectName(optional: true)), ("kind", ValueSchemas.OneOf("Issuer", "ClusterIssuer"))))),
        };
        option.Values.Add("issuer", new Map { { "name", "" }, { "kind", "Issuer" } });
        return option;
    }

    public override void DeclareValues(DeploymentValues values) => values.AddOption(option);

    public override void WriteKubernetes(KubernetesContext kubernetes)
    {
        var ca = $"{kubernetes.SystemName}-{kubernetes.Workload}-ca";
        YamlNode issuerName;
        YamlNode issuerKind;
        if (kubernetes.IsHelm)
        {
            // The system's own CA unless values name an issuer; the CA's documents only then.
            var named = kubernetes.Ref($"{option.Name}.issuer.name");
            issuerName = new Template($"{named} | default \"{ca}\" | quote");
            issuerKind = new Template($"ternary {kubernetes.Ref($"{option.Name}.issuer.kind")} \"Issuer\" (ne {named} \"\") | quote");
            foreach (var document in OwnCa(kubernetes, ca))
            {
                kubernetes.Add(option, new Conditional($"not {named}", document));
            }
        }
        else
        {
            issuerName = new Scalar(ca);
            issuerKind = new Scalar("Issuer");
            foreach (var document in OwnCa(kubernetes, ca))
            {
                kubernetes.Add(option, document);
            }
        }
        YamlNode namespaced = kubernetes.IsHelm
            ? new Template($"printf \"{server}.%s.svc\" .Release.Namespace | quote")
            : new Scalar($"{server}.{kubernetes.SystemName}.svc");
        YamlNode qualified = kubernetes.IsHelm
            ? new Template($"printf \"{server}.%s.svc.cluster.local\" .Release.Namespace | quote")
            : new Scalar($"{server}.{kubernetes.SystemName}.svc.cluster.local");
        // 90 days, renewed a month ahead, a new key each time, from the issuer above.
        Map Issued(string secret, string commonName, Seq? dnsNames, string[] usages) => Certificate(kubernetes, secret, new Map
        {
            { "secretName", secret },
            { "commonName", commonName },
            { "dnsNames", dnsNames },
            { "usages", Seq.Of(usages) },
            { "privateKey", new Map { { "algorithm", "ECDSA" }, { "size", 256 }, { "rotationPolicy", "Always" } } },
            { "duration", "2160h" },
            { "renewBefore", "720h" },
            { "issuerRef", new Map { { "name", issuerName }, { "kind", issuerKind }, { "group", "cert-manager.io" } } },
        });
        kubernetes.Add(option, Issued(secretName, server, new Seq { new Scalar(server), namespaced, qualified },
            clientSecret is null ? ["server auth", "digital signature"] : ["server auth", "client auth", "digital signature"]));
        if (clientSecret is not null)
        {
            kubernetes.Add(option, Issued(clientSecret, $"{server}-client", dnsNames: null, ["client auth", "digital signature"]));
        }
    }

    /// <summary>A self-signed issuer, the CA certificate it signs once, and the CA issuer that signs the server's certificate.</summary>
    private static IEnumerable<Map> OwnCa(KubernetesContext kubernetes, string ca)
    {
        yield return Issuer(kubernetes, $"{ca}-bootstrap", new Map { { "selfSigned", new Map() } });
        yield return Certificate(kubernetes, ca, new Map
        {
            { "isCA", true },
            { "commonName", ca },
            { "secretName", ca },
            { "privateKey", new Map { { "algorithm", "ECDSA" }, { "size", 256 } } },
            { "duration", "87600h" },
            { "issuerRef", new Map { { "name", $"{ca}-bootstrap" }, { "kind", "Issuer" }, { "group", "cert-manager.io" } } },
        });
        yield return Issuer(kubernetes, ca, new Map { { "ca", new Map { { "secretName", ca } } } });
    }

    private static Map Issuer(KubernetesContext kubernetes, string name, Map spec) => new()
    {
        { "apiVersion", "cert-manager.io/v1" },
        { "kind", "Issuer" },
        { "metadata", kubernetes.Metadata(name) },
        { "spec", spec },
    };

    private static Map Certificate(KubernetesContext kubernetes, string name, Map spec) => new()
    {
        { "apiVersion", "cert-manager.io/v1" },
        { "kind", "Certificate" },
        { "metadata", kubernetes.Metadata(name) },
        { "spec", spec },
    };
}

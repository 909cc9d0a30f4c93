using System.Security.Cryptography;
using System.Security.Cryptography.X509Certificates;

namespace Worker.Tests.Infrastructure;

/// <summary>
/// A private CA with a server certificate for one DNS name and a client certificate, as PEM files (for TLS tests):
/// <c>ca.crt</c>, <c>tls.crt</c>/<c>tls.key</c> (what a server's Secret holds), <c>client.crt</c>/<c>client.key</c>.
/// The postgres user may read them, as PostgreSQL wants its key.
/// </summary>
public sealed class TestPki : IDisposable
{
    private static readonly Oid ServerAuthentication = new("1.3.6.1.5.5.7.3.1");
    private static readonly Oid ClientAuthentication = new("1.3.6.1.5.5.7.3.2");

    private readonly string directory;

    private TestPki(string directory) => this.directory = directory;

    public string CaCertificate => Path.Combine(directory, "ca.crt");

    public string ServerCertificate => Path.Combine(directory, "tls.crt");

    public string ServerKey => Path.Combine(directory, "tls.key");

    public string ClientCertificate => Path.Combine(directory, "client.crt");

    public string ClientKey => Path.Combine(directory, "client.key");

    /// <summary>The server's certificate with its key, as a server in this process presents it.</summary>
    public X509Certificate2 LoadServerCertificate() => X509Certificate2.CreateFromPemFile(ServerCertificate, ServerKey);

    public X509Certificate2 LoadCaCertificate() => X509CertificateLoader.LoadCertificateFromFile(CaCertificate);

    public static TestPki Create(string serverName)
    {
        var pki = new TestPki(Path.Combine(Path.GetTempPath(), $"pki-{Guid.NewGuid():N}"));
        Directory.CreateDirectory(pki.directory);
        var now = DateTimeOffset.UtcNow;
        using var caKey = RSA.Create(2048);
        var caRequest = new CertificateRequest("CN=test-ca", caKey, HashAlgorithmName.SHA256, RSASignaturePadding.Pkcs1);
        caRequest.CertificateExtensions.Add(new X509BasicConstraintsExtension(true, false, 0, true));
        caRequest.CertificateExtensions.Add(new X509KeyUsageExtension(X509KeyUsageFlags.KeyCertSign | X509KeyUsageFlags.CrlSign, true));
        using var ca = caRequest.CreateSelfSigned(now.AddDays(-2), now.AddDays(2)); // outlives what it issues
        File.WriteAllText(pki.CaCertificate, ca.ExportCertificatePem());
        Issue(ca, now, serverName, ServerAuthentication, pki.ServerCertificate, pki.ServerKey);
        Issue(ca, now, "test-client", ClientAuthentication, pki.ClientCertificate, pki.ClientKey);
        // PostgreSQL refuses a key others may read; as root the tests hand the files to the postgres user.
        System.Diagnostics.Process.Start("chmod", ["0600", pki.ServerKey])!.WaitForExit();
        if (Environment.UserName == "root")
        {
            System.Diagnostics.Process.Start("chown", ["-R", "postgres", pki.directory])!.WaitForExit();
        }
        return pki;
    }

    private static void Issue(X509Certificate2 ca, DateTimeOffset now, string name, Oid usage, string certificatePath, string keyPath)
    {
        using var key = RSA.Create(2048);
        var request = new CertificateRequest($"CN={name}", key, HashAlgorithmName.SHA256, RSASignaturePadding.Pkcs1);
        var names = new SubjectAlternativeNameBuilder();
        names.AddDnsName(name);
        request.CertificateExtensions.Add(names.Build());
        request.CertificateExtensions.Add(new X509BasicConstraintsExtension(false, false, 0, false));
        request.CertificateExtensions.Add(new X509KeyUsageExtension(X509KeyUsageFlags.DigitalSignature | X509KeyUsageFlags.KeyEncipherment, true));
        request.CertificateExtensions.Add(new X509EnhancedKeyUsageExtension([usage], false));
        using var certificate = request.Create(ca, now.AddDays(-1), now.AddDays(1), RandomNumberGenerator.GetBytes(8));
        File.WriteAllText(certificatePath, certificate.ExportCertificatePem());
        File.WriteAllText(keyPath, key.ExportPkcs8PrivateKeyPem());
    }

    public void Dispose() => Directory.Delete(directory, recursive: true);
}

using System.Security.Cryptography;
using System.Security.Cryptography.X509Certificates;

namespace Worker.Tests.Infrastructure;

/// <summary>A private CA and a server certificate it issued for one DNS name, as PEM files the postgres user may read (for TLS tests).</summary>
public sealed class TestPki : IDisposable
{
    private readonly string directory;

    private TestPki(string directory) => this.directory = directory;

    public string CaCertificate => Path.Combine(directory, "ca.crt");

    public string ServerCertificate => Path.Combine(directory, "tls.crt");

    public string ServerKey => Path.Combine(directory, "tls.key");

    public static TestPki Create(string serverName)
    {
        var pki = new TestPki(Path.Combine(Path.GetTempPath(), $"pki-{Guid.NewGuid():N}"));
        Directory.CreateDirectory(pki.directory);
        var now = DateTimeOffset.UtcNow;
        using var caKey = RSA.Create(2048);
        var caRequest = new CertificateRequest("CN=test-ca", caKey, HashAlgorithmName.SHA256, RSASignaturePadding.Pkcs1);
        caRequest.CertificateExtensions.Add(new X509BasicConstraintsExtension(true, false, 0, true));
        caRequest.CertificateExtensions.Add(new X509KeyUsageExtension(X509KeyUsageFlags.KeyCertSign | X509KeyUsageFlags.CrlSign, true));
        using var ca = caRequest.CreateSelfSigned(now.AddDays(-1), now.AddDays(1));
        using var key = RSA.Create(2048);
        var request = new CertificateRequest($"CN={serverName}", key, HashAlgorithmName.SHA256, RSASignaturePadding.Pkcs1);
        var names = new SubjectAlternativeNameBuilder();
        names.AddDnsName(serverName);
        request.CertificateExtensions.Add(names.Build());
        request.CertificateExtensions.Add(new X509BasicConstraintsExtension(false, false, 0, false));
        request.CertificateExtensions.Add(new X509EnhancedKeyUsageExtension([new Oid("1.3.6.1.5.5.7.3.1")], false));
        using var certificate = request.Create(ca, now.AddDays(-1), now.AddDays(1), RandomNumberGenerator.GetBytes(8));
        File.WriteAllText(pki.CaCertificate, ca.ExportCertificatePem());
        File.WriteAllText(pki.ServerCertificate, certificate.ExportCertificatePem());
        File.WriteAllText(pki.ServerKey, key.ExportPkcs8PrivateKeyPem());
        // PostgreSQL refuses a key others may read; as root the tests hand the files to the postgres user.
        System.Diagnostics.Process.Start("chmod", ["0600", pki.ServerKey])!.WaitForExit();
        if (Environment.UserName == "root")
        {
            System.Diagnostics.Process.Start("chown", ["-R", "postgres", pki.directory])!.WaitForExit();
        }
        return pki;
    }

    public void Dispose() => Directory.Delete(directory, recursive: true);
}

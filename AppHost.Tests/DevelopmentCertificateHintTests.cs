using System.Security.Cryptography;
using System.Security.Cryptography.X509Certificates;

namespace AppHost.Tests;

/// <summary>
/// When the AppHost says it starts without a trusted development certificate: none in force, or one in force that the
/// current user's root store does not hold (what <c>dotnet dev-certs https --trust</c> adds, and what Aspire checks).
/// </summary>
public sealed class DevelopmentCertificateHintTests
{
    private static readonly DateTimeOffset Now = DateTimeOffset.UtcNow;

    [Fact]
    public void A_trusted_development_certificate_in_force_needs_no_hint_and_anything_less_names_what_is_missing()
    {
        using var development = Certificate(developmentMarker: true, Now.AddDays(-1), Now.AddYears(1));
        using var expired = Certificate(developmentMarker: true, Now.AddYears(-2), Now.AddDays(-1));
        using var other = Certificate(developmentMarker: false, Now.AddDays(-1), Now.AddYears(1));

        Assert.Null(DevelopmentCertificateHint.Problem([other, development], [development], Now));
        Assert.Equal("the ASP.NET Core development certificate is not trusted", DevelopmentCertificateHint.Problem([development], [other], Now));
        Assert.Equal("there is no ASP.NET Core development certificate", DevelopmentCertificateHint.Problem([other], [other], Now));
        // Trusted once, expired since: a new one must be made and trusted.
        Assert.Equal("there is no ASP.NET Core development certificate", DevelopmentCertificateHint.Problem([expired], [expired], Now));
    }

    private static X509Certificate2 Certificate(bool developmentMarker, DateTimeOffset from, DateTimeOffset to)
    {
        using var key = ECDsa.Create(ECCurve.NamedCurves.nistP256);
        var request = new CertificateRequest("CN=localhost", key, HashAlgorithmName.SHA256);
        if (developmentMarker)
        {
            // ASP.NET Core's marker extension (its value is the certificate's version).
            request.CertificateExtensions.Add(new X509Extension(new Oid("1.3.6.1.4.1.311.84.1.1"), [6], critical: false));
        }
        return request.CreateSelfSigned(from, to);
    }
}

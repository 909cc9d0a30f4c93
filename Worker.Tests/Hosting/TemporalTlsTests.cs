using Microsoft.Extensions.Logging.Abstractions;
using Temporalio.Api.WorkflowService.V1;
using Temporalio.Client;
using Temporalio.Runtime;
using TemporalTestServer;
using Worker.Temporal;
using Worker.Tests.Infrastructure;

namespace Worker.Tests.Hosting;

/// <summary>
/// The worker's connection to a self-hosted frontend that requires mutual TLS, through the settings a deployment gives
/// it (<c>Temporal:Tls</c>, <c>TlsServerCaCertPath</c>, <c>TlsClientCertPath</c>/<c>TlsClientKeyPath</c>,
/// <c>TlsServerName</c>): the project's test server serving TLS with a certificate of a private CA and asking for a
/// client certificate that CA issued, the real SDK on the other side.
/// </summary>
public sealed class TemporalTlsTests
{
    [Fact]
    public async Task The_worker_reaches_a_frontend_that_requires_mutual_tls_and_refuses_any_other_trust()
    {
        using var pki = TestPki.Create(serverName: "temporal-server");
        using var stranger = TestPki.Create(serverName: "temporal-server");
        await using var server = await TemporalTestServer.TemporalTestServer.StartAsync(new TestServerOptions
        {
            TlsCertificate = pki.LoadServerCertificate(),
            ClientCertificateAuthority = pki.LoadCaCertificate(),
        });
        TemporalSettings Settings() => new()
        {
            Address = server.Address,
            Namespace = "default",
            Tls = true,
            TlsServerName = "temporal-server", // the name the certificate was issued for, as the Service's
            TlsServerCaCertPath = pki.CaCertificate,
            TlsClientCertPath = pki.ClientCertificate,
            TlsClientKeyPath = pki.ClientKey,
        };

        Assert.Null(await RefusalAsync(Settings()));

        var withoutCertificate = Settings();
        (withoutCertificate.TlsClientCertPath, withoutCertificate.TlsClientKeyPath) = (null, null);
        Assert.NotNull(await RefusalAsync(withoutCertificate));
        var strangersCertificate = Settings();
        (strangersCertificate.TlsClientCertPath, strangersCertificate.TlsClientKeyPath) = (stranger.ClientCertificate, stranger.ClientKey);
        Assert.NotNull(await RefusalAsync(strangersCertificate));
        var strangersCa = Settings();
        strangersCa.TlsServerCaCertPath = stranger.CaCertificate;
        Assert.NotNull(await RefusalAsync(strangersCa));
        var otherName = Settings();
        otherName.TlsServerName = "elsewhere";
        Assert.NotNull(await RefusalAsync(otherName));
        var plain = Settings();
        plain.Tls = false;
        Assert.NotNull(await RefusalAsync(plain));
    }

    [Fact]
    public async Task A_mounted_client_certificate_secret_is_one_setting_and_an_empty_mount_is_named_before_any_call()
    {
        using var pki = TestPki.Create(serverName: "temporal-server");
        await using var server = await TemporalTestServer.TemporalTestServer.StartAsync(new TestServerOptions
        {
            TlsCertificate = pki.LoadServerCertificate(),
            ClientCertificateAuthority = pki.LoadCaCertificate(),
        });
        // The clients' Secret as Kubernetes mounts it: tls.crt, tls.key and ca.crt in one directory.
        var mount = Directory.CreateTempSubdirectory("temporal-client-tls-");
        try
        {
            File.Copy(pki.ClientCertificate, Path.Combine(mount.FullName, "tls.crt"));
            File.Copy(pki.ClientKey, Path.Combine(mount.FullName, "tls.key"));
            File.Copy(pki.CaCertificate, Path.Combine(mount.FullName, "ca.crt"));
            var settings = new TemporalSettings { Address = server.Address, Namespace = "default", TlsServerName = "temporal-server", TlsDirectory = mount.FullName };

            Assert.True(settings.UseTls);
            Assert.Empty(settings.Validate());
            Assert.Null(await RefusalAsync(settings));

            // An optional Secret never created mounts as an empty directory: the start names what is missing.
            File.Delete(Path.Combine(mount.FullName, "tls.key"));
            File.Delete(Path.Combine(mount.FullName, "ca.crt"));
            var error = Assert.Single(settings.Validate());
            Assert.StartsWith($"Temporal:TlsDirectory '{mount.FullName}' has no tls.key, ca.crt", error, StringComparison.Ordinal);
            // Empty (TLS off, or a Temporal that needs no client certificate): unused.
            Assert.False(new TemporalSettings { Address = server.Address, TlsDirectory = "" }.UseTls);
        }
        finally
        {
            mount.Delete(recursive: true);
        }
    }

    /// <summary>Null when the worker's connection options connect and a namespace call answers; otherwise why not.</summary>
    private static async Task<string?> RefusalAsync(TemporalSettings settings)
    {
        try
        {
            var options = TemporalHostingExtensions.CreateConnectOptions(settings, TemporalRuntime.Default, NullLoggerFactory.Instance);
            var client = await TemporalClient.ConnectAsync(options).WaitAsync(TimeSpan.FromSeconds(30));
            await client.Connection.WorkflowService.DescribeNamespaceAsync(new DescribeNamespaceRequest { Namespace = "default" })
                .WaitAsync(TimeSpan.FromSeconds(30));
            return null;
        }
        catch (Exception e) when (e is not TimeoutException)
        {
            return e.Message;
        }
    }
}

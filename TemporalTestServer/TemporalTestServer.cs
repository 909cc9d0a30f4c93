using System.Net;
using System.Security.Cryptography.X509Certificates;
using Microsoft.AspNetCore.Server.Kestrel.Core;
using Microsoft.AspNetCore.Server.Kestrel.Https;
using Microsoft.Extensions.Logging;
using TemporalTestServer.Service;

namespace TemporalTestServer;

/// <summary>
/// An in-memory Temporal frontend on loopback for tests: the real SDK's client and worker talk to it over
/// gRPC as to a Temporal server. Not Temporal: see docs/testing.md for what it implements and its limits.
/// </summary>
public sealed class TemporalTestServer : IAsyncDisposable
{
    private readonly WebApplication app;

    private TemporalTestServer(WebApplication app, TestWorkflowService service, int port)
    {
        this.app = app;
        Service = service;
        Port = port;
    }

    public TestWorkflowService Service { get; }

    public int Port { get; }

    /// <summary><c>host:port</c> for <c>TemporalClientConnectOptions.TargetHost</c> or <c>Temporal:Address</c>.</summary>
    public string Address => $"127.0.0.1:{Port}";

    public static async Task<TemporalTestServer> StartAsync(TestServerOptions? options = null)
    {
        options ??= new TestServerOptions();
        var builder = WebApplication.CreateSlimBuilder();
        builder.Logging.ClearProviders();
        builder.WebHost.ConfigureKestrel(k =>
        {
            k.Listen(IPAddress.Loopback, options.Port, l =>
            {
                l.Protocols = HttpProtocols.Http2;
                if (options.TlsCertificate is { } certificate)
                {
                    l.UseHttps(https => RequireTls(https, certificate, options.ClientCertificateAuthority));
                }
            });
            k.Limits.MaxRequestBodySize = 64 * 1024 * 1024;
            k.Limits.Http2.MaxStreamsPerConnection = 1000;
        });
        var app = builder.Build();
        var service = new TestWorkflowService(options);
        var endpoint = new GrpcEndpoint(options.Authorize);
        service.MapTo(endpoint);
        app.Run(endpoint.HandleAsync);
        await app.StartAsync();
        var address = app.Urls.Select(u => new Uri(u)).First();
        return new TemporalTestServer(app, service, address.Port);
    }

    /// <summary>TLS with the server's certificate and, given a CA, only clients that present a certificate it issued.</summary>
    private static void RequireTls(HttpsConnectionAdapterOptions https, X509Certificate2 certificate, X509Certificate2? clientCa)
    {
        https.ServerCertificate = certificate;
        if (clientCa is null)
        {
            return;
        }
        https.ClientCertificateMode = ClientCertificateMode.RequireCertificate;
        https.ClientCertificateValidation = (client, _, _) =>
        {
            using var chain = new X509Chain();
            chain.ChainPolicy.TrustMode = X509ChainTrustMode.CustomRootTrust;
            chain.ChainPolicy.CustomTrustStore.Add(clientCa);
            chain.ChainPolicy.RevocationMode = X509RevocationMode.NoCheck;
            return chain.Build(client);
        };
    }

    public async ValueTask DisposeAsync()
    {
        await app.StopAsync(TimeSpan.FromSeconds(2));
        await app.DisposeAsync();
        Service.Dispose();
    }
}

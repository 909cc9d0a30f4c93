using System.Globalization;
using Microsoft.Extensions.Configuration;
using StackExchange.Redis;
using TestSupport;
using Worker.Orders.Cache;
using Worker.Tests.Infrastructure;

namespace Worker.Tests.Hosting;

/// <summary>
/// TLS to Redis as production sets it (docs/security.md, "Encryption in transit"): a real redis-server serving a
/// certificate of a private CA on its one port, and the worker's settings (<c>Redis:Tls</c>,
/// <c>Redis:CaCertificatePath</c>) applied to the client it builds.
/// </summary>
public sealed class CacheTlsTests
{
    [Fact]
    public async Task The_worker_reaches_redis_over_tls_trusting_only_the_ca_it_is_given_and_the_name_it_was_issued_for()
    {
        using var pki = TestPki.Create(serverName: "localhost");
        using var stranger = TestPki.Create(serverName: "localhost");
        var port = Loopback.FreePort();
        (await ProcessRunner.RunAsync("redis-server", ["--bind", "127.0.0.1", "--port", "0", "--tls-port", port.ToString(CultureInfo.InvariantCulture),
            "--tls-cert-file", pki.ServerCertificate, "--tls-key-file", pki.ServerKey, "--tls-auth-clients", "no",
            "--requirepass", "cache-secret", "--daemonize", "yes", "--save", "", "--appendonly", "no"], TimeSpan.FromSeconds(30))).EnsureSuccess();
        try
        {
            await Loopback.WaitListeningAsync(port);
            Assert.True(await PingsAsync($"localhost:{port}", pki.CaCertificate), "the right CA and name are refused");
            Assert.False(await PingsAsync($"localhost:{port}", stranger.CaCertificate), "another CA's certificate is trusted");
            Assert.False(await PingsAsync($"127.0.0.1:{port}", pki.CaCertificate), "a certificate for another name is trusted");
            Assert.False(await PingsAsync($"localhost:{port}", caCertificate: null, tls: false), "plain text reaches a TLS-only port");
        }
        finally
        {
            await ProcessRunner.RunAsync("redis-cli", ["-p", port.ToString(CultureInfo.InvariantCulture), "--tls", "--cacert", pki.CaCertificate,
                "-a", "cache-secret", "--no-auth-warning", "shutdown", "nosave"], TimeSpan.FromSeconds(30));
        }
    }

    [Fact]
    public void Off_by_default_and_a_missing_ca_certificate_is_refused_at_start_naming_it()
    {
        Assert.Null(CacheTls.From(Settings(new() { ["Redis:CaCertificatePath"] = "/nowhere/ca.crt" })));

        var refused = Assert.Throws<InvalidOperationException>(() =>
            CacheTls.From(Settings(new() { ["Redis:Tls"] = "true", ["Redis:CaCertificatePath"] = "/nowhere/ca.crt" })));

        Assert.Contains("Redis:CaCertificatePath names /nowhere/ca.crt", refused.Message, StringComparison.Ordinal);
    }

    private static async Task<bool> PingsAsync(string endpoint, string? caCertificate, bool tls = true)
    {
        var configuration = new Dictionary<string, string?> { ["Redis:Tls"] = tls ? "true" : "false", ["Redis:CaCertificatePath"] = caCertificate };
        var options = ConfigurationOptions.Parse($"{endpoint},password=cache-secret,abortConnect=false,connectTimeout=2000");
        CacheTls.From(Settings(configuration))?.Apply(options);
        using var redis = await ConnectionMultiplexer.ConnectAsync(options);
        try
        {
            return redis.IsConnected && (await redis.GetDatabase().PingAsync()) > TimeSpan.Zero;
        }
        catch (RedisConnectionException)
        {
            return false;
        }
    }

    private static IConfiguration Settings(Dictionary<string, string?> values) => new ConfigurationBuilder().AddInMemoryCollection(values).Build();
}

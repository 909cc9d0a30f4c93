using Microsoft.Extensions.Logging.Abstractions;
using Microsoft.Extensions.Options;
using Temporalio.Api.WorkflowService.V1;
using Temporalio.Client;
using Temporalio.Runtime;
using TemporalTestServer;
using Worker.Temporal;
using Worker.Tests.Infrastructure;

namespace Worker.Tests.Hosting;

/// <summary>
/// <c>Temporal:ApiKeyFile</c> against a frontend that authorises each call by its bearer token (the project's test server
/// standing in for Temporal's authorizer, over TLS as the real one needs): the worker's client calls with the file's
/// token, and once the file holds a new one (a rotated Secret) its calls carry that one, with no restart.
/// </summary>
public sealed class TemporalApiKeyFileTests
{
    [Fact]
    public async Task A_token_rotated_in_its_file_is_used_without_a_restart_and_an_emptied_file_keeps_the_last()
    {
        using var pki = TestPki.Create(serverName: "temporal-server");
        var accepted = "token-1";
        await using var server = await TemporalTestServer.TemporalTestServer.StartAsync(new TestServerOptions
        {
            TlsCertificate = pki.LoadServerCertificate(),
            Authorize = header => header == $"Bearer {Volatile.Read(ref accepted)}",
        });
        var file = Path.Combine(Path.GetTempPath(), $"temporal-token-{Guid.NewGuid():N}");
        await File.WriteAllTextAsync(file, "token-1\n"); // a Secret's value often ends with a newline
        try
        {
            var settings = new TemporalSettings
            {
                Address = server.Address,
                Namespace = "default",
                TlsServerName = "temporal-server",
                TlsServerCaCertPath = pki.CaCertificate,
                ApiKeyFile = file,
                ApiKeyFileCheckInterval = TimeSpan.FromMilliseconds(100),
            };
            Assert.Empty(settings.Validate());
            Assert.True(settings.UseTls);
            var client = TemporalClient.CreateLazy(TemporalHostingExtensions.CreateConnectOptions(settings, TemporalRuntime.Default, NullLoggerFactory.Instance));
            var keeper = new TemporalConnectionKeeper(client, Options.Create(settings), NullLogger<TemporalConnectionKeeper>.Instance);
            var watcher = new TemporalApiKeyFileWatcher(client, keeper, Options.Create(settings), NullLogger<TemporalApiKeyFileWatcher>.Instance);
            await keeper.StartAsync(CancellationToken.None);
            await watcher.StartAsync(CancellationToken.None);
            try
            {
                await keeper.WaitConnectedAsync(CancellationToken.None).WaitAsync(TimeSpan.FromSeconds(30));
                Assert.True(await AuthorisedAsync(client));

                // The authorizer moves on to a new token: the old one is refused until the file holds the new one.
                Volatile.Write(ref accepted, "token-2");
                Assert.False(await AuthorisedAsync(client));
                await File.WriteAllTextAsync(file, "token-2");
                Assert.True(await EventuallyAsync(() => AuthorisedAsync(client)), "the rotated token was never used");

                // A Secret being replaced may be empty for a moment: the worker keeps calling with the last token.
                await File.WriteAllTextAsync(file, "");
                await Task.Delay(TimeSpan.FromMilliseconds(500));
                Assert.Equal("token-2", client.Connection.ApiKey);
                Assert.True(await AuthorisedAsync(client));
            }
            finally
            {
                await watcher.StopAsync(CancellationToken.None);
                await keeper.StopAsync(CancellationToken.None);
            }

            // Missing, or beside Temporal:ApiKey: named before any call.
            File.Delete(file);
            Assert.Contains(settings.Validate(), e => e.StartsWith($"Temporal:ApiKeyFile '{file}' is missing or empty", StringComparison.Ordinal));
            settings.ApiKey = "key";
            Assert.Contains(settings.Validate(), e => e.StartsWith("Temporal:ApiKey and Temporal:ApiKeyFile", StringComparison.Ordinal));
        }
        finally
        {
            File.Delete(file);
        }
    }

    [Fact]
    public async Task A_worker_started_with_an_expired_token_connects_once_its_file_holds_a_new_one()
    {
        var accepted = "token-2";
        await using var server = await TemporalTestServer.TemporalTestServer.StartAsync(new TestServerOptions
        {
            Authorize = header => header == $"Bearer {Volatile.Read(ref accepted)}",
        });
        var file = Path.Combine(Path.GetTempPath(), $"temporal-token-{Guid.NewGuid():N}");
        await File.WriteAllTextAsync(file, "token-1"); // already expired when the pod starts
        try
        {
            // A server without TLS (said explicitly: the SDK would otherwise turn TLS on for a key by itself).
            var settings = new TemporalSettings { Address = server.Address, Namespace = "default", Tls = false, ApiKeyFile = file };
            var client = TemporalClient.CreateLazy(TemporalHostingExtensions.CreateConnectOptions(settings, TemporalRuntime.Default, NullLoggerFactory.Instance));
            var keeper = new TemporalConnectionKeeper(client, Options.Create(settings), NullLogger<TemporalConnectionKeeper>.Instance);
            await keeper.StartAsync(CancellationToken.None);
            try
            {
                await EventuallyAsync(() => Task.FromResult(keeper.LastError is not null)); // the first connect's answer, however slow
                Assert.False(keeper.IsConnected); // the connect call itself is refused with the expired token
                Assert.Contains("PermissionDenied", keeper.LastError?.Message ?? "", StringComparison.OrdinalIgnoreCase);

                await File.WriteAllTextAsync(file, "token-2");
                await keeper.WaitConnectedAsync(CancellationToken.None).WaitAsync(TimeSpan.FromSeconds(15));
                Assert.True(await AuthorisedAsync(client));
            }
            finally
            {
                await keeper.StopAsync(CancellationToken.None);
            }
        }
        finally
        {
            File.Delete(file);
        }
    }

    private static async Task<bool> AuthorisedAsync(TemporalClient client)
    {
        try
        {
            await client.Connection.WorkflowService.DescribeNamespaceAsync(new DescribeNamespaceRequest { Namespace = "default" })
                .WaitAsync(TimeSpan.FromSeconds(30));
            return true;
        }
        catch (Temporalio.Exceptions.RpcException e) when (e.Code == Temporalio.Exceptions.RpcException.StatusCode.PermissionDenied)
        {
            return false;
        }
    }

    private static async Task<bool> EventuallyAsync(Func<Task<bool>> condition)
    {
        for (var deadline = DateTime.UtcNow.AddSeconds(10); DateTime.UtcNow < deadline; await Task.Delay(100))
        {
            if (await condition())
            {
                return true;
            }
        }
        return false;
    }
}

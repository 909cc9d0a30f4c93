using Temporalio.Api.Enums.V1;
using Temporalio.Client;
using Worker.Tests.EndToEnd;
using Worker.Tests.Workflows;

namespace Worker.Tests.Codec;

/// <summary>
/// A worker that lacks the key an order's payloads name does not lose the order: its workflow task fails with the key
/// id named, Temporal retries it, and the order completes once a worker has the key again.
/// </summary>
public sealed class MissingKeyTests(OrdersDatabase db) : IClassFixture<OrdersDatabase>
{
    [Fact]
    public async Task An_order_under_a_key_the_worker_lacks_waits_naming_the_key_and_completes_once_the_key_is_back()
    {
        await using var temporal = await TemporalTestServer.TemporalTestServer.StartAsync();
        var taskQueue = $"orders-codec-{Guid.NewGuid():N}";
        WorkerFactory Host(string roles, params (string Id, string Secret)[] keys)
        {
            var settings = WorkerFactory.DefaultSettings(db.ConnectionString, TestSettings.RedisConnection);
            settings["Temporal:Address"] = temporal.Address;
            settings["Temporal:TaskQueue"] = taskQueue;
            settings["Temporal:GracefulShutdownTimeout"] = "00:00:01";
            settings["Orders:ShippingStageDuration"] = "00:00:00";
            settings["Worker:Roles"] = roles;
            foreach (var (id, secret) in keys)
            {
                settings[$"Temporal:Encryption:Keys:{id}"] = secret;
            }
            settings["Temporal:Encryption:CurrentKeyId"] = keys[^1].Id;
            return new WorkerFactory(settings);
        }
        var k1 = ("k1", AesGcmPayloadCodecTests.Secret1);
        var k2 = ("k2", AesGcmPayloadCodecTests.Secret2);
        var orderId = $"missing-key-{Guid.NewGuid():N}"[..28];

        await using var api = Host("api", k1);
        var placed = await api.CreateAuthorizedClient().PostAsJsonAsync("/api/orders",
            new { orderId, lines = new[] { new { sku = "GRINDER", quantity = 1 } }, paymentToken = "tok_visa" });
        Assert.Equal(HttpStatusCode.Accepted, placed.StatusCode);
        var client = (ITemporalClient)api.Services.GetService(typeof(ITemporalClient))!;
        var handle = client.GetWorkflowHandle(OrderEndpoints.WorkflowId(orderId));

        // A worker with only k2: the start's input is under k1.
        await using (var without = Host("worker", k2))
        {
            _ = without.Server; // starts the host
            var failure = await WaitForWorkflowTaskFailureAsync(handle);
            Assert.Contains("encrypted with key 'k1', which is not configured", failure, StringComparison.Ordinal);
            Assert.DoesNotContain(AesGcmPayloadCodecTests.Secret1, failure, StringComparison.Ordinal);
            Assert.DoesNotContain(AesGcmPayloadCodecTests.Secret2, failure, StringComparison.Ordinal);
            Assert.Equal(WorkflowExecutionStatus.Running, (await handle.DescribeAsync()).Status);
        }

        // The key back: the same order completes, nothing lost.
        await using var with = Host("worker", k1, k2);
        _ = with.Server;
        // Read through that worker's client: the result is under k2, which the api host (k1 only) cannot read.
        var withClient = (ITemporalClient)with.Services.GetService(typeof(ITemporalClient))!;
        var result = await withClient.GetWorkflowHandle(handle.Id).GetResultAsync<OrderResult>().WaitAsync(TimeSpan.FromSeconds(60));
        Assert.Equal(OrderStatus.Completed, result.Status);
    }

    /// <summary>The first failed workflow task's failure, decoded (its message travels encrypted, under the failing worker's key).</summary>
    private static async Task<string> WaitForWorkflowTaskFailureAsync(WorkflowHandle handle)
    {
        var codec = AesGcmPayloadCodecTests.Codec("k2", ("k1", AesGcmPayloadCodecTests.Secret1), ("k2", AesGcmPayloadCodecTests.Secret2));
        for (var attempt = 0; attempt < 200; attempt++)
        {
            var history = await handle.FetchHistoryAsync();
            if (history.Events.FirstOrDefault(e => e.EventType == EventType.WorkflowTaskFailed) is { } failed)
            {
                var payloads = CommittedHistoryReplayTests.Payloads(failed).ToList();
                var decoded = await codec.DecodeAsync(payloads);
                // The encoded attributes: {"message": ..., "stack_trace": ...}.
                return string.Join('\n', decoded.Select(p => JsonDocument.Parse(p.Data.Memory).RootElement)
                    .Where(e => e.ValueKind == JsonValueKind.Object && e.TryGetProperty("message", out _))
                    .Select(e => e.GetProperty("message").GetString()));
            }
            await Task.Delay(100);
        }
        throw new TimeoutException("no workflow task failed");
    }
}

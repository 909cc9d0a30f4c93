using Temporalio.Common;
using Temporalio.Worker;
using Worker.Tests.EndToEnd;
using Worker.Tests.Workflows;
using Worker.Temporal.Codec;

namespace Worker.Tests.Codec;

/// <summary>
/// What Temporal stores of an order, read back from the server through the SDK's history fetch (no codec on that path):
/// with encryption the order's fields are nowhere in clear; without it they are (so the check can fail).
/// </summary>
public sealed class EncryptedHistoryTests
{
    private const string Sku = "GRINDER";

    [Theory]
    [InlineData(true)]
    [InlineData(false)]
    public async Task The_stored_history_holds_order_fields_only_without_encryption(bool encryption)
    {
        var environment = new CodecEnvironment(encryption);
        await environment.InitializeAsync();
        try
        {
            await CheckAsync(environment, encryption);
        }
        finally
        {
            await environment.DisposeAsync();
        }
    }

    private static async Task CheckAsync(CodecEnvironment environment, bool encryption)
    {
        var orderId = $"codec-{encryption}-{Guid.NewGuid():N}"[..30];

        Assert.Equal(HttpStatusCode.Accepted, (await environment.PlaceOrderAsync(orderId, "tok_visa", new OrderLine(Sku, 2))).StatusCode);
        var result = await environment.Temporal.GetWorkflowHandle(OrderEndpoints.WorkflowId(orderId)).GetResultAsync<OrderResult>()
            .WaitAsync(TimeSpan.FromSeconds(60));
        var history = await environment.Temporal.GetWorkflowHandle(OrderEndpoints.WorkflowId(orderId)).FetchHistoryAsync();

        Assert.Equal(OrderStatus.Completed, result.Status);
        var stored = string.Join('\n', history.Events.SelectMany(e => CommittedHistoryReplayTests.Payloads(e)).Select(p => p.ToString()));
        var data = string.Join('\n', history.Events.SelectMany(e => CommittedHistoryReplayTests.Payloads(e)).Select(p => p.Data.ToStringUtf8()));
        var json = history.ToJson();
        if (encryption)
        {
            Assert.DoesNotContain(Sku, data, StringComparison.Ordinal);
            Assert.DoesNotContain("\"Quantity\"", data, StringComparison.Ordinal);
            Assert.DoesNotContain(Sku, json, StringComparison.Ordinal);
            Assert.Contains("encryption-key-id", stored, StringComparison.Ordinal);
            // The worker's own converter reads it back: the history replays with the codec, and not without it.
            Assert.Null(await ReplayAsync(history, environment.Codec));
            Assert.NotNull(await ReplayAsync(history, null));
        }
        else
        {
            Assert.Contains(Sku, data, StringComparison.Ordinal);
            Assert.DoesNotContain("encryption-key-id", stored, StringComparison.Ordinal);
        }
    }

    private static async Task<Exception?> ReplayAsync(WorkflowHistory history, AesGcmPayloadCodec? codec)
    {
        var options = new WorkflowReplayerOptions { DataConverter = PayloadEncryptionSettings.CreateDataConverter(codec) }.AddWorkflow<OrderWorkflow>();
        return (await new WorkflowReplayer(options).ReplayWorkflowAsync(history, throwOnReplayFailure: false)).ReplayFailure;
    }

    private sealed class CodecEnvironment(bool encryption) : EndToEndEnvironment
    {
        public AesGcmPayloadCodec Codec { get; } = AesGcmPayloadCodecTests.Codec("k1", ("k1", AesGcmPayloadCodecTests.Secret1));

        protected override Task ConfigureAsync(Dictionary<string, string?> settings)
        {
            if (encryption)
            {
                settings["Temporal:Encryption:Keys:k1"] = AesGcmPayloadCodecTests.Secret1;
                settings["Temporal:Encryption:CurrentKeyId"] = "k1";
            }
            return Task.CompletedTask;
        }
    }
}

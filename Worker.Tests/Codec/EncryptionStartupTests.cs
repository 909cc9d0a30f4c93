namespace Worker.Tests.Codec;

/// <summary>A malformed key configuration stops the worker process at start (exit 2), naming the setting and never the key.</summary>
public sealed class EncryptionStartupTests(OrdersDatabase db) : IClassFixture<OrdersDatabase>
{
    private const string ShortKey = "short-key-0123456789";

    [Theory]
    [InlineData("Temporal__Encryption__Keys__k1", ShortKey, "Temporal:Encryption:Keys:k1 is 20 characters")]
    [InlineData("Temporal__Encryption__CurrentKeyId", "k2", "Temporal:Encryption:CurrentKeyId 'k2' names no key")]
    [InlineData("Temporal__Encryption__CodecCorsOrigin", "http://localhost:8081/ui", "Temporal:Encryption:CodecCorsOrigin must be an origin")]
    public async Task A_malformed_key_configuration_exits_at_start_naming_it(string variable, string value, string message)
    {
        var environment = WorkerFactory.ProcessEnvironment(db.ConnectionString);
        environment["Temporal__Encryption__Keys__k1"] = AesGcmPayloadCodecTests.Secret1;
        environment["Temporal__Encryption__CurrentKeyId"] = "k1";
        environment[variable] = value;
        using var worker = WorkerProcess.Start(environment);

        Assert.Equal(2, await worker.WaitForExitAsync(TimeSpan.FromSeconds(20)));
        Assert.Contains(message, worker.StandardError, StringComparison.Ordinal);
        Assert.DoesNotContain(AesGcmPayloadCodecTests.Secret1, worker.StandardError + worker.StandardOutput, StringComparison.Ordinal);
        Assert.DoesNotContain(ShortKey, worker.StandardError + worker.StandardOutput, StringComparison.Ordinal);
    }
}

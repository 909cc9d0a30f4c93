using Google.Protobuf;
using Temporalio.Api.Common.V1;
using Temporalio.Converters;
using Worker.Temporal.Codec;

namespace Worker.Tests.Codec;

/// <summary>The codec itself: what it writes, rotation, and every way a payload can fail to decrypt.</summary>
public sealed class AesGcmPayloadCodecTests
{
    public const string Secret1 = "k1-secret-0123456789abcdefghijklmnopqrstuvwxyz";
    public const string Secret2 = "k2-secret-ZYXWVUTSRQPONMLKJIHGFEDCBA9876543210";

    public static AesGcmPayloadCodec Codec(string current, params (string Id, string Secret)[] keys) =>
        new PayloadEncryptionSettings { Keys = keys.ToDictionary(k => k.Id, k => (string?)k.Secret), CurrentKeyId = current }.CreateCodec()!;

    private static Payload Plain(string text) => DataConverter.Default.PayloadConverter.ToPayload(text);

    [Fact]
    public async Task A_payload_round_trips_and_is_stored_encrypted_under_the_current_key()
    {
        var codec = Codec("k1", ("k1", Secret1));
        var original = Plain("Out of stock: GRINDER x3");

        var encrypted = (await codec.EncodeAsync([original])).Single();

        Assert.Equal("binary/encrypted", encrypted.Metadata["encoding"].ToStringUtf8());
        Assert.Equal("k1", encrypted.Metadata["encryption-key-id"].ToStringUtf8());
        Assert.Equal(["encoding", "encryption-key-id"], encrypted.Metadata.Keys.Order(StringComparer.Ordinal));
        Assert.DoesNotContain("GRINDER", encrypted.ToByteString().ToStringUtf8(), StringComparison.Ordinal);
        Assert.DoesNotContain("json/plain", encrypted.ToByteString().ToStringUtf8(), StringComparison.Ordinal);
        Assert.Equal(original, (await codec.DecodeAsync([encrypted])).Single());
    }

    [Fact]
    public async Task Decrypting_only_it_sends_payloads_as_they_are_and_still_reads_encrypted_ones()
    {
        // The first rollout of encryption beside a build without the codec: what it sends, that build can read.
        var encrypting = Codec("k1", ("k1", Secret1));
        var decryptingOnly = new PayloadEncryptionSettings { Keys = { ["k1"] = Secret1 }, CurrentKeyId = "k1", Encrypt = false }.CreateCodec()!;
        var original = Plain("Out of stock: GRINDER x3");

        var sent = (await decryptingOnly.EncodeAsync([original])).Single();
        var received = (await decryptingOnly.DecodeAsync([(await encrypting.EncodeAsync([original])).Single()])).Single();

        Assert.Equal(original, sent);
        Assert.Equal("Out of stock: GRINDER x3", DataConverter.Default.PayloadConverter.ToValue<string>(sent));
        Assert.Equal(original, received);
        // Failures too are left where a build without the codec reads them (not moved into encoded attributes).
        Assert.IsNotType<DefaultFailureConverter.WithEncodedCommonAttributes>(PayloadEncryptionSettings.CreateDataConverter(decryptingOnly).FailureConverter);
        Assert.IsType<DefaultFailureConverter.WithEncodedCommonAttributes>(PayloadEncryptionSettings.CreateDataConverter(encrypting).FailureConverter);
    }

    [Fact]
    public async Task The_same_payload_encrypts_differently_each_time()
    {
        var codec = Codec("k1", ("k1", Secret1));
        var first = (await codec.EncodeAsync([Plain("GRINDER")])).Single();
        var second = (await codec.EncodeAsync([Plain("GRINDER")])).Single();

        Assert.NotEqual(first.Data, second.Data);
    }

    [Fact]
    public async Task After_rotation_new_payloads_use_the_new_key_and_old_ones_still_decrypt()
    {
        var before = Codec("k1", ("k1", Secret1));
        var old = (await before.EncodeAsync([Plain("written under k1")])).Single();
        var after = Codec("k2", ("k1", Secret1), ("k2", Secret2));

        var fresh = (await after.EncodeAsync([Plain("written under k2")])).Single();

        Assert.Equal("k2", AesGcmPayloadCodec.KeyIdOf(fresh));
        Assert.Equal(Plain("written under k1"), (await after.DecodeAsync([old])).Single());
        Assert.Equal(Plain("written under k2"), (await after.DecodeAsync([fresh])).Single());
        // The key only k2 knows: the codec that has only k1 cannot read it.
        var unknown = await Assert.ThrowsAsync<PayloadDecryptionException>(() => before.DecodeAsync([fresh]));
        Assert.Equal("k2", unknown.KeyId);
    }

    [Fact]
    public async Task An_unknown_key_id_is_named_and_no_key_is()
    {
        var encrypted = (await Codec("retired-2025", ("retired-2025", Secret2)).EncodeAsync([Plain("x")])).Single();

        var e = await Assert.ThrowsAsync<PayloadDecryptionException>(() => Codec("k1", ("k1", Secret1)).DecodeAsync([encrypted]));

        Assert.Equal("retired-2025", e.KeyId);
        Assert.Contains("'retired-2025'", e.Message, StringComparison.Ordinal);
        Assert.Contains("Temporal:Encryption:Keys:retired-2025", e.Message, StringComparison.Ordinal);
        Assert.DoesNotContain(Secret1, e.Message, StringComparison.Ordinal);
        Assert.DoesNotContain(Secret2, e.Message, StringComparison.Ordinal);
    }

    [Fact]
    public async Task A_wrong_key_under_the_same_id_does_not_decrypt()
    {
        var encrypted = (await Codec("k1", ("k1", Secret1)).EncodeAsync([Plain("x")])).Single();

        var e = await Assert.ThrowsAsync<PayloadDecryptionException>(() => Codec("k1", ("k1", Secret2)).DecodeAsync([encrypted]));

        Assert.Equal("k1", e.KeyId);
        Assert.Contains("does not decrypt", e.Message, StringComparison.Ordinal);
        Assert.DoesNotContain(Secret1, e.Message, StringComparison.Ordinal);
        Assert.DoesNotContain(Secret2, e.Message, StringComparison.Ordinal);
    }

    [Theory]
    [InlineData(0)] // the nonce
    [InlineData(20)] // the ciphertext
    [InlineData(-1)] // the tag
    public async Task Tampered_ciphertext_does_not_decrypt(int position)
    {
        var codec = Codec("k1", ("k1", Secret1));
        var encrypted = (await codec.EncodeAsync([Plain("a payload long enough to alter in the middle")])).Single();
        var data = encrypted.Data.ToByteArray();
        data[position < 0 ? data.Length + position : position] ^= 0x01;
        var tampered = new Payload(encrypted) { Data = ByteString.CopyFrom(data) };

        var e = await Assert.ThrowsAsync<PayloadDecryptionException>(() => codec.DecodeAsync([tampered]));

        Assert.Contains("altered", e.Message, StringComparison.Ordinal);
    }

    [Fact]
    public async Task A_tampered_key_id_does_not_decrypt_under_another_key()
    {
        var encrypted = (await Codec("k1", ("k1", Secret1)).EncodeAsync([Plain("x")])).Single();
        var relabelled = new Payload(encrypted);
        relabelled.Metadata["encryption-key-id"] = ByteString.CopyFromUtf8("k2");

        await Assert.ThrowsAsync<PayloadDecryptionException>(() => Codec("k1", ("k1", Secret1), ("k2", Secret2)).DecodeAsync([relabelled]));
    }

    [Fact]
    public async Task A_truncated_payload_and_one_without_a_key_id_give_clear_errors()
    {
        var codec = Codec("k1", ("k1", Secret1));
        var encrypted = (await codec.EncodeAsync([Plain("x")])).Single();
        var truncated = new Payload(encrypted) { Data = ByteString.CopyFrom(encrypted.Data.Span[..10]) };
        var anonymous = new Payload(encrypted);
        anonymous.Metadata.Remove("encryption-key-id");

        Assert.Contains("too short", (await Assert.ThrowsAsync<PayloadDecryptionException>(() => codec.DecodeAsync([truncated]))).Message, StringComparison.Ordinal);
        Assert.Contains("names no key", (await Assert.ThrowsAsync<PayloadDecryptionException>(() => codec.DecodeAsync([anonymous]))).Message, StringComparison.Ordinal);
    }

    [Fact]
    public async Task A_payload_written_without_the_codec_passes_through_unchanged()
    {
        var plain = Plain("from before encryption");
        var binary = new Payload { Metadata = { ["encoding"] = ByteString.CopyFromUtf8("binary/plain") }, Data = ByteString.CopyFrom(1, 2, 3) };

        var decoded = await Codec("k1", ("k1", Secret1)).DecodeAsync([plain, binary, new Payload()]);

        Assert.Equal([plain, binary, new Payload()], decoded);
    }
}

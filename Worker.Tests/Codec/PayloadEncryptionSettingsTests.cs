using Worker.Temporal.Codec;

namespace Worker.Tests.Codec;

/// <summary>Every malformed key configuration is refused at start with the key it concerns named, and no key's value.</summary>
public sealed class PayloadEncryptionSettingsTests
{
    private const string Good = AesGcmPayloadCodecTests.Secret1;

    [Fact]
    public void Without_keys_encryption_is_off()
    {
        var settings = new PayloadEncryptionSettings { Keys = { ["k1"] = "" } };

        Assert.Empty(settings.Validate());
        Assert.False(settings.Enabled);
        Assert.Null(settings.CreateCodec());
    }

    [Theory]
    [InlineData("k1", "too-short-0123456789", "k1", "Temporal:Encryption:Keys:k1 is 20 characters")]
    [InlineData("k1", Good, null, "Temporal:Encryption:CurrentKeyId is required")]
    [InlineData("k1", Good, "k9", "Temporal:Encryption:CurrentKeyId 'k9' names no key")]
    [InlineData("bad id!", Good, "bad id!", "Temporal:Encryption:Keys:bad id!: a key id is")]
    [InlineData(null, null, "k1", "(none is configured)")]
    public void A_malformed_key_configuration_is_named(string? id, string? key, string? current, string expected)
    {
        var settings = new PayloadEncryptionSettings { CurrentKeyId = current };
        if (id is not null)
        {
            settings.Keys[id] = key;
        }

        var errors = settings.Validate().ToList();

        var error = Assert.Single(errors);
        Assert.Contains(expected, error, StringComparison.Ordinal);
        if (key is not null)
        {
            Assert.DoesNotContain(key, error, StringComparison.Ordinal);
        }
    }

    [Theory]
    [InlineData("http://localhost:8081", "http://localhost:8081")]
    [InlineData("https://temporal.example.com", "https://temporal.example.com")]
    public void The_codec_origin_is_an_origin(string configured, string origin)
    {
        var settings = new PayloadEncryptionSettings { Keys = { ["k1"] = Good }, CurrentKeyId = "k1", CodecCorsOrigin = configured };

        Assert.Empty(settings.Validate());
        Assert.Equal(origin, settings.CorsOrigin);
    }

    [Theory]
    [InlineData("http://localhost:8081/")]
    [InlineData("http://localhost:8081/ui")]
    [InlineData("localhost:8081")]
    [InlineData("*")]
    public void A_codec_origin_that_is_not_one_is_refused(string configured)
    {
        var settings = new PayloadEncryptionSettings { Keys = { ["k1"] = Good }, CurrentKeyId = "k1", CodecCorsOrigin = configured };

        Assert.Contains("Temporal:Encryption:CodecCorsOrigin must be an origin", Assert.Single(settings.Validate()), StringComparison.Ordinal);
    }

    [Fact]
    public void Key_ids_match_ignoring_case_and_the_key_is_derived_from_the_whole_secret()
    {
        var settings = new PayloadEncryptionSettings { Keys = { ["Key-A"] = Good }, CurrentKeyId = "key-a" };

        Assert.Empty(settings.Validate());
        Assert.Equal("Key-A", settings.CreateCodec()!.CurrentKeyId);
        Assert.NotEqual(PayloadEncryptionSettings.DeriveKey(Good), PayloadEncryptionSettings.DeriveKey(Good[..^1] + "!"));
        Assert.Equal(32, PayloadEncryptionSettings.DeriveKey(Good).Length);
    }
}

using System.Security.Cryptography;
using Google.Protobuf;
using Temporalio.Api.Common.V1;
using Temporalio.Converters;

namespace Worker.Temporal.Codec;

/// <summary>
/// Encrypts every payload the SDK sends to Temporal (workflow and activity inputs and results, signals, queries,
/// headers, failure details) with AES-256-GCM, and decrypts what comes back. The whole payload, its metadata
/// included, is encrypted into the data of a new one whose metadata says <c>encoding: binary/encrypted</c> and
/// names the key (<c>encryption-key-id</c>), so a payload still decrypts after the current key has changed.
/// </summary>
/// <remarks>
/// Data: a 12-byte random nonce, the ciphertext, the 16-byte tag. A payload without the encrypted encoding passes
/// through decoding unchanged: histories written before encryption was switched on still replay.
/// </remarks>
public sealed class AesGcmPayloadCodec : IPayloadCodec
{
    public const string EncodingMetadataKey = "encoding";
    public const string EncryptedEncoding = "binary/encrypted";
    public const string KeyIdMetadataKey = "encryption-key-id";

    /// <summary>AES-256.</summary>
    public const int KeyBytes = 32;

    private const int NonceBytes = 12;
    private const int TagBytes = 16;
    private static readonly ByteString EncryptedEncodingValue = ByteString.CopyFromUtf8(EncryptedEncoding);

    private readonly Dictionary<string, byte[]> keys;
    private readonly byte[] currentKey;
    private readonly ByteString currentKeyIdValue;

    /// <param name="keys">Key id → 32-byte key; ids are matched ignoring case, as configuration keys are.</param>
    /// <param name="currentKeyId">The key that encrypts.</param>
    /// <param name="encrypts">
    /// False: payloads are sent as they are and only decrypted when they come encrypted, while a build without the
    /// codec still runs orders that must read what this one sends (docs/security.md, "Payload encryption").
    /// </param>
    public AesGcmPayloadCodec(IReadOnlyDictionary<string, byte[]> keys, string currentKeyId, bool encrypts = true)
    {
        Encrypts = encrypts;
        ArgumentNullException.ThrowIfNull(keys);
        ArgumentNullException.ThrowIfNull(currentKeyId);
        if (keys.FirstOrDefault(k => k.Value.Length != KeyBytes) is { Key: not null } wrong)
        {
            throw new ArgumentException($"Key '{wrong.Key}' is {wrong.Value.Length} bytes; AES-256 needs {KeyBytes}.", nameof(keys));
        }
        this.keys = new Dictionary<string, byte[]>(keys, StringComparer.OrdinalIgnoreCase);
        currentKey = this.keys.TryGetValue(currentKeyId, out var key)
            ? key
            : throw new ArgumentException($"The current key '{currentKeyId}' is not among the keys.", nameof(currentKeyId));
        CurrentKeyId = currentKeyId;
        currentKeyIdValue = ByteString.CopyFromUtf8(currentKeyId);
    }

    /// <summary>Whether payloads sent are encrypted; received ones are decrypted either way.</summary>
    public bool Encrypts { get; }

    /// <summary>The id new payloads are encrypted under.</summary>
    public string CurrentKeyId { get; }

    /// <summary>The key id an encrypted payload names, or null for a payload that is not encrypted.</summary>
    public static string? KeyIdOf(Payload payload)
    {
        ArgumentNullException.ThrowIfNull(payload);
        return IsEncrypted(payload) && payload.Metadata.TryGetValue(KeyIdMetadataKey, out var id) ? id.ToStringUtf8() : null;
    }

    public Task<IReadOnlyCollection<Payload>> EncodeAsync(IReadOnlyCollection<Payload> payloads)
    {
        ArgumentNullException.ThrowIfNull(payloads);
        return Task.FromResult<IReadOnlyCollection<Payload>>(Encrypts ? payloads.Select(Encrypt).ToList() : payloads);
    }

    public Task<IReadOnlyCollection<Payload>> DecodeAsync(IReadOnlyCollection<Payload> payloads)
    {
        ArgumentNullException.ThrowIfNull(payloads);
        return Task.FromResult<IReadOnlyCollection<Payload>>(payloads.Select(Decrypt).ToList());
    }

    private Payload Encrypt(Payload payload)
    {
        var plain = payload.ToByteArray();
        var data = new byte[NonceBytes + plain.Length + TagBytes];
        var nonce = data.AsSpan(0, NonceBytes);
        RandomNumberGenerator.Fill(nonce);
        // An AesGcm instance is not safe for concurrent use, and activities encode on many threads at once; one
        // per payload costs about a microsecond.
        using (var aes = new AesGcm(currentKey, TagBytes))
        {
            aes.Encrypt(nonce, plain, data.AsSpan(NonceBytes, plain.Length), data.AsSpan(NonceBytes + plain.Length));
        }
        return new Payload
        {
            Metadata = { [EncodingMetadataKey] = EncryptedEncodingValue, [KeyIdMetadataKey] = currentKeyIdValue },
            Data = UnsafeByteOperations.UnsafeWrap(data),
        };
    }

    private Payload Decrypt(Payload payload)
    {
        if (!IsEncrypted(payload))
        {
            return payload;
        }
        var keyId = KeyIdOf(payload);
        if (string.IsNullOrEmpty(keyId))
        {
            throw new PayloadDecryptionException(null, $"An encrypted payload names no key ({KeyIdMetadataKey} metadata missing).");
        }
        if (!keys.TryGetValue(keyId, out var key))
        {
            throw new PayloadDecryptionException(keyId,
                $"A payload is encrypted with key '{keyId}', which is not configured: add it as "
                + $"{PayloadEncryptionSettings.Section}:Keys:{keyId} (configured: {string.Join(", ", keys.Keys.Order(StringComparer.Ordinal))}).");
        }
        var data = payload.Data.Span;
        if (data.Length < NonceBytes + TagBytes)
        {
            throw new PayloadDecryptionException(keyId, $"A payload encrypted with key '{keyId}' is {data.Length} bytes, too short to be one.");
        }
        var plain = new byte[data.Length - NonceBytes - TagBytes];
        try
        {
            using var aes = new AesGcm(key, TagBytes);
            aes.Decrypt(data[..NonceBytes], data[NonceBytes..^TagBytes], data[^TagBytes..], plain);
        }
        catch (AuthenticationTagMismatchException e)
        {
            throw new PayloadDecryptionException(keyId,
                $"A payload encrypted with key '{keyId}' does not decrypt: it was altered, or "
                + $"{PayloadEncryptionSettings.Section}:Keys:{keyId} is not the key it was encrypted with.", e);
        }
        return Payload.Parser.ParseFrom(plain);
    }

    private static bool IsEncrypted(Payload payload) =>
        payload.Metadata.TryGetValue(EncodingMetadataKey, out var encoding) && encoding.Equals(EncryptedEncodingValue);
}

using System.Security.Cryptography;
using System.Text;
using Temporalio.Converters;

namespace Worker.Temporal.Codec;

/// <summary>
/// Section <c>Temporal:Encryption</c>: the keys <see cref="AesGcmPayloadCodec"/> encrypts and decrypts payloads with.
/// Without a key, encryption is off and payloads reach Temporal as the SDK makes them. Keys are secrets: environment
/// variables <c>Temporal__Encryption__Keys__&lt;id&gt;</c> from a Secret, never a committed file.
/// </summary>
public sealed class PayloadEncryptionSettings
{
    public const string Section = $"{TemporalSettings.Section}:Encryption";

    /// <summary>
    /// The shortest key accepted: 32 random letters and digits hold about 190 bits, and 32 bytes in base64 (44
    /// characters) 256. A shorter one, a placeholder or a truncated paste, fails the start instead of weakening it.
    /// </summary>
    public const int MinKeyLength = 32;

    public const int MaxKeyIdLength = 64;

    private static readonly byte[] DerivationInfo = Encoding.ASCII.GetBytes("temporal-orders payload encryption v1");

    /// <summary>
    /// Key id → a random secret of at least <see cref="MinKeyLength"/> characters (<c>openssl rand -base64 32</c>, or
    /// what a secret generator makes); the AES-256 key is derived from it (HKDF-SHA256). Each key a payload still in
    /// Temporal was encrypted with must stay until that payload is gone (the namespace's retention after its workflow
    /// closed). A key left empty counts as absent.
    /// </summary>
    public Dictionary<string, string?> Keys { get; set; } = [];

    /// <summary>The id of the key that encrypts new payloads; required once a key is configured.</summary>
    public string? CurrentKeyId { get; set; }

    /// <summary>
    /// False: decrypt what comes encrypted but send payloads in clear. For the first rollout of encryption over a build
    /// without the codec, which cannot read an encrypted task that lands on it (unversioned, both poll one queue) nor
    /// continue, after a rollback, orders this build started; true once that build is gone (docs/security.md,
    /// "Payload encryption").
    /// </summary>
    public bool Encrypt { get; set; } = true;

    /// <summary>
    /// The one origin (<c>scheme://host[:port]</c>) whose browser pages may call the codec endpoint: the Temporal Web
    /// UI's. Unset: no browser page may, while other clients (the Temporal CLI) still can.
    /// </summary>
    public string? CodecCorsOrigin { get; set; }

    /// <summary>Whether encryption is asked for at all: a key or a current key id is configured.</summary>
    public bool Enabled => ConfiguredKeys.Any() || !string.IsNullOrWhiteSpace(CurrentKeyId);

    /// <summary><see cref="CodecCorsOrigin"/> as browsers send it in <c>Origin</c> (no trailing slash), or null when unset.</summary>
    public string? CorsOrigin =>
        Uri.TryCreate(CodecCorsOrigin?.Trim(), UriKind.Absolute, out var origin) ? origin.GetLeftPart(UriPartial.Authority) : null;

    private IEnumerable<KeyValuePair<string, string?>> ConfiguredKeys => Keys.Where(k => !string.IsNullOrWhiteSpace(k.Value));

    /// <summary>Problems that make the settings unusable, each naming its configuration key and never a key's value.</summary>
    public IEnumerable<string> Validate()
    {
        foreach (var (id, value) in ConfiguredKeys)
        {
            if (!IsKeyId(id))
            {
                yield return $"{Section}:Keys:{id}: a key id is 1 to {MaxKeyIdLength} letters, digits, '-' or '_' (it is written into every payload).";
            }
            else if (value!.Trim().Length < MinKeyLength)
            {
                yield return $"{Section}:Keys:{id} is {value.Trim().Length} characters; a key is a random secret of at least "
                    + $"{MinKeyLength} (openssl rand -base64 32).";
            }
        }
        var configured = ConfiguredKeys.Select(k => k.Key).ToList();
        if (string.IsNullOrWhiteSpace(CurrentKeyId))
        {
            if (configured.Count > 0)
            {
                yield return $"{Section}:CurrentKeyId is required with keys: the id of the key that encrypts new payloads "
                    + $"(configured: {string.Join(", ", configured)}).";
            }
        }
        else if (!configured.Contains(CurrentKeyId.Trim(), StringComparer.OrdinalIgnoreCase))
        {
            yield return $"{Section}:CurrentKeyId '{CurrentKeyId}' names no key in {Section}:Keys "
                + (configured.Count == 0 ? "(none is configured)." : $"(configured: {string.Join(", ", configured)}).");
        }
        if (!string.IsNullOrWhiteSpace(CodecCorsOrigin) && !IsOrigin(CodecCorsOrigin.Trim()))
        {
            yield return $"{Section}:CodecCorsOrigin must be an origin, scheme://host[:port] without a path (got '{CodecCorsOrigin}').";
        }
    }

    /// <summary>The codec of these settings, or null when encryption is off. Call on validated settings.</summary>
    public AesGcmPayloadCodec? CreateCodec()
    {
        if (!Enabled)
        {
            return null;
        }
        var keys = ConfiguredKeys.ToDictionary(k => k.Key, k => DeriveKey(k.Value!), StringComparer.OrdinalIgnoreCase);
        return new AesGcmPayloadCodec(keys, keys.Keys.First(id => string.Equals(id, CurrentKeyId!.Trim(), StringComparison.OrdinalIgnoreCase)), Encrypt);
    }

    /// <summary>
    /// The SDK's data converter with <paramref name="codec"/>, or the default one for none. With the codec, failure
    /// messages and stack traces go into the failure's encoded attributes, through the codec: they name SKUs and
    /// quantities ("Out of stock: GRINDER x3").
    /// </summary>
    public static DataConverter CreateDataConverter(AesGcmPayloadCodec? codec) => codec switch
    {
        null => DataConverter.Default,
        // Decrypting only: failures as a build without the codec writes and reads them.
        { Encrypts: false } => DataConverter.Default with { PayloadCodec = codec },
        _ => DataConverter.Default with { PayloadCodec = codec, FailureConverter = new DefaultFailureConverter.WithEncodedCommonAttributes() },
    };

    /// <summary>
    /// The AES-256 key of a configured secret: HKDF-SHA256 over its UTF-8 bytes. A derivation, not the bytes themselves,
    /// so that a secret generator's letters and digits (Aspire's, Helm's <c>randAlphaNum</c>) make as good a key as base64.
    /// </summary>
    public static byte[] DeriveKey(string secret)
    {
        ArgumentNullException.ThrowIfNull(secret);
        return HKDF.DeriveKey(HashAlgorithmName.SHA256, Encoding.UTF8.GetBytes(secret.Trim()), AesGcmPayloadCodec.KeyBytes, salt: [], info: DerivationInfo);
    }

    private static bool IsKeyId(string id) =>
        id.Length is > 0 and <= MaxKeyIdLength && id.All(c => char.IsAsciiLetterOrDigit(c) || c is '-' or '_');

    private static bool IsOrigin(string value) =>
        Uri.TryCreate(value, UriKind.Absolute, out var uri)
        && uri.Scheme is "http" or "https"
        && uri.AbsolutePath == "/"
        && !value.EndsWith('/')
        && string.IsNullOrEmpty(uri.Query) && string.IsNullOrEmpty(uri.Fragment) && string.IsNullOrEmpty(uri.UserInfo);
}

using Microsoft.Extensions.Options;
using Temporalio.Converters;

namespace Worker.Temporal.Codec;

/// <summary>
/// The process's one codec, made once from the validated <see cref="PayloadEncryptionSettings"/>: the Temporal client
/// (and so the worker) converts through it, and the codec endpoint serves it.
/// </summary>
public sealed class PayloadEncryption(IOptions<PayloadEncryptionSettings> settings)
{
    private readonly Lazy<AesGcmPayloadCodec?> codec = new(() => settings.Value.CreateCodec());

    /// <summary>The codec, or null when encryption is off.</summary>
    public AesGcmPayloadCodec? Codec => codec.Value;

    public DataConverter DataConverter => PayloadEncryptionSettings.CreateDataConverter(Codec);
}

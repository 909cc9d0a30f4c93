namespace Worker.Temporal.Codec;

/// <summary>
/// An encrypted payload that cannot be decrypted: its key is not configured, or it does not authenticate under that
/// key. In a worker the workflow task or activity attempt fails with this message and is retried, so the run waits,
/// unharmed, until the key is configured again.
/// </summary>
public sealed class PayloadDecryptionException : Exception
{
    public PayloadDecryptionException()
    {
    }

    public PayloadDecryptionException(string message)
        : base(message)
    {
    }

    public PayloadDecryptionException(string message, Exception innerException)
        : base(message, innerException)
    {
    }

    public PayloadDecryptionException(string? keyId, string message, Exception? innerException = null)
        : base(message, innerException) => KeyId = keyId;

    /// <summary>The key id the payload names, when it names one.</summary>
    public string? KeyId { get; }
}

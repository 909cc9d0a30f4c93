namespace Aspire.Hosting.ApplicationModel;

/// <summary>
/// On a Temporal server: the codec server its Web UI sends payloads to (<c>TEMPORAL_CODEC_ENDPOINT</c>), with the
/// browser's credentials (<c>TEMPORAL_CODEC_INCLUDE_CREDENTIALS</c>). The browser calls it, not the UI's container: the
/// endpoint is the address a browser reaches it at.
/// </summary>
/// <param name="Endpoint">An environment value: a string, a parameter, or a value provider resolved when the UI starts.</param>
public sealed record TemporalUiCodecAnnotation(object Endpoint) : IResourceAnnotation;

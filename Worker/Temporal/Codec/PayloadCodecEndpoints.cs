using Google.Protobuf;
using Microsoft.Extensions.Options;
using Temporalio.Api.Common.V1;

namespace Worker.Temporal.Codec;

/// <summary>
/// The codec server of Temporal's Web UI and CLI (<c>POST {endpoint}/encode</c> and <c>/decode</c>, a JSON body
/// <c>{"payloads":[...]}</c> in protobuf JSON), on the worker's HTTP API, with the same codec and keys as the worker.
/// Browsers may call it only from <see cref="PayloadEncryptionSettings.CodecCorsOrigin"/>. The caller authenticates it
/// (the application adds its API-key filter to the group): it hands out clear text.
/// </summary>
public static class PayloadCodecEndpoints
{
    public const string Path = "/codec";
    public const string CorsPolicy = "temporal-codec";

    /// <summary>A payload may be 2 MB (Temporal's default blob limit); in base64 and JSON a little under 3.</summary>
    public const int MaxBodyBytes = 8 * 1024 * 1024;

    private static readonly JsonParser Parser = new(JsonParser.Settings.Default.WithIgnoreUnknownFields(true));

    /// <summary>The codec's CORS policy: its one configured origin, with credentials (the UI's <c>includeCredentials</c>).</summary>
    public static IServiceCollection AddPayloadCodecCors(this IServiceCollection services)
    {
        services.AddCors();
        services.AddOptions<Microsoft.AspNetCore.Cors.Infrastructure.CorsOptions>()
            .Configure<IOptions<PayloadEncryptionSettings>>((cors, encryption) => cors.AddPolicy(CorsPolicy, policy =>
            {
                if (encryption.Value.CorsOrigin is { } origin)
                {
                    policy.WithOrigins(origin)
                        .WithMethods(HttpMethods.Post)
                        // What the UI sends (X-Namespace, Authorization with its passAccessToken) and the API's own key header.
                        .WithHeaders("Content-Type", "X-Namespace", "Authorization", "Authorization-Extras", "X-Api-Key")
                        .AllowCredentials()
                        .SetPreflightMaxAge(TimeSpan.FromMinutes(10));
                }
            }));
        return services;
    }

    /// <summary>Maps the codec under <see cref="Path"/> when encryption is on; null (nothing mapped) when it is off.</summary>
    public static RouteGroupBuilder? MapPayloadCodec(this IEndpointRouteBuilder app)
    {
        ArgumentNullException.ThrowIfNull(app);
        if (app.ServiceProvider.GetRequiredService<PayloadEncryption>().Codec is null)
        {
            return null;
        }
        var codec = app.MapGroup(Path).RequireCors(CorsPolicy).WithTags("Payload codec");
        codec.MapPost("/encode", (HttpRequest request, PayloadEncryption encryption, CancellationToken ct) =>
            ConvertAsync(request, payloads => encryption.Codec!.EncodeAsync(payloads), ct));
        codec.MapPost("/decode", (HttpRequest request, PayloadEncryption encryption, CancellationToken ct) =>
            ConvertAsync(request, payloads => encryption.Codec!.DecodeAsync(payloads), ct));
        // Opened once in a browser tab, its sign-in prompt leaves the credentials the Web UI's requests then carry.
        codec.MapGet("/", () => Results.Text(
            "Signed in to the payload codec: the Temporal Web UI in this browser can now show decrypted payloads.\n"));
        return codec;
    }

    private static async Task<IResult> ConvertAsync(
        HttpRequest request, Func<IReadOnlyCollection<Payload>, Task<IReadOnlyCollection<Payload>>> convert, CancellationToken ct)
    {
        if (!request.HasJsonContentType())
        {
            return Problem(StatusCodes.Status415UnsupportedMediaType, "Unsupported media type",
                "The body must be JSON (Content-Type: application/json): {\"payloads\":[...]}.");
        }
        if (request.ContentLength > MaxBodyBytes)
        {
            return TooLarge();
        }
        using var body = new MemoryStream();
        var buffer = new byte[81920];
        int read;
        while ((read = await request.Body.ReadAsync(buffer, ct)) > 0)
        {
            if (body.Length + read > MaxBodyBytes)
            {
                return TooLarge();
            }
            body.Write(buffer, 0, read);
        }
        Payloads input;
        try
        {
            input = Parser.Parse<Payloads>(System.Text.Encoding.UTF8.GetString(body.GetBuffer(), 0, (int)body.Length));
        }
        catch (Exception e) when (e is InvalidJsonException or InvalidProtocolBufferException or FormatException)
        {
            return Problem(StatusCodes.Status400BadRequest, "Malformed payloads",
                $"The body must be {{\"payloads\":[{{\"metadata\":{{...}},\"data\":\"<base64>\"}}]}}: {e.Message}");
        }
        try
        {
            var output = new Payloads { Payloads_ = { await convert(input.Payloads_) } };
            return Results.Text(JsonFormatter.Default.Format(output), "application/json");
        }
        catch (PayloadDecryptionException e)
        {
            return Problem(StatusCodes.Status422UnprocessableEntity, "Payload does not decrypt", e.Message);
        }
    }

    private static IResult TooLarge() =>
        Problem(StatusCodes.Status413PayloadTooLarge, "Body too large", $"The body must be at most {MaxBodyBytes} bytes.");

    private static IResult Problem(int status, string title, string detail) => Results.Problem(statusCode: status, title: title, detail: detail);
}

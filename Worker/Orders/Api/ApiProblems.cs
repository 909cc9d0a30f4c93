using System.Text.Json;

namespace Worker.Orders.Api;

/// <summary>
/// Problem documents whose cause must stay out of the response: the exception names internal types (JSON
/// errors) or addresses and transport internals (Temporal errors). The client gets a fixed text; the log
/// gets the exception.
/// </summary>
internal static partial class ApiProblems
{
    public const string TemporalUnavailableDetail = "Temporal is not reachable. Try again shortly.";
    public const string MalformedJsonDetail = "The body is not valid JSON for an order request.";

    public static IResult TemporalUnavailable(HttpContext http, Exception cause)
    {
        LogTemporalUnavailable(Logger(http), cause, http.Request.Path);
        http.Response.Headers.RetryAfter = Backpressure.RetryAfterSeconds.ToString(System.Globalization.CultureInfo.InvariantCulture);
        return Results.Problem(statusCode: StatusCodes.Status503ServiceUnavailable, title: "Temporal unavailable",
            detail: TemporalUnavailableDetail);
    }

    public static IResult MalformedJson(HttpContext http, JsonException cause)
    {
        LogMalformedJson(Logger(http), cause, http.Request.Path);
        // Where the body went wrong helps the client and names nothing of ours.
        var position = cause.Path is null ? "" : $" Path: {cause.Path} | LineNumber: {cause.LineNumber} | BytePositionInLine: {cause.BytePositionInLine}.";
        return Results.Problem(statusCode: StatusCodes.Status400BadRequest, title: "Malformed JSON",
            detail: MalformedJsonDetail + position);
    }

    private static ILogger Logger(HttpContext http) =>
        http.RequestServices.GetRequiredService<ILoggerFactory>().CreateLogger(typeof(OrderEndpoints).FullName!);

    [LoggerMessage(Level = LogLevel.Warning, Message = "Temporal unavailable for {Path}")]
    private static partial void LogTemporalUnavailable(ILogger logger, Exception exception, string path);

    [LoggerMessage(Level = LogLevel.Warning, Message = "Malformed JSON in {Path}")]
    private static partial void LogMalformedJson(ILogger logger, Exception exception, string path);
}

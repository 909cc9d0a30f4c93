using System.Buffers.Binary;
using System.IO.Compression;
using Microsoft.AspNetCore.Http.Features;

namespace TemporalTestServer.Grpc;

/// <summary>Context of one call: the caller's deadline (grpc-timeout) and cancellation.</summary>
public sealed record CallContext(DateTime Deadline, CancellationToken Aborted)
{
    /// <summary>How long a long poll may wait: up to the caller's deadline less a margin, at most <paramref name="cap"/>.</summary>
    public TimeSpan LongPollBudget(TimeSpan cap)
    {
        var left = Deadline - DateTime.UtcNow - TimeSpan.FromMilliseconds(500);
        return left < TimeSpan.Zero ? TimeSpan.Zero : left < cap ? left : cap;
    }
}

/// <summary>
/// gRPC over HTTP/2 by hand: Temporalio ships the messages but no server stubs. A request is one
/// length-prefixed frame (flag byte, big-endian length, message), gzip-compressed when the flag says so;
/// the answer is one frame and the trailer <c>grpc-status: 0</c>, or only trailers with the error status.
/// </summary>
/// <param name="authorize">Decides a call by its <c>authorization</c> header; null lets every call through.</param>
public sealed class GrpcEndpoint(Func<string?, bool>? authorize = null)
{
    /// <summary>What Temporal's authorizer lets through without credentials.</summary>
    private static readonly HashSet<string> Exempt = new(StringComparer.Ordinal)
    {
        "/grpc.health.v1.Health/Check",
        "/temporal.api.workflowservice.v1.WorkflowService/GetSystemInfo",
    };

    private readonly Dictionary<string, Func<byte[], CallContext, Task<IMessage>>> methods = new(StringComparer.Ordinal);

    public IReadOnlyCollection<string> Methods => methods.Keys;

    /// <summary>Registers a unary handler under its full path (<c>/package.Service/Method</c>).</summary>
    public void Map<TRequest>(string path, Func<TRequest, CallContext, Task<IMessage>> handler)
        where TRequest : IMessage<TRequest>, new()
    {
        var parser = new MessageParser<TRequest>(() => new TRequest());
        methods[path] = (bytes, context) => handler(parser.ParseFrom(bytes), context);
    }

    public async Task HandleAsync(HttpContext http)
    {
        http.Response.ContentType = "application/grpc";
        try
        {
            if (!methods.TryGetValue(http.Request.Path.Value ?? "", out var handler))
            {
                throw new GrpcStatusException(StatusCode.Unimplemented, $"{http.Request.Path} is not implemented by the Temporal test server");
            }
            // As Temporal's: the exempt calls need no token, but a token that is there is checked on them too.
            var token = http.Request.Headers.Authorization.FirstOrDefault();
            if (authorize is not null && !authorize(token) && !(token is null && Exempt.Contains(http.Request.Path.Value!)))
            {
                throw new GrpcStatusException(StatusCode.PermissionDenied, "Request unauthorized.");
            }
            var request = await ReadMessageAsync(http.Request);
            var context = new CallContext(Deadline(http.Request.Headers["grpc-timeout"]), http.RequestAborted);
            var response = await handler(request, context);
            await WriteMessageAsync(http.Response, response.ToByteArray());
            http.Response.AppendTrailer("grpc-status", "0");
        }
        catch (GrpcStatusException e)
        {
            WriteStatus(http, e.Code, e.Message, e.DetailsBin);
        }
        catch (OperationCanceledException) when (http.RequestAborted.IsCancellationRequested)
        {
            // The caller went away; there is nobody to answer.
        }
#pragma warning disable CA1031 // Every other failure is a bug of the test server: answer INTERNAL with its text.
        catch (Exception e)
#pragma warning restore CA1031
        {
            WriteStatus(http, StatusCode.Internal, $"Temporal test server error: {e}", null);
        }
    }

    private static void WriteStatus(HttpContext http, StatusCode code, string message, byte[]? details)
    {
        if (!http.Response.SupportsTrailers())
        {
            throw new InvalidOperationException("HTTP/2 is required for gRPC");
        }
        http.Response.AppendTrailer("grpc-status", ((int)code).ToString(System.Globalization.CultureInfo.InvariantCulture));
        http.Response.AppendTrailer("grpc-message", Uri.EscapeDataString(message.Length > 2000 ? message[..2000] : message));
        if (details is not null)
        {
            http.Response.AppendTrailer("grpc-status-details-bin", Convert.ToBase64String(details).TrimEnd('='));
        }
    }

    private static async Task<byte[]> ReadMessageAsync(HttpRequest request)
    {
        using var body = new MemoryStream();
        await request.Body.CopyToAsync(body);
        var frame = body.GetBuffer().AsMemory(0, (int)body.Length);
        if (frame.Length < 5)
        {
            throw new GrpcStatusException(StatusCode.InvalidArgument, "Request is not a gRPC frame");
        }
        var compressed = frame.Span[0] == 1;
        var length = (int)BinaryPrimitives.ReadUInt32BigEndian(frame.Span[1..5]);
        var message = frame.Slice(5, length).ToArray();
        if (!compressed)
        {
            return message;
        }
        using var gzip = new GZipStream(new MemoryStream(message), CompressionMode.Decompress);
        using var plain = new MemoryStream();
        await gzip.CopyToAsync(plain);
        return plain.ToArray();
    }

    private static async Task WriteMessageAsync(HttpResponse response, byte[] message)
    {
        var frame = new byte[5 + message.Length];
        BinaryPrimitives.WriteUInt32BigEndian(frame.AsSpan(1, 4), (uint)message.Length);
        message.CopyTo(frame, 5);
        await response.Body.WriteAsync(frame);
    }

    /// <summary>Parses <c>grpc-timeout</c> ("100m", "30S"...); no header means a minute.</summary>
    internal static DateTime Deadline(string? timeout)
    {
        var now = DateTime.UtcNow;
        if (string.IsNullOrEmpty(timeout) || !long.TryParse(timeout[..^1], out var value))
        {
            return now.AddMinutes(1);
        }
        return timeout[^1] switch
        {
            'H' => now.AddHours(value),
            'M' => now.AddMinutes(value),
            'S' => now.AddSeconds(value),
            'm' => now.AddMilliseconds(value),
            'u' => now.AddTicks(value * 10),
            'n' => now.AddTicks(value / 100),
            _ => now.AddMinutes(1),
        };
    }
}

using System.Threading.RateLimiting;
using Microsoft.AspNetCore.Diagnostics;
using Microsoft.AspNetCore.RateLimiting;
using Npgsql;
using Temporalio.Exceptions;

namespace Worker.Orders.Api;

/// <summary>
/// How the API sheds load instead of failing under it: at most <c>Api:MaxConcurrentOrderStarts</c> order starts at
/// once per process, and beyond that a 503 at once; a transient infrastructure failure (PostgreSQL unavailable or out of
/// connections, the pool exhausted, Temporal unavailable or exhausted) is a 503 too, never a 500. Every 503 carries
/// <c>Retry-After</c>, and a refused POST has written nothing: the client sends the same request again (docs/api.md).
/// </summary>
public static partial class Backpressure
{
    /// <summary>The rate-limiting policy of <c>POST /api/orders</c>.</summary>
    public const string OrderStarts = "order-starts";

    /// <summary>Seconds a client should wait before it sends a refused request again.</summary>
    public const int RetryAfterSeconds = 2;

    public static IServiceCollection AddBackpressure(this IServiceCollection services, IConfiguration configuration)
    {
        var limit = configuration.GetValue("Api:MaxConcurrentOrderStarts", 16);
        if (limit < 1)
        {
            throw new InvalidOperationException("Api:MaxConcurrentOrderStarts must be at least 1.");
        }
        services.AddRateLimiter(options =>
        {
            // No queue: a request beyond the bound is refused now, not kept until it would time out anyway.
            options.AddConcurrencyLimiter(OrderStarts, limiter => (limiter.PermitLimit, limiter.QueueLimit) = (limit, 0));
            options.OnRejected = (context, _) => new ValueTask(WriteAsync(context.HttpContext, "Too many orders at once",
                "This replica is starting as many orders as it may. Send the same request again shortly."));
        });
        services.AddExceptionHandler<TransientFailureHandler>();
        return services;
    }

    /// <summary>Whether a failure is the infrastructure's passing state, which the same request may not meet again.</summary>
    public static bool IsTransient(Exception exception) => exception switch
    {
        NpgsqlException npgsql when npgsql.IsTransient => true, // connection failures, timeouts, 53300 too many clients…
        NpgsqlException { InnerException: TimeoutException } => true, // the pool exhausted for the whole timeout
        RpcException { Code: RpcException.StatusCode.Unavailable or RpcException.StatusCode.ResourceExhausted or RpcException.StatusCode.DeadlineExceeded } => true,
        TimeoutException => true,
        { InnerException: { } inner } => IsTransient(inner),
        _ => false,
    };

    /// <summary>A 503 problem document with Retry-After.</summary>
    public static Task WriteAsync(HttpContext http, string title, string detail)
    {
        ArgumentNullException.ThrowIfNull(http);
        http.Response.StatusCode = StatusCodes.Status503ServiceUnavailable;
        http.Response.Headers.RetryAfter = RetryAfterSeconds.ToString(System.Globalization.CultureInfo.InvariantCulture);
        return Results.Problem(statusCode: StatusCodes.Status503ServiceUnavailable, title: title, detail: detail).ExecuteAsync(http);
    }

    private sealed partial class TransientFailureHandler(ILogger<TransientFailureHandler> logger) : IExceptionHandler
    {
        public async ValueTask<bool> TryHandleAsync(HttpContext httpContext, Exception exception, CancellationToken cancellationToken)
        {
            if (!IsTransient(exception) || httpContext.Response.HasStarted)
            {
                return false; // a 500: a bug, not a passing state
            }
            LogTransient(logger, exception, httpContext.Request.Path);
            await WriteAsync(httpContext, "Temporarily unavailable",
                "A service this request needs is overloaded or unavailable. Send the same request again shortly.");
            return true;
        }

        [LoggerMessage(Level = LogLevel.Warning, Message = "Answered 503 to {Path}: a transient infrastructure failure")]
        private static partial void LogTransient(ILogger logger, Exception exception, string path);
    }
}

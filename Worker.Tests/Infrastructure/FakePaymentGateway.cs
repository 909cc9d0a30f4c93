using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Http;

namespace Worker.Tests.Infrastructure;

/// <summary>
/// A real HTTP server on loopback playing the payment gateway: answers charges and refunds after
/// <see cref="Delay"/>, with <see cref="ChargeStatus"/> for charges, and records every call it received.
/// </summary>
public sealed class FakePaymentGateway : IAsyncDisposable
{
    private readonly WebApplication app;

    private FakePaymentGateway(WebApplication app) => this.app = app;

    /// <summary>One call: path, headers that matter, the JSON body.</summary>
    public sealed record GatewayCall(string Path, string? Authorization, string? IdempotencyKey, JsonElement Body);

    public List<GatewayCall> Calls { get; } = [];

    public Uri Address => new(app.Urls.First() + "/");

    /// <summary>How long each call takes to answer.</summary>
    public TimeSpan Delay { get; set; }

    /// <summary>How long a refund takes to answer, when it differs from <see cref="Delay"/>.</summary>
    public TimeSpan? RefundDelay { get; set; }

    /// <summary>The answer to charges: 200 with a reference, or any other status.</summary>
    public HttpStatusCode ChargeStatus { get; set; } = HttpStatusCode.OK;

    /// <summary>The answer to refunds.</summary>
    public HttpStatusCode RefundStatus { get; set; } = HttpStatusCode.OK;

    public GatewayCall[] CallsTo(string path)
    {
        lock (Calls)
        {
            return [.. Calls.Where(c => c.Path == path)];
        }
    }

    public static async Task<FakePaymentGateway> StartAsync(HttpStatusCode chargeStatus = HttpStatusCode.OK, TimeSpan delay = default)
    {
        var builder = WebApplication.CreateSlimBuilder();
        builder.WebHost.UseUrls("http://127.0.0.1:0");
        var app = builder.Build();
        var gateway = new FakePaymentGateway(app) { ChargeStatus = chargeStatus, Delay = delay };
        app.MapPost("/{kind}", async (string kind, HttpContext http) =>
        {
            var body = await JsonSerializer.DeserializeAsync<JsonElement>(http.Request.Body);
            int count;
            lock (gateway.Calls)
            {
                gateway.Calls.Add(new(http.Request.Path, http.Request.Headers.Authorization, http.Request.Headers["Idempotency-Key"], body));
                count = gateway.Calls.Count;
            }
            await Task.Delay(kind == "refunds" ? gateway.RefundDelay ?? gateway.Delay : gateway.Delay);
            var status = kind == "charges" ? gateway.ChargeStatus : gateway.RefundStatus;
            return status == HttpStatusCode.OK
                ? Results.Json(new { reference = $"gw-ref-{count}" })
                : Results.StatusCode((int)status);
        });
        await app.StartAsync();
        return gateway;
    }

    public async ValueTask DisposeAsync() => await app.DisposeAsync();
}

using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Http;

namespace Worker.Rollout.Tests;

/// <summary>
/// A payment gateway on loopback that keeps the contract of docs/api.md, "The payment gateway", and remembers every
/// charge, so that a test can compare the money that moved with what the ledger says: a charge is identified by its
/// idempotency key (the same key charges once and answers the same reference); a refund names the charge by reference
/// or by key, and a refund by a key that never charged refuses every later charge with that key; a second body under one
/// refund key is refused (422), and a refund of a charge refunded under another key answers 409; a missing token is
/// refused (400), <c>tok_decline</c> declined (402), and the first call with <c>tok_flaky</c> fails (400, which the
/// worker's HTTP client does not retry), so that Temporal retries the charge, on whichever build polls first.
/// Each build calls with its own key, and <c>tok_previous_build_only</c> is refused (400) to this build: its charge
/// attempts fail until one runs on the previous build.
/// </summary>
public sealed class ContractPaymentGateway : IAsyncDisposable
{
    /// <summary>The key this build calls with.</summary>
    public const string ThisBuildKey = "gateway-key-this-build";

    /// <summary>The key the previous build calls with.</summary>
    public const string PreviousBuildKey = "gateway-key-previous-build";

    private readonly WebApplication app;
    private readonly Dictionary<string, Charge> charges = new(StringComparer.Ordinal);
    private readonly HashSet<string> voidedKeys = new(StringComparer.Ordinal);
    private readonly HashSet<string> failedOnce = new(StringComparer.Ordinal);
    private readonly Dictionary<string, string> refundBodies = new(StringComparer.Ordinal);
    private readonly Dictionary<string, string> refundedUnder = new(StringComparer.Ordinal);

    private ContractPaymentGateway(WebApplication app) => this.app = app;

    /// <summary>One charge: the order, its amount, the gateway's reference, and whether it was refunded.</summary>
    public sealed record Charge(string OrderId, decimal Amount, string Reference, bool Refunded);

    public Uri Address => new(app.Urls.First() + "/");

    /// <summary>Requests refused because they carried no payment token: a build that expected the token elsewhere.</summary>
    public int ChargesWithoutToken { get; private set; }

    /// <summary>What the order was charged and not refunded.</summary>
    public decimal NetCharged(string orderId)
    {
        lock (charges)
        {
            return charges.Values.Where(c => c.OrderId == orderId && !c.Refunded).Sum(c => c.Amount);
        }
    }

    public static async Task<ContractPaymentGateway> StartAsync()
    {
        var builder = WebApplication.CreateSlimBuilder();
        builder.WebHost.UseUrls("http://127.0.0.1:0");
        var gateway = new ContractPaymentGateway(builder.Build());
        // Typed results: a lambda of HttpContext returning a plain Task would bind as a RequestDelegate, and its result be dropped.
        gateway.app.MapPost("/charges", async Task<IResult> (HttpContext http) => gateway.AnswerCharge(http, await BodyAsync(http)));
        gateway.app.MapPost("/refunds", async Task<IResult> (HttpContext http) => gateway.AnswerRefund(http, await BodyAsync(http)));
        await gateway.app.StartAsync();
        return gateway;
    }

    private IResult AnswerCharge(HttpContext http, JsonElement body)
    {
        if (Unauthorized(http) is { } refused)
        {
            return refused;
        }
        var key = http.Request.Headers["Idempotency-Key"].ToString();
        var token = body.TryGetProperty("paymentToken", out var t) && t.ValueKind == JsonValueKind.String ? t.GetString() : null;
        lock (charges)
        {
            if (charges.TryGetValue(key, out var existing))
            {
                return Results.Json(new { reference = existing.Reference });
            }
            if (voidedKeys.Contains(key))
            {
                return Results.StatusCode(StatusCodes.Status409Conflict);
            }
            if (string.IsNullOrEmpty(token))
            {
                ChargesWithoutToken++;
                return Results.StatusCode(StatusCodes.Status400BadRequest);
            }
            if (token == "tok_decline")
            {
                return Results.StatusCode(StatusCodes.Status402PaymentRequired);
            }
            if (token == "tok_flaky" && failedOnce.Add(key))
            {
                return Results.StatusCode(StatusCodes.Status400BadRequest);
            }
            if (token == "tok_previous_build_only" && http.Request.Headers.Authorization.ToString() == $"Bearer {ThisBuildKey}")
            {
                return Results.StatusCode(StatusCodes.Status400BadRequest);
            }
            var charge = new Charge(body.GetProperty("orderId").GetString()!, body.GetProperty("amount").GetDecimal(), $"gw-{key}", false);
            charges[key] = charge;
            return Results.Json(new { reference = charge.Reference });
        }
    }

    private IResult AnswerRefund(HttpContext http, JsonElement body)
    {
        if (Unauthorized(http) is { } refused)
        {
            return refused;
        }
        var reference = Text(body, "chargeReference");
        var key = Text(body, "chargeIdempotencyKey");
        var refundKey = http.Request.Headers["Idempotency-Key"].ToString();
        lock (charges)
        {
            // One body per key, as gateways with idempotency keys enforce: a retry under the same key must say the same.
            if (refundBodies.TryGetValue(refundKey, out var first) && first != body.GetRawText())
            {
                return Results.StatusCode(StatusCodes.Status422UnprocessableEntity);
            }
            refundBodies[refundKey] = body.GetRawText();
            var found = charges.FirstOrDefault(c => (reference is not null && c.Value.Reference == reference) || (key is not null && c.Key == key));
            if (found.Value is null)
            {
                if (key is not null)
                {
                    voidedKeys.Add(key); // a charge still on its way with this key must not happen after the refund
                }
                return Results.NotFound();
            }
            if (found.Value.Refunded && refundedUnder.GetValueOrDefault(found.Key) != refundKey)
            {
                return Results.StatusCode(StatusCodes.Status409Conflict); // refunded already, under another key
            }
            charges[found.Key] = found.Value with { Refunded = true };
            refundedUnder[found.Key] = refundKey;
            return Results.Json(new { reference = $"refund-{found.Value.Reference}" });
        }
    }

    private static async Task<JsonElement> BodyAsync(HttpContext http) =>
        await JsonSerializer.DeserializeAsync<JsonElement>(http.Request.Body);

    private static IResult? Unauthorized(HttpContext http) =>
        http.Request.Headers.Authorization.ToString() is $"Bearer {ThisBuildKey}" or $"Bearer {PreviousBuildKey}"
            ? null
            : Results.StatusCode(StatusCodes.Status401Unauthorized);

    private static string? Text(JsonElement body, string name) =>
        body.TryGetProperty(name, out var value) && value.ValueKind == JsonValueKind.String ? value.GetString() : null;

    public async ValueTask DisposeAsync() => await app.DisposeAsync();
}

using System.Net;
using System.Net.Http.Json;
using Worker.Orders.Persistence;

namespace Worker.Orders.Payments;

/// <summary>
/// Client of an HTTP payment gateway. Every call carries an idempotency key derived from the order, so a
/// retried activity never charges twice. Transient failures are retried by the standard resilience handler
/// (see ServiceDefaults) and then by Temporal's activity retry.
/// </summary>
public sealed class HttpPaymentGateway(HttpClient http, Microsoft.Extensions.Options.IOptions<PaymentsOptions> options) : IPaymentGateway
{
    public bool IsExternal => true;

    /// <summary>Charges the amount; returns the gateway's reference. Without a token on record there is nothing to charge with.</summary>
    public Task<string> ChargeAsync(string orderId, decimal amount, string? paymentToken, CancellationToken cancellationToken) =>
        paymentToken is null
            ? Task.FromException<string>(new PaymentDeclinedException($"No payment token on record for order {orderId}"))
            : SendAsync("charges", ChargeIdempotencyKey(orderId), new { orderId, amount, paymentToken }, unknownChargeIsDone: false,
                cancellationToken)!;

    /// <summary>
    /// Refunds the order's charge, named by the charge's idempotency key, the one name it has whether it settled or
    /// not: every attempt of the refund sends the same request under the refund's own key (a gateway refuses a second
    /// body under one key, and the charge may settle between two attempts). For a charge still pending (the gateway
    /// may or may not have charged), the gateway's 404 means it never charged, so there is nothing to refund.
    /// </summary>
    public Task RefundAsync(string orderId, ChargeRecord charge, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(charge);
        return SendAsync("refunds", RefundIdempotencyKey(orderId), new { orderId, chargeIdempotencyKey = ChargeIdempotencyKey(orderId) },
            unknownChargeIsDone: !charge.Settled, cancellationToken);
    }

    /// <summary>
    /// The idempotency key of an order's refund. Not the <c>refund-&lt;order&gt;</c> of earlier builds, whose requests had
    /// other bodies: a gateway refuses another body under a key it has seen, and a refund one build began may be retried
    /// on another during a rollout. If an earlier build refunded already, the gateway answers 409, which is done.
    /// </summary>
    public static string RefundIdempotencyKey(string orderId) => $"refund-v2-{orderId}";

    /// <summary>The idempotency key of an order's charge: the same on every retry, so the gateway charges at most once.</summary>
    public static string ChargeIdempotencyKey(string orderId) => $"charge-{orderId}";

    private async Task<string?> SendAsync(
        string path, string idempotencyKey, object body, bool unknownChargeIsDone, CancellationToken cancellationToken)
    {
        var settings = options.Value;
        using var request = new HttpRequestMessage(HttpMethod.Post, new Uri(settings.Endpoint!, path))
        {
            Content = JsonContent.Create(body),
        };
        request.Headers.Add("Idempotency-Key", idempotencyKey);
        if (!string.IsNullOrEmpty(settings.ApiKey))
        {
            request.Headers.Authorization = new System.Net.Http.Headers.AuthenticationHeaderValue("Bearer", settings.ApiKey);
        }
        using var response = await http.SendAsync(request, cancellationToken);
        if (unknownChargeIsDone && response.StatusCode == HttpStatusCode.NotFound)
        {
            return null;
        }
        if (path == "refunds" && response.StatusCode == HttpStatusCode.Conflict)
        {
            return null; // the charge is refunded already (under another key: an earlier build's attempt)
        }
        if (response.StatusCode == HttpStatusCode.PaymentRequired)
        {
            throw new PaymentDeclinedException($"Payment gateway declined {idempotencyKey}");
        }
        response.EnsureSuccessStatusCode();
        if (path != "charges")
        {
            return null; // the contract's 200 to a refund: its body, if any, says nothing the worker needs
        }
        var answer = await response.Content.ReadFromJsonAsync<GatewayAnswer>(cancellationToken);
        return answer?.Reference ?? throw new InvalidDataException("Payment gateway answered without a reference.");
    }

    private sealed record GatewayAnswer(string Reference);
}

using System.Net;
using System.Net.Http.Json;

namespace Worker.Orders;

/// <summary>Settings of the external payment gateway (section <c>Payments</c>).</summary>
public sealed class PaymentsOptions
{
    public const string Section = "Payments";

    /// <summary>Base address of the gateway; when unset, payments are recorded in the ledger only.</summary>
    public Uri? Endpoint { get; set; }

    /// <summary>Secret sent as a bearer token.</summary>
    public string? ApiKey { get; set; }
}

/// <summary>Raised when the gateway refuses a payment (HTTP 402): retrying cannot change it.</summary>
public sealed class PaymentDeclinedException(string message) : Exception(message);

/// <summary>
/// Client of an HTTP payment gateway. Every call carries an idempotency key derived from the order, so a
/// retried activity never charges twice. Transient failures are retried by the standard resilience handler
/// (see ServiceDefaults) and then by Temporal's activity retry.
/// </summary>
public sealed class PaymentGateway(HttpClient http, Microsoft.Extensions.Options.IOptions<PaymentsOptions> options)
{
    public bool IsConfigured => options.Value.Endpoint is not null;

    /// <summary>Charges the amount; returns the gateway's reference.</summary>
    public Task<string> ChargeAsync(string orderId, decimal amount, string paymentToken, CancellationToken cancellationToken) =>
        SendAsync("charges", $"charge-{orderId}", new { orderId, amount, paymentToken }, cancellationToken);

    /// <summary>Refunds the order's charge; returns the gateway's reference.</summary>
    public Task<string> RefundAsync(string orderId, string chargeReference, CancellationToken cancellationToken) =>
        SendAsync("refunds", $"refund-{orderId}", new { orderId, chargeReference }, cancellationToken);

    private async Task<string> SendAsync(string path, string idempotencyKey, object body, CancellationToken cancellationToken)
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
        if (response.StatusCode == HttpStatusCode.PaymentRequired)
        {
            throw new PaymentDeclinedException($"Payment gateway declined {idempotencyKey}");
        }
        response.EnsureSuccessStatusCode();
        var answer = await response.Content.ReadFromJsonAsync<GatewayAnswer>(cancellationToken);
        return answer?.Reference ?? throw new InvalidDataException("Payment gateway answered without a reference.");
    }

    private sealed record GatewayAnswer(string Reference);
}

using System.Net.Http.Json;

namespace Worker.Rollout.Tests;

/// <summary>An order a test places, and how it should end.</summary>
/// <param name="Id">Its id.</param>
/// <param name="Kind">What happens to it.</param>
public sealed record PlannedOrder(string Id, OrderKind Kind)
{
    /// <summary>A large order (three espresso machines) waits for approval; the others do not.</summary>
    public object Request => new
    {
        orderId = Id,
        lines = Kind is OrderKind.Approved or OrderKind.Rejected or OrderKind.CancelledAwaitingApproval or OrderKind.ChargedByThePreviousBuild
            ? new[] { new { sku = "ESPRESSO-MACHINE", quantity = 3 } }
            : [new { sku = "GRINDER", quantity = 1 }, new { sku = "TAMPER", quantity = 2 }],
        paymentToken = Kind switch
        {
            OrderKind.Declined => "tok_decline",
            OrderKind.ChargeRetried => "tok_flaky",
            OrderKind.ChargedByThePreviousBuild => "tok_previous_build_only",
            _ => "tok_visa",
        },
    };

    public string ExpectedStatus => Kind switch
    {
        OrderKind.Declined => "Failed",
        OrderKind.Rejected => "Rejected",
        OrderKind.CancelledAwaitingApproval => "Cancelled",
        _ => "Completed",
    };

    /// <summary>The signal the order gets once it awaits approval, if any (an order charged by the previous build is approved by the test).</summary>
    public string? Decision => Kind switch
    {
        OrderKind.Approved => "approve",
        OrderKind.Rejected => "reject",
        OrderKind.CancelledAwaitingApproval => "cancel",
        _ => null,
    };
}

/// <summary>The kinds of order a rollout must carry through.</summary>
public enum OrderKind
{
    Completed,
    Declined,
    ChargeRetried,
    Approved,
    Rejected,
    CancelledAwaitingApproval,

    /// <summary>
    /// Its charge is begun by this build (which records it as pending and fails at the gateway) and finished by a retry
    /// on the previous build, which must see no settled charge in the ledger and charge for real.
    /// </summary>
    ChargedByThePreviousBuild,
}

/// <summary>The orders API of one running build, as a client uses it.</summary>
public sealed class OrdersApi : IDisposable
{
    public const string Key = "rollout-key";

    private readonly HttpClient http;

    public OrdersApi(Uri baseAddress) =>
        http = new HttpClient { BaseAddress = baseAddress, Timeout = TimeSpan.FromSeconds(30), DefaultRequestHeaders = { { "X-Api-Key", Key } } };

    public async Task PlaceAsync(PlannedOrder order)
    {
        using var answer = await http.PostAsJsonAsync("/api/orders", order.Request);
        Assert.True(answer.StatusCode == HttpStatusCode.Accepted, $"POST {order.Id}: {answer.StatusCode} {await answer.Content.ReadAsStringAsync()}");
    }

    public async Task<string?> StatusAsync(string orderId)
    {
        using var answer = await http.GetAsync($"/api/orders/{orderId}");
        return answer.IsSuccessStatusCode ? (await answer.Content.ReadFromJsonAsync<JsonElement>()).GetProperty("status").GetString() : null;
    }

    /// <summary>Sends the order's decision; false while the order does not await approval yet (409).</summary>
    public async Task<bool> DecideAsync(string orderId, string decision)
    {
        using var answer = await http.PostAsync($"/api/orders/{orderId}/{decision}", null);
        Assert.True(answer.StatusCode is HttpStatusCode.Accepted or HttpStatusCode.Conflict, $"{decision} {orderId}: {answer.StatusCode}");
        return answer.StatusCode == HttpStatusCode.Accepted;
    }

    public void Dispose() => http.Dispose();
}

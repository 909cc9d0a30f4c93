using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Http;
using Temporalio.Testing;
using Worker.Orders.Payments;

namespace Worker.Tests.Activities;

/// <summary>
/// One refund, two builds. In an unversioned rolling update (or rollback) an activity's attempts run on
/// whichever build polls: the previous release (7d18e1e) and the builds that landed on 2026-11-27 (d5a0575) send the
/// refund <c>refund-&lt;order&gt;</c> with other bodies than this build does. A gateway with idempotency keys
/// (Stripe's rule, and the one commit 6dfbf2c names: "a gateway refuses a second body under one key") then refuses
/// every retry of this build, for ever (RefundPayment retries without limit), were this build's key the same: the
/// order would stay Compensating. This build refunds under its own key, and a gateway that already refunded the charge
/// answers it 409, which is done (docs/api.md, "The payment gateway").
/// </summary>
public sealed class RefundAcrossVersionsTests(OrdersDatabase db) : IClassFixture<OrdersDatabase>
{
    public static TheoryData<string, string> EarlierBodies => new()
    {
        // 7d18e1e (previous-release): PaymentGateway.RefundAsync
        { "7d18e1e", """{"orderId":"{id}","chargeReference":"{ref}"}""" },
        // d5a0575 (landed 2026-11-27): HttpPaymentGateway.RefundAsync of a settled charge
        { "d5a0575", """{"orderId":"{id}","chargeReference":"{ref}","chargeIdempotencyKey":"charge-{id}"}""" },
    };

    [Theory]
    [MemberData(nameof(EarlierBodies))]
    public async Task A_refund_an_earlier_build_began_is_not_refused_to_this_builds_retry(string build, string bodyTemplate)
    {
        await using var gateway = await StrictIdempotencyGateway.StartAsync();
        await using var harness = await ActivityHarness.CreateAsync(db, null, payments: new PaymentsOptions { Endpoint = gateway.Address });
        var env = new ActivityEnvironment();
        var order = await db.AddOrderAsync([new("TAMPER", 1)]);
        var receipt = await env.RunAsync(() => harness.Activities.ChargePaymentAsync(new(order, null, 10m)));
        await db.ExecuteAsync("UPDATE orders SET status = 'Compensating' WHERE id = @p0", order);

        // The earlier build's attempt of RefundPayment reached the gateway; its worker went away (a rolling update)
        // before the activity completed, and Temporal retries the activity on this build.
        using (var http = new HttpClient())
        using (var request = new HttpRequestMessage(HttpMethod.Post, new Uri(gateway.Address, "refunds")))
        {
            request.Headers.Add("Idempotency-Key", $"refund-{order}");
            request.Content = new StringContent(bodyTemplate.Replace("{id}", order).Replace("{ref}", receipt.Reference), System.Text.Encoding.UTF8, "application/json");
            Assert.Equal(HttpStatusCode.OK, (await http.SendAsync(request)).StatusCode);
        }

        var retry = await Record.ExceptionAsync(() => env.RunAsync(() => harness.Activities.RefundPaymentAsync(order)));

        Assert.True(retry is null, $"this build's retry of a refund {build} began: {retry?.Message} (retried for ever; the order stays Compensating)");
        Assert.Contains(HttpPaymentGateway.RefundIdempotencyKey(order), gateway.Keys);
    }

    /// <summary>A gateway that keeps the first request of each idempotency key: the same body again gets the same answer, another body 422.</summary>
    private sealed class StrictIdempotencyGateway : IAsyncDisposable
    {
        private readonly WebApplication app;
        private readonly Dictionary<string, string> firstBodies = new(StringComparer.Ordinal);

        private StrictIdempotencyGateway(WebApplication app) => this.app = app;

        public Uri Address => new(app.Urls.First() + "/");

        public string[] Keys
        {
            get
            {
                lock (firstBodies)
                {
                    return [.. firstBodies.Keys];
                }
            }
        }

        public static async Task<StrictIdempotencyGateway> StartAsync()
        {
            var builder = WebApplication.CreateSlimBuilder();
            builder.WebHost.UseUrls("http://127.0.0.1:0");
            var gateway = new StrictIdempotencyGateway(builder.Build());
            gateway.app.MapPost("/{kind}", async Task<IResult> (string kind, HttpContext http) =>
            {
                var body = Canonical(await JsonSerializer.DeserializeAsync<JsonElement>(http.Request.Body));
                var key = http.Request.Headers["Idempotency-Key"].ToString();
                lock (gateway.firstBodies)
                {
                    if (gateway.firstBodies.TryGetValue(key, out var first) && first != body)
                    {
                        return Results.Problem(statusCode: 422, detail: "Keys for idempotent requests can only be used with the same parameters they were first used with.");
                    }
                    gateway.firstBodies[key] = body;
                }
                return Results.Json(new { reference = $"gw-{key}" });
            });
            await gateway.app.StartAsync();
            return gateway;
        }

        private static string Canonical(JsonElement body) =>
            string.Join(",", body.EnumerateObject().OrderBy(p => p.Name, StringComparer.Ordinal).Select(p => $"{p.Name}={p.Value.GetRawText()}"));

        public async ValueTask DisposeAsync() => await app.DisposeAsync();
    }
}

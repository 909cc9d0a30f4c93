using System.Text;

namespace Worker.Tests.Api;

/// <summary>Approving is an approver's decision: the ordering key cannot approve or reject, an approver's key cannot order.</summary>
public sealed class ApprovalRoleTests(OrdersDatabase db) : IClassFixture<OrdersDatabase>
{
    private const string Customer = "customer-key";
    private const string Approver = "approver-key";

    [Theory]
    [InlineData("approve")]
    [InlineData("reject")]
    public async Task The_ordering_key_cannot_decide_an_order_awaiting_approval(string decision)
    {
        using var factory = Factory(approvers: Approver);
        var order = await db.AddOrderAsync([new("TAMPER", 1)], Orders.OrderStatus.AwaitingApproval);

        var response = await Client(factory, Customer).PostAsync($"/api/orders/{order}/{decision}", null);

        var problem = await OrderApiValidationTests.AssertProblemAsync(response, HttpStatusCode.Forbidden);
        Assert.Contains("Api:ApproverKeys", problem.GetProperty("detail").GetString(), StringComparison.Ordinal);
        Assert.Equal("AwaitingApproval", await db.ScalarAsync<string>("SELECT status FROM orders WHERE id = @p0", order));
    }

    [Fact]
    public async Task An_approvers_key_passes_to_the_decision_and_reads_but_cannot_order_or_cancel()
    {
        using var factory = Factory(approvers: Approver);
        var order = await db.AddOrderAsync([new("TAMPER", 1)], Orders.OrderStatus.Reserved);
        var approver = Client(factory, Approver);

        // Authorized: the answer is the order's (it does not await approval), not the key's.
        await OrderApiValidationTests.AssertProblemAsync(await approver.PostAsync($"/api/orders/{order}/approve", null), HttpStatusCode.Conflict);
        Assert.Equal(HttpStatusCode.OK, (await approver.GetAsync($"/api/orders/{order}")).StatusCode);
        var count = await db.ScalarAsync<long>("SELECT count(*) FROM orders");
        await OrderApiValidationTests.AssertProblemAsync(await approver.PostAsync("/api/orders", new StringContent(
            """{"orderId":"by-approver","lines":[{"sku":"TAMPER","quantity":1}],"paymentToken":"tok_visa"}""", Encoding.UTF8, "application/json")),
            HttpStatusCode.Forbidden);
        await OrderApiValidationTests.AssertProblemAsync(await approver.PostAsync($"/api/orders/{order}/cancel", null), HttpStatusCode.Forbidden);
        Assert.Equal(count, await db.ScalarAsync<long>("SELECT count(*) FROM orders"));
    }

    [Fact]
    public async Task Without_approver_keys_nobody_can_approve_and_the_answer_says_why()
    {
        using var factory = Factory(approvers: null);
        var order = await db.AddOrderAsync([new("TAMPER", 1)], Orders.OrderStatus.AwaitingApproval);

        var response = await Client(factory, Customer).PostAsync($"/api/orders/{order}/approve", null);

        var problem = await OrderApiValidationTests.AssertProblemAsync(response, HttpStatusCode.Forbidden);
        Assert.Contains("none is configured", problem.GetProperty("detail").GetString(), StringComparison.Ordinal);
    }

    private WorkerFactory Factory(string? approvers)
    {
        var settings = WorkerFactory.DefaultSettings(db.ConnectionString, null);
        settings["Api:Keys"] = Customer;
        settings["Api:ApproverKeys"] = approvers;
        return new WorkerFactory(settings);
    }

    private static HttpClient Client(WorkerFactory factory, string key)
    {
        var client = factory.CreateClient();
        client.DefaultRequestHeaders.Add("X-Api-Key", key);
        return client;
    }
}

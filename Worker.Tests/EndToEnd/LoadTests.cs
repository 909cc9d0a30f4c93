using Temporalio.Api.Enums.V1;
using Worker.Orders.Payments;

namespace Worker.Tests.EndToEnd;

public sealed class LoadTests(EndToEndEnvironment env) : IClassFixture<EndToEndEnvironment>
{
    [Fact]
    public async Task Two_hundred_concurrent_orders_each_end_exactly_once_and_stock_balances()
    {
        const int orders = 200;
        var beansBefore = await env.Database.StockAsync("BEANS-1KG");
        var tamperBefore = await env.Database.StockAsync("TAMPER");
        var requests = Enumerable.Range(0, orders).Select(i => new
        {
            Id = $"load-{i}-{Guid.NewGuid():N}"[..30],
            Beans = 1 + (i % 3),
            Token = i % 10 == 0 ? LedgerPaymentGateway.DeclinedPaymentToken : "tok_visa",
        }).ToList();

        // All at once, each as docs/api.md asks of a client: a refusal (the API starts 16 at a time) is repeated,
        // the same request with the same id, after its Retry-After.
        var posts = await Task.WhenAll(requests.Select(r =>
            PlaceAsClientAsync(() => env.PlaceOrderAsync(r.Id, r.Token, new OrderLine("BEANS-1KG", r.Beans), new OrderLine("TAMPER", 1)))));
        Assert.All(posts, p => Assert.Equal(HttpStatusCode.Accepted, p.StatusCode));
        var results = await Task.WhenAll(requests.Select(r =>
            env.Temporal.GetWorkflowHandle(OrderEndpoints.WorkflowId(r.Id)).GetResultAsync<OrderResult>().WaitAsync(TimeSpan.FromMinutes(2))));

        var completed = requests.Where((_, i) => results[i].Status == OrderStatus.Completed).ToList();
        Assert.Equal(orders - orders / 10, completed.Count);
        Assert.All(results.Where(r => r.Status != OrderStatus.Completed), r => Assert.Equal(OrderStatus.Failed, r.Status));
        Assert.Equal(beansBefore - completed.Sum(r => r.Beans), await env.Database.StockAsync("BEANS-1KG"));
        Assert.Equal(tamperBefore - completed.Count, await env.Database.StockAsync("TAMPER"));
        var ids = requests.Select(r => r.Id).ToArray();
        Assert.Equal((long)completed.Count, await env.Database.ScalarAsync<long>(
            "SELECT count(*) FROM payments WHERE order_id = ANY(@p0) AND kind = 'charge'", (object)ids));
        Assert.Equal((long)orders, await env.Database.ScalarAsync<long>(
            "SELECT count(*) FROM orders WHERE id = ANY(@p0) AND status IN ('Completed', 'Failed')", (object)ids));
        foreach (var id in ids.Take(20))
        {
            var history = await env.Temporal.GetWorkflowHandle(OrderEndpoints.WorkflowId(id)).FetchHistoryAsync();
            Assert.Single(history.Events, e => e.EventType is EventType.WorkflowExecutionCompleted or EventType.WorkflowExecutionFailed);
        }
    }

    private static async Task<HttpResponseMessage> PlaceAsClientAsync(Func<Task<HttpResponseMessage>> post)
    {
        for (var attempt = 1; ; attempt++)
        {
            var response = await post();
            if (response.StatusCode is not (HttpStatusCode.ServiceUnavailable or HttpStatusCode.TooManyRequests) || attempt == 30)
            {
                return response;
            }
            await Task.Delay(response.Headers.RetryAfter?.Delta ?? throw new InvalidOperationException("A refusal without Retry-After"));
        }
    }
}

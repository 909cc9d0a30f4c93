namespace Worker.Tests.EndToEnd;

/// <summary>
/// A burst of orders past what the API may start at once, on a PostgreSQL with fewer connections than the worker's
/// pool asks for: every answer is 202 or a refusal with Retry-After (429/503), never a 500; every accepted order ends;
/// a refused one left nothing.
/// </summary>
public sealed class OverloadTests(OverloadEnvironment env) : IClassFixture<OverloadEnvironment>
{
    [Fact]
    public async Task A_burst_past_the_bounds_is_accepted_or_refused_with_retry_after_and_every_accepted_order_ends()
    {
        var run = Guid.NewGuid().ToString("N")[..8];
        var answers = await Task.WhenAll(Enumerable.Range(0, 300).Select(async n =>
        {
            var id = $"burst-{run}-{n}";
            using var response = await env.PlaceOrderAsync(id, "tok_visa", new OrderLine("BEANS-1KG", 1));
            return (Id: id, response.StatusCode, RetryAfter: response.Headers.RetryAfter?.Delta);
        }));

        Assert.All(answers, a => Assert.Contains(a.StatusCode, new[] { HttpStatusCode.Accepted, HttpStatusCode.TooManyRequests, HttpStatusCode.ServiceUnavailable }));
        var refused = answers.Where(a => a.StatusCode != HttpStatusCode.Accepted).ToList();
        Assert.NotEmpty(refused); // the bound was reached: otherwise this test proves nothing
        Assert.All(refused, a => Assert.True(a.RetryAfter > TimeSpan.Zero, $"{a.Id}: {a.StatusCode} without Retry-After"));
        foreach (var order in answers.Where(a => a.StatusCode == HttpStatusCode.Accepted))
        {
            await env.WaitForStatusAsync(order.Id, OrderStatus.Completed, TimeSpan.FromMinutes(2));
        }
        var refusedIds = refused.Select(a => a.Id).ToArray();
        Assert.Equal(0L, await env.Database.ScalarAsync<long>("SELECT count(*) FROM orders WHERE id = ANY(@p0)", (object)refusedIds));
    }
}

/// <summary>A worker whose pool (40) and order starts (8 at once) exceed what its PostgreSQL (24 connections) and API allow.</summary>
public sealed class OverloadEnvironment : EndToEndEnvironment
{
    private PrivatePostgres server = null!;

    public override async Task InitializeAsync()
    {
        server = await PrivatePostgres.StartAsync(maxConnections: 24);
        PostgresServerConnection = server.ConnectionString;
        await base.InitializeAsync();
    }

    public override async Task DisposeAsync()
    {
        await base.DisposeAsync();
        await server.DisposeAsync();
    }

    protected override Task ConfigureAsync(Dictionary<string, string?> settings)
    {
        settings["Database:MaxPoolSize"] = "40";
        settings["Api:MaxConcurrentOrderStarts"] = "8";
        return Task.CompletedTask;
    }
}

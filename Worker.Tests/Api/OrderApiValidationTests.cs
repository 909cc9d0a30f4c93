using System.Text;

namespace Worker.Tests.Api;

/// <summary>Every bad input gets its status code and an RFC 7807 problem document, and writes nothing.</summary>
public sealed class OrderApiValidationTests : IClassFixture<OrdersDatabase>, IDisposable
{
    private readonly OrdersDatabase db;
    private readonly WorkerFactory factory;
    private readonly HttpClient client;

    public OrderApiValidationTests(OrdersDatabase db)
    {
        this.db = db;
        factory = new WorkerFactory(WorkerFactory.DefaultSettings(db.ConnectionString, null));
        client = factory.CreateAuthorizedClient();
    }

    public void Dispose()
    {
        client.Dispose();
        factory.Dispose();
    }

    public static TheoryData<string, string> InvalidBodies => new()
    {
        { """{"lines":[{"sku":"TAMPER","quantity":1}],"paymentToken":"tok_visa"}""", "orderId" },
        { """{"orderId":"a","paymentToken":"tok_visa"}""", "lines" },
        { """{"orderId":"a","lines":[],"paymentToken":"tok_visa"}""", "lines" },
        { """{"orderId":"a","lines":[{"sku":"TAMPER","quantity":1}]}""", "paymentToken" },
        { """{"orderId":"a","lines":[{"quantity":1}],"paymentToken":"tok_visa"}""", "lines[0].sku" },
        { """{"orderId":"a","lines":[{"sku":"TAMPER"}],"paymentToken":"tok_visa"}""", "lines[0].quantity" },
        { """{"orderId":"a","lines":[{"sku":"TAMPER","quantity":0}],"paymentToken":"tok_visa"}""", "lines[0].quantity" },
        { """{"orderId":"a","lines":[{"sku":"TAMPER","quantity":-3}],"paymentToken":"tok_visa"}""", "lines[0].quantity" },
        { """{"orderId":"a","lines":[{"sku":"TAMPER","quantity":1001}],"paymentToken":"tok_visa"}""", "lines[0].quantity" },
        { """{"orderId":"has space","lines":[{"sku":"TAMPER","quantity":1}],"paymentToken":"tok_visa"}""", "orderId" },
        { """{"orderId":"a","lines":[{"sku":"NO-SUCH-SKU","quantity":1}],"paymentToken":"tok_visa"}""", "lines" },
    };

    [Theory]
    [MemberData(nameof(InvalidBodies))]
    public async Task Invalid_order_is_a_400_validation_problem_naming_the_field(string body, string field)
    {
        var response = await PostAsync(body);

        var problem = await AssertProblemAsync(response, HttpStatusCode.BadRequest);
        Assert.True(problem.GetProperty("errors").TryGetProperty(field, out _), $"errors should name {field}: {problem}");
    }

    [Fact]
    public async Task More_than_100_lines_is_a_400()
    {
        var lines = string.Join(',', Enumerable.Range(0, 101).Select(_ => """{"sku":"TAMPER","quantity":1}"""));

        var response = await PostAsync($$"""{"orderId":"many","lines":[{{lines}}],"paymentToken":"tok_visa"}""");

        var problem = await AssertProblemAsync(response, HttpStatusCode.BadRequest);
        Assert.Contains("100", problem.GetProperty("errors").GetProperty("lines")[0].GetString());
    }

    [Fact]
    public async Task Body_over_64_KiB_is_a_413()
    {
        var response = await PostAsync($$"""{"orderId":"big","paymentToken":"{{new string('x', 70_000)}}"}""");

        await AssertProblemAsync(response, HttpStatusCode.RequestEntityTooLarge);
    }

    [Fact]
    public async Task Chunked_body_over_64_KiB_without_length_is_a_413()
    {
        var bytes = Encoding.UTF8.GetBytes($$"""{"orderId":"big2","paymentToken":"{{new string('x', 70_000)}}"}""");
        using var content = new StreamContent(new MemoryStream(bytes));
        content.Headers.ContentType = new("application/json");
        using var request = new HttpRequestMessage(HttpMethod.Post, "/api/orders") { Content = content };
        request.Headers.TransferEncodingChunked = true;

        var response = await WritingNothingAsync(() => client.SendAsync(request));

        await AssertProblemAsync(response, HttpStatusCode.RequestEntityTooLarge);
    }

    [Fact]
    public async Task Wrong_content_type_is_a_415()
    {
        using var content = new StringContent("orderId=a", Encoding.UTF8, "text/plain");

        var response = await WritingNothingAsync(() => client.PostAsync("/api/orders", content));

        await AssertProblemAsync(response, HttpStatusCode.UnsupportedMediaType);
    }

    [Theory]
    [InlineData("{not json")]
    [InlineData("""{"orderId":"a","lines":"nope","paymentToken":"t"}""")]
    [InlineData("null")]
    [InlineData("""{"orderId":"a","lines":[{"sku":"TAMPER","quantity":"two"}],"paymentToken":"t"}""")]
    public async Task Malformed_json_is_a_400_that_names_no_internal_type(string body)
    {
        var response = await PostAsync(body);

        var problem = await AssertProblemAsync(response, HttpStatusCode.BadRequest);
        Assert.Equal("Malformed JSON", problem.GetProperty("title").GetString());
        var text = problem.GetRawText();
        Assert.DoesNotContain("Worker.", text, StringComparison.Ordinal);
        Assert.DoesNotContain("OrderRequest", text, StringComparison.Ordinal);
        Assert.DoesNotContain("System.", text, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Unknown_order_is_a_404_problem()
    {
        var response = await client.GetAsync("/api/orders/does-not-exist");

        await AssertProblemAsync(response, HttpStatusCode.NotFound);
    }

    [Theory]
    [InlineData("approve")]
    [InlineData("reject")]
    [InlineData("cancel")]
    public async Task Signal_to_an_unknown_order_is_a_404(string action)
    {
        var response = await client.PostAsync($"/api/orders/nope/{action}", null);

        await AssertProblemAsync(response, HttpStatusCode.NotFound);
    }

    [Theory]
    [InlineData("approve", Orders.OrderStatus.Reserved)]
    [InlineData("reject", Orders.OrderStatus.Completed)]
    [InlineData("cancel", Orders.OrderStatus.Completed)]
    [InlineData("cancel", Orders.OrderStatus.Cancelled)]
    public async Task Signal_in_a_state_that_does_not_accept_it_is_a_409(string action, Orders.OrderStatus status)
    {
        var order = await db.AddOrderAsync([new("TAMPER", 1)], status);

        var response = await client.PostAsync($"/api/orders/{order}/{action}", null);

        await AssertProblemAsync(response, HttpStatusCode.Conflict);
        Assert.Equal(status.ToString(), await db.ScalarAsync<string>("SELECT status FROM orders WHERE id = @p0", order));
    }

    private Task<HttpResponseMessage> PostAsync(string json) =>
        WritingNothingAsync(() => client.PostAsync("/api/orders", new StringContent(json, Encoding.UTF8, "application/json")));

    /// <summary>Sends a bad request and checks that no table a POST writes has gained or lost a row, whatever its id.</summary>
    private async Task<HttpResponseMessage> WritingNothingAsync(Func<Task<HttpResponseMessage>> send)
    {
        var before = await RowCountsAsync();
        var response = await send();
        Assert.Equal(before, await RowCountsAsync());
        return response;
    }

    private async Task<string> RowCountsAsync()
    {
        string[] tables = ["orders", "payment_tokens", "payments", "pending_charges", "reservations", "shipments"];
        var counts = new List<string>();
        foreach (var table in tables)
        {
            counts.Add($"{table}={await db.ScalarAsync<long>($"SELECT count(*) FROM {table}")}");
        }
        return string.Join(", ", counts);
    }

    internal static async Task<JsonElement> AssertProblemAsync(HttpResponseMessage response, HttpStatusCode expected)
    {
        Assert.Equal(expected, response.StatusCode);
        Assert.Equal("application/problem+json", response.Content.Headers.ContentType?.MediaType);
        var problem = await response.Content.ReadFromJsonAsync<JsonElement>();
        Assert.Equal((int)expected, problem.GetProperty("status").GetInt32());
        Assert.False(string.IsNullOrEmpty(problem.GetProperty("title").GetString()));
        return problem;
    }
}

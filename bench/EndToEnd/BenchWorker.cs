using System.Net.Http.Json;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Mvc.Testing;
using Microsoft.Extensions.Logging;
using Temporalio.Client;
using TestSupport;
using Worker.Orders.Api;

namespace Bench;

/// <summary>
/// The worker host the end-to-end measurements run in this process, on a database and a Temporal test server of their
/// own, with the settings they all share; each adds its own through <c>configure</c>.
/// </summary>
internal static class BenchWorker
{
    public const string ApiKey = "bench";

    /// <summary>Where every bench worker of this run logs (its path printed once).</summary>
    public static LogFile Log { get; } = LogFile.Create("e2e");

    public static WebApplicationFactory<Program> Create(string database, string temporalAddress, bool redis, Action<IWebHostBuilder> configure) =>
        new WebApplicationFactory<Program>().WithWebHostBuilder(web =>
        {
            // To the run's file, not the terminal the table is printed on.
            web.ConfigureLogging(logging =>
            {
                logging.ClearProviders();
                logging.AddProvider(Log);
            });
            web.UseEnvironment("Production");
            web.UseSetting("ConnectionStrings:appdb", database);
            if (redis)
            {
                web.UseSetting("ConnectionStrings:redis", TestSettings.RedisConnection);
            }
            web.UseSetting("Temporal:Address", temporalAddress);
            web.UseSetting("Api:Keys", ApiKey);
            web.UseSetting("Api:ApproverKeys", ApiKey);
            web.UseSetting("Orders:ShippingStageDuration", "00:00:00");
            // The saga's cost is measured, not the API's load shedding (16 starts at once by default, which 64
            // concurrent clients exceed): bench/load.sh measures that.
            web.UseSetting("Api:MaxConcurrentOrderStarts", "64");
            web.UseSetting("Logging:LogLevel:Default", "Warning");
            configure(web);
        });

    /// <summary>The worker's API with the bench's key, once the worker reports healthy.</summary>
    public static async Task<HttpClient> HealthyApiAsync(WebApplicationFactory<Program> worker)
    {
        var api = worker.CreateClient();
        api.DefaultRequestHeaders.Add("X-Api-Key", ApiKey);
        while (!(await api.GetAsync("/health")).IsSuccessStatusCode)
        {
            await Task.Delay(100);
        }
        return api;
    }

    /// <summary>Places one order of one line and waits until its workflow has completed.</summary>
    public static async Task PlaceOrderAsync(HttpClient api, ITemporalClient client, string orderId)
    {
        var response = await api.PostAsJsonAsync("/api/orders",
            new { orderId, lines = new[] { new { sku = "BEANS-1KG", quantity = 1 } }, paymentToken = "tok_visa" });
        if (!response.IsSuccessStatusCode)
        {
            throw new InvalidOperationException($"{orderId}: {(int)response.StatusCode} {await response.Content.ReadAsStringAsync()}");
        }
        await client.GetWorkflowHandle(OrderEndpoints.WorkflowId(orderId)).GetResultAsync();
    }
}

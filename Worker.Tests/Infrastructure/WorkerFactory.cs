using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Mvc.Testing;
using Microsoft.AspNetCore.TestHost;
using Microsoft.Extensions.DependencyInjection;

namespace Worker.Tests.Infrastructure;

/// <summary>
/// The real worker host in-process (WebApplicationFactory) with real PostgreSQL and, optionally, Redis.
/// Temporal points at a closed loopback port: this project's end-to-end tests against a Temporal server
/// live elsewhere; here the API's validation, authentication and health reporting are under test.
/// </summary>
/// <param name="settings">Configuration of the host.</param>
/// <param name="configureServices">Services a test adds or replaces after the application's own (exporters, log capture, worker options).</param>
public sealed class WorkerFactory(IReadOnlyDictionary<string, string?> settings, Action<IServiceCollection>? configureServices = null)
    : WebApplicationFactory<Program>
{
    public const string ApiKey = "test-api-key";

    /// <summary>An approver's key; <see cref="ApiKey"/> is an approver's key too, so that one client drives a whole saga.</summary>
    public const string ApproverKey = "test-approver-key";
    public const string UnreachableTemporal = "127.0.0.1:1";

    /// <summary>A Redis endpoint where nothing listens: "Redis configured but down".</summary>
    public const string UnreachableRedis = "127.0.0.1:1,abortConnect=false,connectTimeout=500";

    public static Dictionary<string, string?> DefaultSettings(string databaseConnection, string? redisConnection) => new()
    {
        ["ConnectionStrings:appdb"] = databaseConnection,
        ["ConnectionStrings:redis"] = redisConnection,
        ["Temporal:Address"] = UnreachableTemporal,
        ["Api:Keys"] = ApiKey,
        ["Api:ApproverKeys"] = $"{ApproverKey},{ApiKey}",
    };

    /// <summary>The environment of a worker process that can start: real database, unreachable Temporal (see <see cref="WorkerProcess"/>).</summary>
    public static Dictionary<string, string?> ProcessEnvironment(string databaseConnection) => new()
    {
        ["ConnectionStrings__appdb"] = databaseConnection,
        ["Temporal__Address"] = UnreachableTemporal,
        ["Api__Keys"] = ApiKey,
    };

    protected override void ConfigureWebHost(IWebHostBuilder builder)
    {
        ArgumentNullException.ThrowIfNull(builder);
        foreach (var (key, value) in settings)
        {
            if (value is not null)
            {
                builder.UseSetting(key, value);
            }
        }
        if (configureServices is not null)
        {
            builder.ConfigureTestServices(configureServices);
        }
    }

    /// <summary>A client that sends the API key.</summary>
    public HttpClient CreateAuthorizedClient()
    {
        var client = CreateClient();
        client.DefaultRequestHeaders.Add("X-Api-Key", ApiKey);
        return client;
    }
}

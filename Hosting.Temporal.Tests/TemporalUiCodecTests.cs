using Aspire.Hosting;
using Aspire.Hosting.ApplicationModel;
using Microsoft.Extensions.Logging.Abstractions;

namespace Hosting.Temporal.Tests;

/// <summary>The Web UI shows decoded payloads through a codec server only when one is given.</summary>
public sealed class TemporalUiCodecTests
{
    [Fact]
    public async Task The_web_ui_calls_the_codec_server_with_the_browsers_credentials_when_one_is_given()
    {
        var builder = DistributedApplication.CreateBuilder();
        var endpoint = builder.AddParameter("codec-endpoint", "http://localhost:8080/codec", publishValueAsDefault: true);
        builder.AddTemporalServer("tmp", builder.AddPostgres("pg")).WithTemporalUi().WithUiCodecServer(endpoint.Resource);

        var env = await UiEnvironmentAsync(builder);

        Assert.Equal("{codec-endpoint.value}", env["TEMPORAL_CODEC_ENDPOINT"]);
        Assert.Equal("true", env["TEMPORAL_CODEC_INCLUDE_CREDENTIALS"]);
    }

    [Fact]
    public async Task Without_a_codec_server_the_web_ui_has_no_codec_settings()
    {
        var builder = DistributedApplication.CreateBuilder();
        builder.AddTemporalServer("tmp", builder.AddPostgres("pg")).WithTemporalUi();

        var env = await UiEnvironmentAsync(builder);

        Assert.DoesNotContain(env.Keys, k => k.StartsWith("TEMPORAL_CODEC_", StringComparison.Ordinal));
    }

    private static async Task<Dictionary<string, string>> UiEnvironmentAsync(IDistributedApplicationBuilder builder)
    {
        var ui = builder.Resources.Single(r => r.Name == "tmp-ui");
        var configuration = await ExecutionConfigurationBuilder.Create(ui).WithEnvironmentVariablesConfig()
            .BuildAsync(new DistributedApplicationExecutionContext(DistributedApplicationOperation.Publish), NullLogger.Instance, CancellationToken.None);
        return configuration.EnvironmentVariables.ToDictionary(e => e.Key, e => e.Value);
    }
}

using Microsoft.Extensions.Logging.Abstractions;

namespace Hosting.Temporal.Tests;

/// <summary>The integration on a model of its own, without any AppHost: what it adds and how it is wired.</summary>
public sealed class TemporalModelTests
{
    [Fact]
    public void A_server_brings_its_schema_job_and_each_namespace_its_creation_job_as_children()
    {
        var builder = DistributedApplication.CreateBuilder();
        var server = builder.AddTemporalServer("tmp", builder.AddPostgres("pg"));

        var orders = server.AddNamespace("orders-ns", "orders", TimeSpan.FromDays(2));
        var billing = server.AddNamespace("billing");

        var names = builder.Resources.Select(r => r.Name).ToHashSet();
        Assert.Superset(new HashSet<string> { "tmp", "tmp-schema", "orders-ns", "orders-ns-namespace", "billing", "billing-namespace" }, names);
        Assert.Equal([orders.Resource, billing.Resource], server.Resource.GetNamespaces());
        Assert.Equal(("billing", TimeSpan.FromDays(3)), (billing.Resource.NamespaceName, billing.Resource.Retention));
        var job = builder.Resources.Single(r => r.Name == "orders-ns-namespace");
        Assert.Contains(job.Annotations.OfType<ResourceRelationshipAnnotation>(), r => r.Resource == orders.Resource && r.Type == "Parent");
        Assert.Contains(job.Annotations.OfType<WaitAnnotation>(), w => w.Resource == server.Resource && w.WaitType == WaitType.WaitUntilHealthy);
    }

    [Fact]
    public void A_retention_under_one_day_is_refused_as_temporal_would()
    {
        var builder = DistributedApplication.CreateBuilder();
        var server = builder.AddTemporalServer("tmp", builder.AddPostgres("pg"));

        var error = Assert.Throws<ArgumentOutOfRangeException>(() => server.AddNamespace("ns", retention: TimeSpan.FromHours(12)));

        Assert.Contains("at least one day", error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Every_container_that_calls_the_server_starts_with_its_tls_switch_and_the_cli_jobs_with_their_credentials()
    {
        var builder = DistributedApplication.CreateBuilder();
        var server = builder.AddTemporalServer("tmp", builder.AddPostgres("pg")).WithTemporalUi();
        var ns = server.AddNamespace("shop");
        ns.AddSetCurrentVersion("switch", builder.AddParameter("deployment", "d"), builder.AddParameter("build", "b"));

        foreach (var (name, cli) in new[] { ("shop-namespace", true), ("switch", true), ("tmp-ui", false) })
        {
            var container = builder.Resources.Single(r => r.Name == name);
            var configuration = await ExecutionConfigurationBuilder.Create(container).WithEnvironmentVariablesConfig().WithArgumentsConfig()
                .BuildAsync(new DistributedApplicationExecutionContext(DistributedApplicationOperation.Publish), NullLogger.Instance, CancellationToken.None);
            var script = configuration.Arguments.Select(a => a.Value).Last();

            Assert.Equal("{tmp-tls.value}", configuration.EnvironmentVariables.Single(e => e.Key == "TEMPORAL_SERVER_TLS").Value);
            // The CLI's TLS variables and the administrator's token, before any call; the UI's own TLS variables.
            Assert.Equal(cli, script.StartsWith("if [ \"${TEMPORAL_SERVER_TLS:-false}\" = true ]", StringComparison.Ordinal)
                && script.Contains("TEMPORAL_TLS_CLIENT_CERT_PATH=", StringComparison.Ordinal) && script.Contains("TEMPORAL_API_KEY=", StringComparison.Ordinal));
            Assert.Equal(!cli, script.Contains("TEMPORAL_TLS_CERT=", StringComparison.Ordinal));
        }
    }

    [Fact]
    public async Task The_web_ui_opens_on_the_first_namespace_even_when_added_before_it()
    {
        var builder = DistributedApplication.CreateBuilder();
        var server = builder.AddTemporalServer("tmp", builder.AddPostgres("pg")).WithTemporalUi();
        server.AddNamespace("shop");
        var ui = builder.Resources.Single(r => r.Name == "tmp-ui");

        var configuration = await ExecutionConfigurationBuilder.Create(ui).WithEnvironmentVariablesConfig()
            .BuildAsync(new DistributedApplicationExecutionContext(DistributedApplicationOperation.Publish), NullLogger.Instance, CancellationToken.None);

        var env = configuration.EnvironmentVariables.ToDictionary(e => e.Key, e => e.Value);
        Assert.Equal("shop", env["TEMPORAL_DEFAULT_NAMESPACE"]);
        Assert.Equal("{tmp.bindings.grpc.host}:{tmp.bindings.grpc.port}", env["TEMPORAL_ADDRESS"]);
    }
}

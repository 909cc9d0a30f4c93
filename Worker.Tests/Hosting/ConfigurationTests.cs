using Microsoft.Extensions.Configuration;
using Worker.Orders.Api;
using Worker.Temporal;

namespace Worker.Tests.Hosting;

public sealed class ConfigurationTests
{
    [Theory]
    [InlineData(null, true, true)]
    [InlineData("api,worker", true, true)]
    [InlineData("API", true, false)]
    [InlineData(" worker ", false, true)]
    public void Roles_are_read_from_configuration(string? value, bool api, bool worker)
    {
        var roles = WorkerRoles.From(Config(("Worker:Roles", value)));

        Assert.Equal(new WorkerRoles(api, worker), roles);
    }

    [Theory]
    [InlineData("")]
    [InlineData("apis")]
    [InlineData("api,cron")]
    public void Unknown_or_empty_roles_are_refused(string value)
    {
        var error = Assert.Throws<InvalidOperationException>(() => WorkerRoles.From(Config(("Worker:Roles", value))));

        Assert.Contains("Worker:Roles", error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Api_keys_accept_a_list_or_a_comma_separated_value_and_match_exactly()
    {
        var fromList = ApiKeys.From(Config(("Api:Keys:0", "alpha"), ("Api:Keys:1", "beta")));
        var fromValue = ApiKeys.From(Config(("Api:Keys", "alpha, beta")));

        foreach (var keys in new[] { fromList, fromValue })
        {
            Assert.True(keys.IsValid("alpha"));
            Assert.True(keys.IsValid("beta"));
            Assert.False(keys.IsValid("alph"));
            Assert.False(keys.IsValid("alphaa"));
            Assert.False(keys.IsValid(""));
            Assert.False(keys.IsValid(null));
        }
    }

    [Fact]
    public void No_api_keys_is_refused_naming_the_key()
    {
        var error = Assert.Throws<InvalidOperationException>(() => ApiKeys.From(Config()));

        Assert.Contains("Api:Keys", error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Temporal_cloud_api_key_turns_tls_on_unless_told_otherwise()
    {
        Assert.False(new TemporalSettings { Address = "localhost:7233" }.UseTls);
        Assert.True(new TemporalSettings { Address = "ns.acct.tmprl.cloud:7233", ApiKey = "secret" }.UseTls);
        Assert.False(new TemporalSettings { Address = "proxy:7233", ApiKey = "secret", Tls = false }.UseTls);
        Assert.True(new TemporalSettings { Address = "x:7233", TlsClientCertPath = "c.pem", TlsClientKeyPath = "k.pem" }.UseTls);
    }

    [Fact]
    public void Temporal_settings_validation_names_each_bad_key()
    {
        var errors = new TemporalSettings { Address = " ", TaskQueue = "", TlsClientCertPath = "c.pem" }.Validate().ToList();

        Assert.Contains(errors, e => e.StartsWith("Temporal:Address", StringComparison.Ordinal));
        Assert.Contains(errors, e => e.StartsWith("Temporal:TaskQueue", StringComparison.Ordinal));
        Assert.Contains(errors, e => e.StartsWith("Temporal:TlsClientCertPath", StringComparison.Ordinal));
        Assert.Empty(new TemporalSettings { Address = "localhost:7233" }.Validate());
    }

    [Fact]
    public void Connect_options_carry_namespace_api_key_and_tls()
    {
        var runtime = new Temporalio.Runtime.TemporalRuntime(new());
        var options = TemporalHostingExtensions.CreateConnectOptions(
            new TemporalSettings { Address = "ns.acct.tmprl.cloud:7233", Namespace = "ns.acct", ApiKey = "secret", TlsServerName = "ns.acct.tmprl.cloud" },
            runtime, Microsoft.Extensions.Logging.Abstractions.NullLoggerFactory.Instance);

        Assert.Equal("ns.acct.tmprl.cloud:7233", options.TargetHost);
        Assert.Equal("ns.acct", options.Namespace);
        Assert.Equal("secret", options.ApiKey);
        Assert.Equal("ns.acct.tmprl.cloud", options.Tls!.Domain);
        Assert.Same(runtime, options.Runtime);
    }

    [Theory]
    [InlineData(null, null, "http://127.0.0.1:8080/health")]
    [InlineData("/alive", "9000", "http://127.0.0.1:9000/alive")]
    [InlineData("alive", "9000;9001", "http://127.0.0.1:9000/alive")]
    [InlineData("http://10.0.0.1:5000/health", "9000", "http://10.0.0.1:5000/health")]
    public void Health_check_entry_resolves_its_target(string? argument, string? ports, string expected)
    {
        Assert.Equal(new Uri(expected), HealthCheckCommand.ResolveTarget(argument, ports));
    }

    private static IConfiguration Config(params (string Key, string? Value)[] values) =>
        new ConfigurationBuilder().AddInMemoryCollection(values.Select(v => new KeyValuePair<string, string?>(v.Key, v.Value))).Build();
}

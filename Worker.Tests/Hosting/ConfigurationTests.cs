using Microsoft.AspNetCore.Builder;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
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
    public void A_key_has_the_roles_of_the_lists_it_is_in()
    {
        var keys = ApiKeys.From(Config(("Api:Keys", "customer, both"), ("Api:ApproverKeys", "approver, both")));

        Assert.Equal(ApiRoles.Ordering, keys.RolesOf("customer"));
        Assert.Equal(ApiRoles.Approving, keys.RolesOf("approver"));
        Assert.Equal(ApiRoles.Ordering | ApiRoles.Approving, keys.RolesOf("both"));
        Assert.Equal(ApiRoles.None, keys.RolesOf("approve"));
        Assert.True(keys.HasApprovers);
        Assert.False(ApiKeys.From(Config(("Api:Keys", "customer"))).HasApprovers);
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
    [InlineData(null, typeof(Temporalio.Client.GrpcCompression.None))]
    [InlineData("None", typeof(Temporalio.Client.GrpcCompression.None))]
    [InlineData("gzip", typeof(Temporalio.Client.GrpcCompression.Gzip))]
    public void Connect_options_compress_calls_only_when_Temporal_GrpcCompression_says_Gzip(string? setting, Type expected)
    {
        var configuration = new ConfigurationBuilder()
            .AddInMemoryCollection(new Dictionary<string, string?> { ["Temporal:Address"] = "temporal:7233", ["Temporal:GrpcCompression"] = setting })
            .Build();
        var settings = configuration.GetSection(TemporalSettings.Section).Get<TemporalSettings>()!;

        var options = TemporalHostingExtensions.CreateConnectOptions(
            settings, new Temporalio.Runtime.TemporalRuntime(new()), Microsoft.Extensions.Logging.Abstractions.NullLoggerFactory.Instance);

        Assert.IsType(expected, options.GrpcCompression);
    }

    [Theory]
    [InlineData("Endpoint=temporal:7233;Namespace=orders", "temporal:7233", "orders")]
    [InlineData("endpoint = temporal:7233 ; NAMESPACE = orders ;", "temporal:7233", "orders")]
    [InlineData("Namespace=orders;Endpoint=10.0.0.5:7233", "10.0.0.5:7233", "orders")]
    [InlineData("Endpoint=[::1]:7233", "[::1]:7233", "default")]
    [InlineData("temporal:7233", "temporal:7233", "default")]
    [InlineData(" ns.acct.tmprl.cloud:7233 ", "ns.acct.tmprl.cloud:7233", "default")]
    public void Temporal_connection_string_gives_address_and_namespace(string connectionString, string address, string @namespace)
    {
        var settings = TemporalSettingsFrom(("ConnectionStrings:temporal", connectionString));

        Assert.Equal(address, settings.Address);
        Assert.Equal(@namespace, settings.Namespace);
        Assert.Equal("orders", settings.TaskQueue);
    }

    [Fact]
    public void Temporal_keys_that_are_set_override_the_connection_string()
    {
        var overridden = TemporalSettingsFrom(
            ("ConnectionStrings:temporal", "Endpoint=temporal:7233;Namespace=orders"),
            ("Temporal:Address", "ns.acct.tmprl.cloud:7233"), ("Temporal:Namespace", "ns.acct"), ("Temporal:TaskQueue", "orders-eu"));
        var bareWithNamespace = TemporalSettingsFrom(("ConnectionStrings:temporal", "temporal:7233"), ("Temporal:Namespace", "orders"));
        var emptyKeys = TemporalSettingsFrom(
            ("ConnectionStrings:temporal", "Endpoint=temporal:7233;Namespace=orders"), ("Temporal:Address", ""), ("Temporal:Namespace", " "));
        var addressOnly = TemporalSettingsFrom(("Temporal:Address", "localhost:7233"));

        Assert.Equal(("ns.acct.tmprl.cloud:7233", "ns.acct", "orders-eu"), (overridden.Address, overridden.Namespace, overridden.TaskQueue));
        Assert.Equal(("temporal:7233", "orders"), (bareWithNamespace.Address, bareWithNamespace.Namespace));
        Assert.Equal(("temporal:7233", "orders"), (emptyKeys.Address, emptyKeys.Namespace));
        Assert.Equal(("localhost:7233", "default"), (addressOnly.Address, addressOnly.Namespace));
    }

    [Theory]
    [InlineData("Endpoint=temporal:7233;Namespce=orders", "unknown key 'namespce'")]
    [InlineData("Endpoint=temporal:7233;ApiKey=secret", "unknown key 'apikey'")]
    [InlineData("Namespace=orders", "no Endpoint")]
    [InlineData("Endpoint=;Namespace=orders", "no Endpoint")]
    [InlineData("Endpoint=' ';Namespace=orders", "empty endpoint")]
    [InlineData("Endpoint=http://temporal:7233", "not host:port")]
    [InlineData("temporal", "not host:port")]
    [InlineData("temporal:port", "not host:port")]
    [InlineData("Endpoint='temporal:7233", "not a connection string")]
    public void Malformed_temporal_connection_string_is_refused_naming_the_key(string connectionString, string problem)
    {
        // DbConnectionStringBuilder hands keys back in lower case.
        var error = Assert.Throws<InvalidOperationException>(() => TemporalSettingsFrom(("ConnectionStrings:temporal", connectionString)));

        Assert.Contains("ConnectionStrings:temporal", error.Message, StringComparison.Ordinal);
        Assert.Contains(problem, error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Without_any_temporal_address_the_error_names_both_keys()
    {
        var error = Assert.Throws<Microsoft.Extensions.Options.OptionsValidationException>(() => TemporalSettingsFrom());

        Assert.Contains("ConnectionStrings:temporal", error.Message, StringComparison.Ordinal);
        Assert.Contains("Temporal:Address", error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Temporal_address_with_a_scheme_is_refused_naming_the_key()
    {
        var error = Assert.Throws<Microsoft.Extensions.Options.OptionsValidationException>(() =>
            TemporalSettingsFrom(("Temporal:Address", "https://ns.acct.tmprl.cloud:7233")));

        Assert.Contains("Temporal:Address must be host:port", error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Temporal_standard_environment_variables_become_temporal_settings_above_other_sources()
    {
        var variables = new Dictionary<string, string>
        {
            ["TEMPORAL_ADDRESS"] = "frontend:7233",
            ["TEMPORAL_NAMESPACE"] = "orders-prod",
            ["TEMPORAL_DEPLOYMENT_NAME"] = "temporal-orders/worker",
            ["TEMPORAL_WORKER_BUILD_ID"] = "1.4.0-5c7d",
            ["TEMPORAL_TLS_CLIENT_CERT_PATH"] = "/etc/temporal/tls/tls.crt",
        };
        var configuration = new ConfigurationBuilder()
            .AddInMemoryCollection([new("Temporal:Address", "elsewhere:7233"), new("Temporal:Namespace", "orders")])
            .AddTemporalEnvironmentVariables(name => variables.GetValueOrDefault(name))
            .Build();

        Assert.Equal("frontend:7233", configuration["Temporal:Address"]);
        Assert.Equal("orders-prod", configuration["Temporal:Namespace"]);
        Assert.Equal("temporal-orders/worker", configuration["Temporal:DeploymentName"]);
        Assert.Equal("1.4.0-5c7d", configuration["Temporal:BuildId"]);
        Assert.Equal("/etc/temporal/tls/tls.crt", configuration["Temporal:TlsClientCertPath"]);
        Assert.Null(configuration["Temporal:ApiKey"]); // unset variables add nothing
    }

    [Fact]
    public void A_deployment_name_makes_the_worker_a_version_whose_build_id_is_this_build_unless_given()
    {
        using var services = new ServiceCollection().AddOptions().BuildServiceProvider();
        var logging = Microsoft.Extensions.Logging.Abstractions.NullLoggerFactory.Instance;

        var unversioned = WorkerPollingService.CreateOptions(services, new TemporalSettings { Address = "t:7233" }, logging);
        var versioned = WorkerPollingService.CreateOptions(services, new TemporalSettings { Address = "t:7233", DeploymentName = "orders" }, logging);
        var given = WorkerPollingService.CreateOptions(
            services, new TemporalSettings { Address = "t:7233", DeploymentName = "orders", BuildId = "1.4.0" }, logging);

        Assert.Null(unversioned.DeploymentOptions);
        Assert.True(versioned.DeploymentOptions!.UseWorkerVersioning);
        var informational = typeof(TemporalSettings).Assembly
            .GetCustomAttributes(typeof(System.Reflection.AssemblyInformationalVersionAttribute), false)
            .Cast<System.Reflection.AssemblyInformationalVersionAttribute>().Single().InformationalVersion;
        Assert.Equal(new Temporalio.Common.WorkerDeploymentVersion("orders", informational), versioned.DeploymentOptions.Version);
        Assert.Equal(new Temporalio.Common.WorkerDeploymentVersion("orders", "1.4.0"), given.DeploymentOptions!.Version);
    }

    [Fact]
    public void Versioning_settings_that_name_no_valid_version_are_refused_naming_the_key()
    {
        var orphanBuild = new TemporalSettings { Address = "t:7233", BuildId = "1.4.0" }.Validate().ToList();
        var reserved = new TemporalSettings { Address = "t:7233", DeploymentName = "orders", BuildId = "__unversioned__" }.Validate().ToList();

        Assert.Contains(orphanBuild, e => e.StartsWith("Temporal:BuildId needs Temporal:DeploymentName", StringComparison.Ordinal));
        Assert.Contains(reserved, e => e.StartsWith("Temporal:BuildId must not start with '__'", StringComparison.Ordinal));
    }

    [Fact]
    public void The_order_workflow_is_pinned_to_the_build_that_started_it()
    {
        Assert.Equal(Temporalio.Common.VersioningBehavior.Pinned,
            Temporalio.Workflows.WorkflowDefinition.Create<OrderWorkflow>().VersioningBehavior);
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

    /// <summary>The settings the worker's Temporal registration produces from this configuration (no host is started).</summary>
    private static TemporalSettings TemporalSettingsFrom(params (string Key, string? Value)[] values)
    {
        var builder = WebApplication.CreateEmptyBuilder(new WebApplicationOptions());
        builder.Configuration.AddInMemoryCollection(values.Select(v => new KeyValuePair<string, string?>(v.Key, v.Value)));
        builder.AddTemporal(new WorkerRoles(Api: true, Worker: false), "orders");
        using var services = builder.Services.BuildServiceProvider();
        return services.GetRequiredService<Microsoft.Extensions.Options.IOptions<TemporalSettings>>().Value;
    }

    private static IConfiguration Config(params (string Key, string? Value)[] values) =>
        new ConfigurationBuilder().AddInMemoryCollection(values.Select(v => new KeyValuePair<string, string?>(v.Key, v.Value))).Build();
}

namespace AppHost.Tests;

/// <summary>
/// Payload encryption in the model: the keys are secret parameters, never plain configuration; the Web UI calls the
/// worker's codec endpoint, which lets the UI's origin in; the switch turns all of it off.
/// </summary>
public sealed class PayloadEncryptionModelTests
{
    [Fact]
    public async Task The_worker_gets_its_key_from_a_secret_parameter_and_encrypts_with_the_last_key_id()
    {
        await using var app = await ModelTests.BuildAsync("Temporal:Encryption:KeyIds=k1,k2");
        var parameters = app.Model().Resources.OfType<ParameterResource>().ToDictionary(p => p.Name);

        var env = await ModelTests.PublishEnvironmentAsync(app, "worker");

        Assert.Equal("{payload-key-k1.value}", env["Temporal__Encryption__Keys__k1"]);
        Assert.Equal("{payload-key-k2.value}", env["Temporal__Encryption__Keys__k2"]);
        Assert.Equal("k2", env["Temporal__Encryption__CurrentKeyId"]);
        Assert.True(parameters["payload-key-k1"].Secret);
        Assert.True(parameters["payload-key-k2"].Secret);
    }

    [Fact]
    public async Task A_rotation_adds_a_key_before_making_it_current_and_a_current_id_outside_the_keys_is_refused()
    {
        await using var app = await ModelTests.BuildAsync("Temporal:Encryption:KeyIds=k1,k2", "Temporal:Encryption:CurrentKeyId=k1");

        var env = await ModelTests.PublishEnvironmentAsync(app, "worker");

        Assert.Equal("k1", env["Temporal__Encryption__CurrentKeyId"]);
        Assert.Equal("{payload-key-k2.value}", env["Temporal__Encryption__Keys__k2"]);
        var e = await Assert.ThrowsAnyAsync<Exception>(() => ModelTests.BuildAsync("Temporal:Encryption:KeyIds=k1", "Temporal:Encryption:CurrentKeyId=k2"));
        Assert.Contains("Temporal:Encryption:CurrentKeyId 'k2' is not in Temporal:Encryption:KeyIds (k1)", e.ToString(), StringComparison.Ordinal);
    }

    [Fact]
    public async Task Running_the_ui_calls_the_workers_codec_at_the_browsers_address_and_the_worker_lets_the_uis_origin_in()
    {
        await using var app = await ModelTests.BuildAsync();
        var model = app.Model();
        // What the orchestrator would allocate on start: every endpoint on loopback.
        var port = 41000;
        foreach (var endpoint in model.Resources.SelectMany(r => r.Annotations.OfType<EndpointAnnotation>()))
        {
            endpoint.AllocatedEndpoint ??= new AllocatedEndpoint(endpoint, "localhost", port++);
        }
        var workerPort = model.Resources.Single(r => r.Name == "worker").Annotations.OfType<EndpointAnnotation>().Single(e => e.Name == "http").AllocatedEndpoint!.Port;
        var uiPort = model.Resources.Single(r => r.Name == "temporal-ui").Annotations.OfType<EndpointAnnotation>().Single(e => e.Name == "http").AllocatedEndpoint!.Port;

        var ui = await RunEnvironmentAsync(model.Resources.Single(r => r.Name == "temporal-ui"));
        var worker = await RunEnvironmentAsync(model.Resources.Single(r => r.Name == "worker"));

        Assert.Equal($"http://localhost:{workerPort}/codec", ui["TEMPORAL_CODEC_ENDPOINT"]);
        Assert.Equal("true", ui["TEMPORAL_CODEC_INCLUDE_CREDENTIALS"]);
        Assert.Equal($"http://localhost:{uiPort}", worker["Temporal__Encryption__CodecCorsOrigin"]);
    }

    [Fact]
    public async Task The_switch_turns_encryption_and_the_uis_codec_off()
    {
        await using var app = await ModelTests.BuildAsync("Temporal:Encryption:Enabled=false");

        var worker = await ModelTests.PublishEnvironmentAsync(app, "worker");
        var ui = await ModelTests.PublishEnvironmentAsync(app, "temporal-ui");

        Assert.DoesNotContain(worker.Keys, k => k.StartsWith("Temporal__Encryption__", StringComparison.Ordinal));
        Assert.DoesNotContain(ui.Keys, k => k.StartsWith("TEMPORAL_CODEC_", StringComparison.Ordinal));
        Assert.DoesNotContain(app.Model().Resources, r => r.Name.StartsWith("payload-key-", StringComparison.Ordinal));
    }

    /// <summary>
    /// The resource's environment callbacks run as the orchestrator runs them, with only the values these tests read
    /// resolved (resolving all of them waits for a start that does not come).
    /// </summary>
    private static async Task<Dictionary<string, string>> RunEnvironmentAsync(IResource resource)
    {
        var context = new EnvironmentCallbackContext(new DistributedApplicationExecutionContext(DistributedApplicationOperation.Run));
        foreach (var callback in resource.Annotations.OfType<EnvironmentCallbackAnnotation>())
        {
            await callback.Callback(context);
        }
        var values = new Dictionary<string, string>();
        foreach (var (key, value) in context.EnvironmentVariables.Where(e => e.Key.Contains("CODEC", StringComparison.OrdinalIgnoreCase)))
        {
            values[key] = value as string ?? await ((IValueProvider)value).GetValueAsync() ?? "";
        }
        return values;
    }
}

using System.Text.RegularExpressions;

namespace AppHost.Tests.Deployment;

/// <summary>
/// <c>deploy/compose</c> through the real docker-compose (1.29: <c>config</c> needs no engine), and against the
/// Compose Specification's JSON schema, which Compose v2 (what users run) validates a file with.
/// </summary>
[Collection(SharedDeployment.Name)]
public sealed partial class ComposeDeploymentTests(GeneratedDeployment generated)
{
    private Task<ProcessResult> ConfigAsync(params string[] args) => ComposeAsync(generated.Compose, ["config", .. args]);

    private static Task<ProcessResult> ComposeAsync(string directory, string[] args) =>
        ProcessRunner.RunAsync(Validators.DockerCompose, ["-f", "docker-compose.yaml", .. args], TimeSpan.FromSeconds(60), workingDirectory: directory);

    /// <summary>docker-compose with <paramref name="args"/> in a copy of the generated folder whose <c>.env</c> <paramref name="changeEnv"/> rewrote.</summary>
    private async Task<ProcessResult> ComposeWithEnvAsync(Func<string, string> changeEnv, params string[] args)
    {
        var directory = Directory.CreateTempSubdirectory("compose-").FullName;
        try
        {
            foreach (var file in Directory.EnumerateFiles(generated.Compose))
            {
                File.Copy(file, Path.Combine(directory, Path.GetFileName(file)));
            }
            var env = Path.Combine(directory, ".env");
            await File.WriteAllTextAsync(env, changeEnv(await File.ReadAllTextAsync(env)));
            return await ComposeAsync(directory, args);
        }
        finally
        {
            Directory.Delete(directory, recursive: true);
        }
    }

    [Fact]
    public async Task Compose_file_is_valid_with_an_env_file_made_from_the_example()
    {
        var (exitCode, output) = await ConfigAsync("-q");
        Assert.True(exitCode == 0, output);
    }

    [Fact]
    public async Task A_missing_secret_stops_compose_with_its_name()
    {
        var (exitCode, output) = await ComposeWithEnvAsync(
            env => env.Replace(GeneratedDeployment.SecretSentinels["REDIS_PASSWORD"], "", StringComparison.Ordinal), "config", "-q");

        Assert.NotEqual(0, exitCode);
        Assert.Contains("set REDIS_PASSWORD in .env", output, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Services_start_in_health_order_hardened_with_secrets_only_from_env()
    {
        var (exitCode, output) = await ConfigAsync();
        Assert.True(exitCode == 0, output);
        var services = (Dictionary<object, object>)new YamlDotNet.Serialization.Deserializer().Deserialize<Dictionary<object, object>>(output)["services"];
        Assert.Contains("worker", services.Keys);
        foreach (var (name, value) in services.Select(s => ((string)s.Key, (Dictionary<object, object>)s.Value)))
        {
            foreach (var (target, dependency) in (value.GetValueOrDefault("depends_on") as Dictionary<object, object> ?? []).Select(d => ((string)d.Key, (Dictionary<object, object>)d.Value)))
            {
                Assert.Contains(target, services.Keys); // every depends_on target exists
                var waited = (Dictionary<object, object>)services[target];
                var expected = (string)waited["restart"] != "unless-stopped" ? "service_completed_successfully"
                    : waited.ContainsKey("healthcheck") ? "service_healthy" : "service_started";
                Assert.Equal(expected, (string)dependency["condition"]);
            }
            // The Temporal server's image has no client to check its frontend with: in Compose the namespace job, which
            // asks the frontend until it answers, is its check, and what needs Temporal waits for that job.
            var longRunning = (string)value["restart"] == "unless-stopped";
            // An optional helper under a profile (the telemetry viewer) is what nothing waits for.
            Assert.True(!longRunning || value.ContainsKey("healthcheck") || name == "temporal-server" || value.ContainsKey("profiles"), $"{name}: a health check");
            Assert.Equal("true", value["read_only"].ToString()!.ToLowerInvariant());
            Assert.Equal(["ALL"], ((List<object>)value["cap_drop"]).Cast<string>());
            Assert.NotEqual("0", (string)value["user"]);
            Assert.DoesNotContain(":latest", (string)value["image"], StringComparison.Ordinal);
        }
        var worker = (Dictionary<object, object>)services["worker"];
        Assert.Equal("service_completed_successfully", ((Dictionary<object, object>)((Dictionary<object, object>)worker["depends_on"])["temporal-namespace"])["condition"]);
        Assert.Equal(["CMD", "dotnet", "/app/Worker.dll", "--health-check"], ((List<object>)((Dictionary<object, object>)worker["healthcheck"])["test"]).Cast<string>());
        // The secrets came from .env: in the committed file they are ${NAME:?...} and nothing else.
        var committed = await File.ReadAllTextAsync(Path.Combine(generated.Compose, "docker-compose.yaml"));
        Assert.Contains("${POSTGRES_PASSWORD:?", committed, StringComparison.Ordinal);
        Assert.Contains(GeneratedDeployment.SecretSentinels["POSTGRES_PASSWORD"], output, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Compose_file_is_valid_for_the_compose_specification_that_compose_v2_implements()
    {
        // The file as docker-compose 1.29 resolves it: the .env interpolated, every value normalised.
        var config = await ConfigAsync();
        Assert.True(config.ExitCode == 0, config.Output);
        var resolved = await ValidateComposeAsync(config.StandardOutput);
        Assert.True(resolved.ExitCode == 0, resolved.Output);
        Assert.Contains("validate-compose: valid (", resolved.StandardOutput, StringComparison.Ordinal);

        // The committed file as Compose v2 reads it, which 1.29's normalisation could hide (a value it converts,
        // a key it drops): each variable given its default, or a dummy value for the secrets.
        var committed = await ValidateComposeAsync(SubstituteVariables(await File.ReadAllTextAsync(Path.Combine(generated.Compose, "docker-compose.yaml"))));
        Assert.True(committed.ExitCode == 0, committed.Output);
        Assert.Contains("validate-compose: valid (", committed.StandardOutput, StringComparison.Ordinal);
    }

    [Fact]
    public async Task The_schema_check_rejects_an_unknown_service_key()
    {
        var valid = SubstituteVariables(await File.ReadAllTextAsync(Path.Combine(generated.Compose, "docker-compose.yaml")));
        Assert.Equal(0, (await ValidateComposeAsync(valid)).ExitCode);
        // A misspelled key, as in a generator bug: docker-compose 1.29 and Compose v2 refuse it, and so must the check.
        var broken = FirstHealthCheck().Replace(valid, "${indent}healthchek:", 1);
        Assert.NotEqual(valid, broken);

        var (exitCode, output) = await ValidateComposeAsync(broken);
        Assert.True(exitCode == 1, output);
        Assert.Contains("/services/postgres: must NOT have additional properties: healthchek", output, StringComparison.Ordinal);
    }

    /// <summary>
    /// The committed file with each <c>${NAME:-default}</c> (or <c>${NAME-default}</c>) given its default and each
    /// <c>${NAME:?message}</c>, <c>${NAME?message}</c> or <c>${NAME}</c> a dummy value; <c>$$</c> (a literal
    /// <c>$</c>) stays.
    /// </summary>
    private static string SubstituteVariables(string compose)
    {
        var substituted = Variable().Replace(compose, m => m.Groups["default"].Success ? m.Groups["default"].Value : "dummy-value");
        Assert.DoesNotMatch(UnresolvedVariable(), substituted);
        return substituted;
    }

    /// <summary>scripts/validate-compose.mjs on a Compose file with these contents.</summary>
    private static async Task<ProcessResult> ValidateComposeAsync(string compose)
    {
        var file = Path.Combine(Path.GetTempPath(), $"compose-{Guid.NewGuid():N}.yaml");
        await File.WriteAllTextAsync(file, compose);
        try
        {
            return await ProcessRunner.RunAsync(Validators.ValidateCompose, [file], TimeSpan.FromSeconds(60));
        }
        finally
        {
            File.Delete(file);
        }
    }

    [GeneratedRegex(@"(?<!\$)\$\{(?<name>[A-Za-z_][A-Za-z0-9_]*)(?:(?::?\?[^}]*)|(?::?-(?<default>[^}]*)))?\}")]
    private static partial Regex Variable();

    [GeneratedRegex(@"(?<!\$)\$(\{|[A-Za-z_])")]
    private static partial Regex UnresolvedVariable();

    [GeneratedRegex(@"^(?<indent> +)healthcheck:", RegexOptions.Multiline)]
    private static partial Regex FirstHealthCheck();

    [Fact]
    public async Task The_worker_is_unversioned_unless_env_names_its_version_and_its_image_tag_moves_in_env()
    {
        var plain = Services((await ConfigAsync()).StandardOutput);
        var worker = (Dictionary<object, object>)plain["worker"];
        var environment = (Dictionary<object, object>)worker["environment"];
        Assert.Equal(("", ""), ((string)environment["Temporal__DeploymentName"], (string)environment["Temporal__BuildId"]));
        Assert.Equal("ghcr.io/example/temporal-orders-worker:1.0.0", worker["image"]);

        var result = await ComposeWithEnvAsync(env => env + "WORKER_DEPLOYMENT_NAME=orders\nWORKER_BUILD_ID=1.4.0\nWORKER_IMAGE_TAG=1.4.0\n", "config");
        Assert.True(result.ExitCode == 0, result.Output);
        worker = (Dictionary<object, object>)Services(result.StandardOutput)["worker"];
        environment = (Dictionary<object, object>)worker["environment"];
        Assert.Equal(("orders", "1.4.0"), ((string)environment["Temporal__DeploymentName"], (string)environment["Temporal__BuildId"]));
        Assert.Equal("ghcr.io/example/temporal-orders-worker:1.4.0", worker["image"]);
        // In a cluster the worker controller says which version a pod is: the settings are Compose's alone.
        Assert.DoesNotContain(Directory.EnumerateFiles(generated.Root, "*.yaml", SearchOption.AllDirectories).Where(f => !f.StartsWith(generated.Compose, StringComparison.Ordinal)),
            f => File.ReadAllText(f).Contains("Temporal__DeploymentName", StringComparison.Ordinal));
    }

    [Theory]
    [InlineData("dash")]
    [InlineData("busybox")]
    public async Task The_set_current_version_service_makes_the_version_env_names_current(string shell)
    {
        var result = await ComposeWithEnvAsync(env => env + "WORKER_DEPLOYMENT_NAME=orders\nWORKER_BUILD_ID=1.4.0\n", "--profile", "versioning", "config");
        Assert.True(result.ExitCode == 0, result.Output);
        var service = (Dictionary<object, object>)Services(result.StandardOutput)["temporal-set-current-version"];
        Assert.Equal(["versioning"], ((List<object>)service["profiles"]).Cast<string>());
        Assert.Equal("no", service["restart"]); // run by hand: its exit is the answer, never a restart loop
        Assert.Matches(@"^temporalio/admin-tools:\d+\.\d+\.\d+$", (string)service["image"]);

        using var cli = new RecordingCli();
        var (exitCode, output) = await RunServiceScriptAsync(shell, service, cli);

        Assert.True(exitCode == 0, output);
        Assert.Equal(["worker deployment set-current-version --deployment-name orders --build-id 1.4.0 --address temporal-server:7233 --namespace orders --yes"], cli.Calls);
    }

    [Theory]
    [InlineData("dash")]
    [InlineData("busybox")]
    public async Task The_set_current_version_service_refuses_to_guess_a_version(string shell)
    {
        var result = await ComposeWithEnvAsync(env => env + "WORKER_DEPLOYMENT_NAME=orders\n", "--profile", "versioning", "config");
        Assert.True(result.ExitCode == 0, result.Output);
        var service = (Dictionary<object, object>)Services(result.StandardOutput)["temporal-set-current-version"];

        using var cli = new RecordingCli();
        var (exitCode, output) = await RunServiceScriptAsync(shell, service, cli);

        Assert.Equal(2, exitCode);
        Assert.Contains("DEPLOYMENT_NAME and BUILD_ID must both be set", output, StringComparison.Ordinal);
        Assert.Empty(cli.Calls);
    }

    private static Dictionary<object, object> Services(string config) =>
        (Dictionary<object, object>)new YamlDotNet.Serialization.Deserializer().Deserialize<Dictionary<object, object>>(config)["services"];

    /// <summary>
    /// A service's <c>sh -c</c> script as its container gets it (Compose's <c>$$</c> is a <c>$</c> there), run by
    /// dash or busybox (stand-ins for the admin-tools image's shell) with its environment and a stub CLI.
    /// </summary>
    private static Task<ProcessResult> RunServiceScriptAsync(string shell, Dictionary<object, object> service, RecordingCli cli)
    {
        Assert.Equal(["/bin/sh"], ((List<object>)service["entrypoint"]).Cast<string>());
        var command = ((List<object>)service["command"]).Cast<string>().ToList();
        Assert.Equal("-c", command[0]);
        var environment = ((Dictionary<object, object>)service["environment"]).ToDictionary(e => (string)e.Key, e => (string?)e.Value);
        environment["PATH"] = $"{cli.Directory}{Path.PathSeparator}{Environment.GetEnvironmentVariable("PATH")}";
        string[] arguments = ["-c", command[1].Replace("$$", "$", StringComparison.Ordinal)];
        return ProcessRunner.RunAsync(shell, shell == "busybox" ? ["sh", .. arguments] : arguments, TimeSpan.FromSeconds(30), environment);
    }

    /// <summary>A <c>temporal</c> stand-in, first on PATH, that records each call's arguments and succeeds.</summary>
    private sealed class RecordingCli : IDisposable
    {
        public RecordingCli()
        {
            Directory = System.IO.Directory.CreateTempSubdirectory("temporal-cli-stub-").FullName;
            var program = Path.Combine(Directory, "temporal");
            File.WriteAllText(program, "#!/bin/sh\necho \"$*\" >> \"$(dirname \"$0\")/calls\"\n");
            if (!OperatingSystem.IsWindows())
            {
                File.SetUnixFileMode(program, UnixFileMode.UserRead | UnixFileMode.UserWrite | UnixFileMode.UserExecute);
            }
        }

        public string Directory { get; }

        public string[] Calls => File.Exists(Path.Combine(Directory, "calls")) ? File.ReadAllLines(Path.Combine(Directory, "calls")) : [];

        public void Dispose() => System.IO.Directory.Delete(Directory, recursive: true);
    }

    [Fact]
    public async Task The_dashboard_is_an_optional_telemetry_target_for_compose_only()
    {
        var result = await ComposeWithEnvAsync(env => env + "OTEL_EXPORTER_OTLP_ENDPOINT=http://aspire-dashboard:18889\n", "--profile", "telemetry", "config");

        Assert.True(result.ExitCode == 0, result.Output);
        var services = (Dictionary<object, object>)new YamlDotNet.Serialization.Deserializer().Deserialize<Dictionary<object, object>>(result.StandardOutput)["services"];
        var dashboard = (Dictionary<object, object>)services["aspire-dashboard"];
        Assert.Matches(@"^mcr\.microsoft\.com/dotnet/aspire-dashboard:\d+\.\d+\.\d+$", (string)dashboard["image"]);
        var worker = (Dictionary<object, object>)((Dictionary<object, object>)services["worker"])["environment"];
        Assert.Equal("http://aspire-dashboard:18889", worker["OTEL_EXPORTER_OTLP_ENDPOINT"]);
        Assert.False(Directory.EnumerateFiles(generated.Kubernetes, "aspire-dashboard*", SearchOption.AllDirectories).Any()); // a cluster has its own
    }
}

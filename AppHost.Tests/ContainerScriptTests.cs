namespace AppHost.Tests;

/// <summary>
/// The shell scripts the AppHost hands to containers, read from the model exactly as a container gets them.
/// The admin-tools image runs them with busybox sh (Alpine); Debian's dash and busybox stand in for it
/// (scripts/test-services.sh installs busybox when missing). The Temporal CLI is a stub: no server runs here.
/// </summary>
public sealed class ContainerScriptTests
{
    public static TheoryData<string> Shells => ["dash", "busybox"];

    [Fact]
    public async Task Every_script_handed_to_a_container_parses_with_dash_and_busybox_sh()
    {
        var scripts = await ShellScriptsAsync();

        Assert.Contains("temporal-server-schema", scripts.Keys);
        Assert.Contains("temporal-namespace", scripts.Keys);
        foreach (var (container, script) in scripts)
        {
            foreach (var shell in Shells)
            {
                var (exitCode, output) = await RunAsync(shell, ["-n", "-c", script]);
                Assert.True(exitCode == 0, $"{container}'s script does not parse with {shell}: {output}");
            }
        }
    }

    [Fact]
    public async Task Scripts_have_no_carriage_returns_and_the_schema_job_sets_up_before_it_updates()
    {
        var scripts = await ShellScriptsAsync();

        // `set -eu\r` is an illegal option to busybox sh: a CRLF checkout must not reach the container.
        Assert.All(scripts, s => Assert.False(s.Value.Contains('\r', StringComparison.Ordinal), $"{s.Key}'s script contains \\r"));
        var schema = scripts["temporal-server-schema"];
        var setup = schema.IndexOf("setup-schema -v 0.0", StringComparison.Ordinal);
        Assert.True(setup >= 0 && setup < schema.IndexOf("update-schema", StringComparison.Ordinal),
            "the schema job must run setup-schema -v 0.0 before update-schema, so a new database prints no error");
    }

    [Theory]
    [MemberData(nameof(Shells))]
    public async Task Namespace_job_retries_create_while_the_server_settles(string shell)
    {
        using var cli = new TemporalCliStub(failingCreates: 3);

        var (exitCode, output) = await RunNamespaceJobAsync(shell, cli);

        Assert.True(exitCode == 0, output);
        Assert.Equal(4, cli.Creates.Length);
        Assert.Equal(3, cli.Sleeps);
        Assert.Matches(@"^operator namespace create -n orders --retention 72h --address \S+$", cli.Creates[0]);
        Assert.Contains("Namespace orders is ready", output, StringComparison.Ordinal);
    }

    [Theory]
    [MemberData(nameof(Shells))]
    public async Task Namespace_job_gives_up_after_30_tries_with_a_message_naming_the_namespace(string shell)
    {
        using var cli = new TemporalCliStub(failingCreates: 1000);

        var (exitCode, output) = await RunNamespaceJobAsync(shell, cli);

        Assert.NotEqual(0, exitCode);
        Assert.Equal(30, cli.Creates.Length);
        Assert.Equal(29, cli.Sleeps);
        Assert.Contains("Namespace orders could not be created", output, StringComparison.Ordinal);
        Assert.DoesNotContain("is ready", output, StringComparison.Ordinal);
    }

    [Theory]
    [MemberData(nameof(Shells))]
    public async Task Namespace_job_leaves_an_existing_namespace_alone(string shell)
    {
        using var cli = new TemporalCliStub(failingCreates: 0, namespaceExists: true);

        var (exitCode, output) = await RunNamespaceJobAsync(shell, cli);

        Assert.True(exitCode == 0, output);
        Assert.Empty(cli.Creates);
        Assert.Equal(0, cli.Sleeps);
    }

    [Theory]
    [MemberData(nameof(Shells))]
    public async Task The_servers_start_turns_mutual_tls_on_with_its_switch_only_once_the_secret_is_there(string shell)
    {
        await using var app = await ModelTests.BuildAsync();
        var script = (await ShellScriptsAsync(app))["temporal-server"];
        using var mount = new ScratchDirectory("temporal-tls-");
        using var stubs = new ScratchDirectory("temporal-entrypoint-");
        // The image's own start, as a stub that shows what it was handed; the Secret's mount, here.
        stubs.Write("entrypoint.sh", "#!/bin/sh\nenv | grep '^TEMPORAL_TLS_' | sort\necho started\n");
        // The first wait "lasts" until the Secret's files appear, as when cert-manager issues it after the pod starts.
        stubs.Write("sleep", $"#!/bin/sh\nfor f in tls.crt tls.key ca.crt; do echo pem > '{mount.Path}'/$f; done\n");
        var rebound = script.Replace("/etc/temporal/entrypoint.sh", Path.Combine(stubs.Path, "entrypoint.sh"), StringComparison.Ordinal)
            .Replace("/etc/temporal-tls", mount.Path, StringComparison.Ordinal);
        Dictionary<string, string?> Environment(string tls) => new()
        {
            ["TEMPORAL_SERVER_TLS"] = tls,
            ["PATH"] = SearchedFirst(stubs.Path),
        };

        var (plainExit, plain) = await RunAsync(shell, ["-c", rebound], Environment("false"));
        Assert.True(plainExit == 0, plain);
        Assert.DoesNotContain("TEMPORAL_TLS_", plain, StringComparison.Ordinal); // every TLS path empty: the template serves plain text
        Assert.False(File.Exists(Path.Combine(mount.Path, "tls.key")), "TLS off does not wait for the Secret");

        var (exitCode, output) = await RunAsync(shell, ["-c", rebound], Environment("true"));
        Assert.True(exitCode == 0, output);
        Assert.Contains("Waiting for the Secret temporal-tls", output, StringComparison.Ordinal);
        var exported = output.Split('\n').Where(l => l.StartsWith("TEMPORAL_TLS_", StringComparison.Ordinal))
            .Select(l => l.Split('=', 2)).ToDictionary(p => p[0], p => p[1]);
        // Frontend and internode serve the Secret's certificate; both ask callers for one of the Secret's CA.
        foreach (var (variable, file) in new[]
        {
            ("TEMPORAL_TLS_SERVER_CERT", "tls.crt"), ("TEMPORAL_TLS_SERVER_KEY", "tls.key"), ("TEMPORAL_TLS_SERVER_CA_CERT", "ca.crt"),
            ("TEMPORAL_TLS_FRONTEND_CERT", "tls.crt"), ("TEMPORAL_TLS_FRONTEND_KEY", "tls.key"),
            ("TEMPORAL_TLS_CLIENT1_CA_CERT", "ca.crt"), ("TEMPORAL_TLS_CLIENT2_CA_CERT", "ca.crt"),
        })
        {
            Assert.Equal(Path.Combine(mount.Path, file), exported[variable]);
        }
        Assert.Equal("true", exported["TEMPORAL_TLS_REQUIRE_CLIENT_AUTH"]);
        Assert.Equal("temporal-server", exported["TEMPORAL_TLS_INTERNODE_SERVER_NAME"]);
        Assert.Equal("temporal-server", exported["TEMPORAL_TLS_FRONTEND_SERVER_NAME"]);
        Assert.Equal("10m", exported["TEMPORAL_TLS_REFRESH_INTERVAL"]); // a renewed certificate applies without a restart
        Assert.EndsWith("started\n", output.Split("Frontend and internode TLS on")[1], StringComparison.Ordinal);
    }

    [Theory]
    [MemberData(nameof(Shells))]
    public async Task The_servers_authorizer_comes_with_an_internal_frontend_and_never_without_tls(string shell)
    {
        await using var app = await ModelTests.BuildAsync();
        using var mount = new ScratchDirectory("temporal-tls-");
        using var stubs = new ScratchDirectory("temporal-entrypoint-");
        stubs.Write("entrypoint.sh", "#!/bin/sh\nenv | grep -E '^(TEMPORAL_AUTH_|TEMPORAL_JWT_|USE_INTERNAL_FRONTEND|TEMPORAL_SERVICES|SQL_)' | sort\necho started\n");
        foreach (var file in new[] { "tls.crt", "tls.key", "ca.crt" })
        {
            await File.WriteAllTextAsync(Path.Combine(mount.Path, file), "pem");
        }
        var script = (await ShellScriptsAsync(app))["temporal-server"]
            .Replace("/etc/temporal/entrypoint.sh", Path.Combine(stubs.Path, "entrypoint.sh"), StringComparison.Ordinal)
            .Replace("/etc/temporal-tls", mount.Path, StringComparison.Ordinal);
        // The pools the model gives the process (the topology's frontend: 5 and 5).
        Task<ProcessResult> Start(string tls, string jwks, string? services) => RunAsync(shell, ["-c", script], new Dictionary<string, string?>
        {
            ["TEMPORAL_SERVER_TLS"] = tls,
            ["TEMPORAL_SERVER_JWKS_URL"] = jwks,
            ["TEMPORAL_SERVICES"] = services,
            ["SQL_MAX_CONNS"] = services == "frontend" ? "5" : "10",
            ["SQL_MAX_IDLE_CONNS"] = services == "frontend" ? "5" : "10",
            ["SQL_VIS_MAX_CONNS"] = "5",
            ["SQL_VIS_MAX_IDLE_CONNS"] = "5",
        });
        const string Jwks = "https://login.example.com/.well-known/jwks.json";

        var (offExit, off) = await Start("true", "", null);
        Assert.True(offExit == 0, off);
        Assert.DoesNotContain("TEMPORAL_AUTH_", off, StringComparison.Ordinal); // no authorizer, no internal frontend
        Assert.DoesNotContain("TEMPORAL_SERVICES", off, StringComparison.Ordinal);
        Assert.Contains("SQL_MAX_CONNS=10\n", off, StringComparison.Ordinal);

        var (exitCode, output) = await Start("true", Jwks, null);
        Assert.True(exitCode == 0, output);
        foreach (var line in new[]
        {
            "TEMPORAL_AUTH_AUTHORIZER=default", "TEMPORAL_AUTH_CLAIM_MAPPER=default", $"TEMPORAL_JWT_KEY_SOURCE1={Jwks}",
            "USE_INTERNAL_FRONTEND=true", "TEMPORAL_SERVICES=frontend,internal-frontend,history,matching,worker",
            // Five services' pools where the connection budget counts four: each gets four fifths.
            "SQL_MAX_CONNS=8", "SQL_MAX_IDLE_CONNS=8", "SQL_VIS_MAX_CONNS=4", "SQL_VIS_MAX_IDLE_CONNS=4",
        })
        {
            Assert.Contains(line + "\n", output, StringComparison.Ordinal);
        }
        // The topology's frontend pods run the internal frontend beside it; the other services stay as they are.
        var frontend = (await Start("true", Jwks, "frontend")).Output;
        Assert.Contains("TEMPORAL_SERVICES=frontend,internal-frontend\n", frontend, StringComparison.Ordinal);
        Assert.Contains("SQL_MAX_CONNS=2\n", frontend, StringComparison.Ordinal); // two services in 5 + 5 counted
        Assert.Contains("SQL_VIS_MAX_CONNS=2\n", frontend, StringComparison.Ordinal);
        var history = (await Start("true", Jwks, "history")).Output;
        Assert.Contains("TEMPORAL_SERVICES=history\n", history, StringComparison.Ordinal);
        Assert.Contains("SQL_MAX_CONNS=10\n", history, StringComparison.Ordinal);

        // Without TLS the internal frontend would answer anyone as an admin: the server refuses to start.
        var (plainExit, plain) = await Start("false", Jwks, null);
        Assert.Equal(2, plainExit);
        Assert.Contains("Authorization needs the server's TLS", plain, StringComparison.Ordinal);
        Assert.DoesNotContain("started", plain, StringComparison.Ordinal);
    }

    [Theory]
    [MemberData(nameof(Shells))]
    public async Task Cli_jobs_send_the_administrators_token_when_its_secret_is_there_and_tls_is_on(string shell)
    {
        await using var app = await ModelTests.BuildAsync();
        using var tokens = new ScratchDirectory("temporal-token-");
        using var stubs = new ScratchDirectory("temporal-cli-");
        var seen = Path.Combine(stubs.Path, "seen");
        stubs.Write("temporal", $"#!/bin/sh\necho \"key=${{TEMPORAL_API_KEY:-none}}\" > '{seen}'\n");
        var script = (await ShellScriptsAsync(app))["temporal-namespace"].Replace("/etc/temporal-token", tokens.Path, StringComparison.Ordinal);
        async Task<string> KeySent(string tls = "true")
        {
            File.Delete(seen);
            await RunTemporalClientAsync(shell, script, stubs.Path, tls);
            return File.ReadAllText(seen).Trim();
        }

        Assert.Equal("key=none", await KeySent()); // no Secret (an optional mount, empty): no key, and no empty one
        await File.WriteAllTextAsync(Path.Combine(tokens.Path, "admin"), "eyJ.admin.token");
        Assert.Equal("key=eyJ.admin.token", await KeySent());
        // A plain server has no authorizer, and the CLI would speak TLS to it for a key: none is sent.
        Assert.Equal("key=none", await KeySent(tls: "false"));
    }

    [Theory]
    [MemberData(nameof(Shells))]
    public async Task Cli_jobs_and_the_web_ui_present_the_clients_certificate_only_with_the_switch_on(string shell)
    {
        await using var app = await ModelTests.BuildAsync();
        var scripts = await ShellScriptsAsync(app);
        using var stubs = new ScratchDirectory("temporal-clients-");
        // Each client's program as a stub that keeps the TLS variables it was started with (the job silences the CLI's output).
        var seen = Path.Combine(stubs.Path, "seen");
        var show = $"#!/bin/sh\nenv | grep '^TEMPORAL_TLS' | sort > '{seen}'\n";
        stubs.Write("temporal", show);
        stubs.Write("start-ui-server.sh", show);
        foreach (var (name, tls) in new[] { ("temporal-namespace", "true"), ("temporal-namespace", "false"), ("temporal-ui", "true"), ("temporal-ui", "false") })
        {
            var script = scripts[name].Replace("./start-ui-server.sh", Path.Combine(stubs.Path, "start-ui-server.sh"), StringComparison.Ordinal);
            File.Delete(seen);
            await RunTemporalClientAsync(shell, script, stubs.Path, tls);
            var output = File.ReadAllText(seen);
            if (tls == "false")
            {
                // Any of the CLI's TLS variables, even empty, turns its TLS on: none is set.
                Assert.DoesNotContain("TEMPORAL_TLS", output, StringComparison.Ordinal);
                continue;
            }
            var expected = name == "temporal-ui"
                ? new[] { "TEMPORAL_TLS_CA=/etc/temporal-client-tls/ca.crt", "TEMPORAL_TLS_CERT=/etc/temporal-client-tls/tls.crt",
                    "TEMPORAL_TLS_ENABLE_HOST_VERIFICATION=true", "TEMPORAL_TLS_KEY=/etc/temporal-client-tls/tls.key", "TEMPORAL_TLS_SERVER_NAME=temporal-server" }
                : ["TEMPORAL_TLS=true", "TEMPORAL_TLS_CLIENT_CERT_PATH=/etc/temporal-client-tls/tls.crt", "TEMPORAL_TLS_CLIENT_KEY_PATH=/etc/temporal-client-tls/tls.key",
                    "TEMPORAL_TLS_SERVER_CA_CERT_PATH=/etc/temporal-client-tls/ca.crt", "TEMPORAL_TLS_SERVER_NAME=temporal-server"];
            foreach (var line in expected)
            {
                Assert.Contains(line + "\n", output, StringComparison.Ordinal);
            }
        }
    }

    /// <summary>A throwaway directory; <see cref="Write"/> puts an executable script in it.</summary>
    private sealed class ScratchDirectory(string prefix) : IDisposable
    {
        public string Path { get; } = Directory.CreateTempSubdirectory(prefix).FullName;

        public void Write(string name, string script) => WriteExecutable(System.IO.Path.Combine(Path, name), script);

        public void Dispose() => Directory.Delete(Path, recursive: true);
    }

    private static void WriteExecutable(string path, string script)
    {
        File.WriteAllText(path, script.ReplaceLineEndings("\n") + "\n");
        if (!OperatingSystem.IsWindows()) // the shells under test are Unix programs; nothing here runs on Windows
        {
            File.SetUnixFileMode(path, UnixFileMode.UserRead | UnixFileMode.UserWrite | UnixFileMode.UserExecute);
        }
    }

    /// <summary>The namespace job's script with the environment the model gives its container.</summary>
    private static async Task<ProcessResult> RunNamespaceJobAsync(string shell, TemporalCliStub cli)
    {
        await using var app = await ModelTests.BuildAsync();
        var script = (await ShellScriptsAsync(app))["temporal-namespace"];
        var environment = (await ModelTests.PublishEnvironmentAsync(app, "temporal-namespace")).ToDictionary(e => e.Key, string? (e) => e.Value);
        environment["PATH"] = SearchedFirst(cli.Directory);
        return await RunAsync(shell, ["-c", script], environment);
    }

    /// <summary>
    /// Runs a Temporal client's script (a CLI job, or the Web UI's start) against server <c>temporal-server:7233</c>,
    /// namespace <c>orders</c>, with the TLS switch as given and the stub programs in <paramref name="stubs"/>; it must succeed.
    /// </summary>
    private static async Task RunTemporalClientAsync(string shell, string script, string stubs, string tls)
    {
        var (exitCode, output) = await RunAsync(shell, ["-c", script], new Dictionary<string, string?>
        {
            ["TEMPORAL_SERVER_TLS"] = tls,
            ["TEMPORAL_NAMESPACE"] = "orders",
            ["TEMPORAL_ADDRESS"] = "temporal-server:7233",
            ["PATH"] = SearchedFirst(stubs),
        });
        Assert.True(exitCode == 0, output);
    }

    /// <summary>The PATH with <paramref name="directory"/> (stub programs standing in for the image's) searched first.</summary>
    private static string SearchedFirst(string directory) =>
        $"{directory}{Path.PathSeparator}{Environment.GetEnvironmentVariable("PATH")}";

    private static async Task<Dictionary<string, string>> ShellScriptsAsync()
    {
        await using var app = await ModelTests.BuildAsync();
        return await ShellScriptsAsync(app);
    }

    /// <summary>Every container started as <c>sh -c SCRIPT</c>, by name.</summary>
    private static async Task<Dictionary<string, string>> ShellScriptsAsync(DistributedApplication app)
    {
        var scripts = new Dictionary<string, string>();
        foreach (var container in app.Model().Resources.OfType<ContainerResource>())
        {
            var arguments = await ModelTests.RunArgumentsAsync(container);
            if (container.Entrypoint is { } entrypoint && Path.GetFileName(entrypoint) == "sh" && arguments is ["-c", var script, ..])
            {
                scripts[container.Name] = script;
            }
        }
        return scripts;
    }

    /// <summary>Runs <paramref name="shell"/> (<c>dash</c>, or <c>busybox</c> as <c>busybox sh</c>).</summary>
    private static Task<ProcessResult> RunAsync(string shell, string[] arguments, IReadOnlyDictionary<string, string?>? environment = null) =>
        ProcessRunner.RunAsync(RequireOnPath(shell), shell == "busybox" ? ["sh", .. arguments] : arguments, TimeSpan.FromSeconds(30), environment);

    private static string RequireOnPath(string command) =>
        (Environment.GetEnvironmentVariable("PATH") ?? "").Split(Path.PathSeparator)
            .Select(directory => Path.Combine(directory, command))
            .FirstOrDefault(File.Exists)
        ?? throw new InvalidOperationException(
            $"'{command}' is not installed; it stands in for the admin-tools image's shell. "
            + "Run the tests through ./test.sh (scripts/test-services.sh installs it on Debian/Ubuntu) or apt-get install " + command);

    /// <summary>
    /// <c>temporal</c> and <c>sleep</c> stand-ins in a throwaway directory put first on PATH: describe succeeds
    /// once a create has, the first <c>failingCreates</c> creates fail as an unsettled server's do, and sleep
    /// only counts, so 30 tries take milliseconds.
    /// </summary>
    private sealed class TemporalCliStub : IDisposable
    {
        public TemporalCliStub(int failingCreates, bool namespaceExists = false)
        {
            Directory = System.IO.Directory.CreateTempSubdirectory("temporal-cli-stub-").FullName;
            Write("temporal", $"""
                #!/bin/sh
                dir=$(dirname "$0")
                case "$3" in
                  describe) [ -f "$dir/created" ] ;;
                  create)
                    echo "$*" >> "$dir/creates"
                    if [ "$(wc -l < "$dir/creates")" -le {failingCreates} ]; then
                      echo "Error: unable to create namespace: membership ring not settled" >&2
                      exit 1
                    fi
                    touch "$dir/created" ;;
                  *) echo "unexpected: $*" >&2; exit 2 ;;
                esac
                """);
            Write("sleep", """
                #!/bin/sh
                echo "$*" >> "$(dirname "$0")/sleeps"
                """);
            if (namespaceExists)
            {
                File.WriteAllText(Path.Combine(Directory, "created"), "");
            }
        }

        public string Directory { get; }

        public string[] Creates => Lines("creates");

        public int Sleeps => Lines("sleeps").Length;

        public void Dispose() => System.IO.Directory.Delete(Directory, recursive: true);

        private string[] Lines(string file)
        {
            var path = Path.Combine(Directory, file);
            return File.Exists(path) ? File.ReadAllLines(path) : [];
        }

        private void Write(string command, string script) => WriteExecutable(Path.Combine(Directory, command), script);
    }
}

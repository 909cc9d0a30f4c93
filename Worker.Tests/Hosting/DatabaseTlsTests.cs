using TestSupport;
using Worker.Tests.Infrastructure;

namespace Worker.Tests.Hosting;

/// <summary>
/// TLS to PostgreSQL as the deployments set it (docs/security.md, "Encryption in transit"), against a real server of
/// the test's own: in production the server has <c>ssl=on</c> with a certificate of a private CA, and the worker
/// (<c>Database:SslMode</c>) and the psql-based jobs (<c>PGSSLMODE</c>) verify it and the host name with only
/// <c>PGSSLROOTCERT</c>; in development the server has <c>ssl=off</c> and certificate paths that do not exist, and
/// the same clients with <c>prefer</c> still connect.
/// </summary>
public sealed class DatabaseTlsTests
{
    private static readonly TimeSpan Timeout = TimeSpan.FromSeconds(60);

    [Fact]
    public async Task With_verify_full_the_worker_and_psql_accept_the_servers_certificate_and_only_it()
    {
        using var pki = TestPki.Create(serverName: "localhost");
        await using var server = await PrivatePostgres.StartAsync(serverOptions:
            $"-c ssl=on -c ssl_cert_file={pki.ServerCertificate} -c ssl_key_file={pki.ServerKey} -c hba_file={ClientRules("on")}");

        // The worker's migration command, as the deployed job runs it.
        var (exitCode, output) = await MigrateAsync(server, "localhost", "verify-full", pki.CaCertificate);
        Assert.True(exitCode == 0, output);
        var (psqlExit, psqlOutput) = await PsqlAsync(server, "localhost", "verify-full", pki.CaCertificate,
            "SELECT ssl FROM pg_stat_ssl WHERE pid = pg_backend_pid()");
        Assert.True(psqlExit == 0, psqlOutput);
        Assert.Equal("t", psqlOutput.Trim());

        // Production's client rules turn plain text away.
        var (plainExit, plainOutput) = await PsqlAsync(server, "localhost", "disable", pki.CaCertificate, "SELECT 1");
        Assert.NotEqual(0, plainExit);
        Assert.Contains("no encryption", plainOutput, StringComparison.Ordinal);
        // Another CA's certificate is refused, and so is the right certificate under a name it was not issued for.
        using var stranger = TestPki.Create(serverName: "localhost");
        Assert.Equal(1, (await MigrateAsync(server, "localhost", "verify-full", stranger.CaCertificate)).ExitCode);
        Assert.NotEqual(0, (await PsqlAsync(server, "localhost", "verify-full", stranger.CaCertificate, "SELECT 1")).ExitCode);
        var wrongName = await MigrateAsync(server, "127.0.0.1", "verify-full", pki.CaCertificate);
        Assert.Equal(1, wrongName.ExitCode);
        Assert.Equal(0, (await MigrateAsync(server, "127.0.0.1", "verify-ca", pki.CaCertificate)).ExitCode); // the name was the only fault
    }

    [Fact]
    public async Task Without_tls_the_server_ignores_missing_certificate_files_and_prefer_connects_in_clear()
    {
        var missing = Path.Combine(Path.GetTempPath(), $"no-certificates-{Guid.NewGuid():N}");
        // What the deployments' development form runs: the same paths, no Secret behind them, ssl=off.
        await using var server = await PrivatePostgres.StartAsync(serverOptions:
            $"-c ssl=off -c ssl_cert_file={missing}/tls.crt -c ssl_key_file={missing}/tls.key -c hba_file={ClientRules("off")}");

        var (exitCode, output) = await MigrateAsync(server, "localhost", "prefer", Path.Combine(missing, "ca.crt"));
        Assert.True(exitCode == 0, output);
        var (psqlExit, psqlOutput) = await PsqlAsync(server, "localhost", "prefer", Path.Combine(missing, "ca.crt"),
            "SELECT ssl FROM pg_stat_ssl WHERE pid = pg_backend_pid()");
        Assert.True(psqlExit == 0, psqlOutput);
        Assert.Equal("f", psqlOutput.Trim());
        // verify-full against that server is refused, not quietly plain.
        Assert.Equal(1, (await MigrateAsync(server, "localhost", "verify-full", Path.Combine(missing, "ca.crt"))).ExitCode);
    }

    [Fact]
    public async Task A_mode_libpq_does_not_know_stops_the_migration_naming_the_setting()
    {
        using var migrate = WorkerProcess.Start(new Dictionary<string, string?>
        {
            ["ConnectionStrings__appdb"] = "Host=localhost;Port=1;Username=postgres;Database=postgres",
            ["Database__SslMode"] = "VerifyFull",
        }, MigrateCommand.Flag);

        Assert.Equal(2, await migrate.WaitForExitAsync(Timeout));
        Assert.Contains("Database:SslMode must be one of", migrate.StandardError, StringComparison.Ordinal);
    }

    /// <summary>
    /// The client rules the deployments give PostgreSQL for <c>POSTGRES_SSL</c> (the generated files), with the
    /// password check made <c>trust</c>: the test servers' superuser has no password, and the rules' shape is the point.
    /// </summary>
    private static string ClientRules(string ssl)
    {
        var rules = File.ReadAllText(Repository.PathOf("deploy", "compose", "files", "postgres", $"pg_hba-{ssl}.conf"));
        Assert.Contains("scram-sha-256", rules, StringComparison.Ordinal);
        var path = Path.Combine(Path.GetTempPath(), $"pg_hba-{ssl}-{Guid.NewGuid():N}.conf");
        File.WriteAllText(path, rules.Replace("scram-sha-256", "trust", StringComparison.Ordinal));
        return path;
    }

    private static async Task<(int ExitCode, string Output)> MigrateAsync(PrivatePostgres server, string host, string sslMode, string caFile)
    {
        using var migrate = WorkerProcess.Start(new Dictionary<string, string?>
        {
            ["ConnectionStrings__appdb"] = $"Host={host};Port={server.Port};Username=postgres;Database=postgres;Timeout=5",
            ["Database__SslMode"] = sslMode,
            ["PGSSLROOTCERT"] = caFile,
            ["Database__MigrateTimeoutSeconds"] = "10",
        }, MigrateCommand.Flag);
        var exitCode = await migrate.WaitForExitAsync(Timeout);
        return (exitCode, migrate.StandardOutput + migrate.StandardError);
    }

    /// <summary>psql as the roles and backup jobs connect: libpq's variables only.</summary>
    private static Task<ProcessResult> PsqlAsync(PrivatePostgres server, string host, string sslMode, string caFile, string sql) =>
        ProcessRunner.RunAsync(Path.Combine(TestSettings.PostgresBinaries, "psql"), ["--no-psqlrc", "-At", "-d", "postgres", "-c", sql], Timeout,
            new Dictionary<string, string?>
            {
                ["PGHOST"] = host,
                ["PGPORT"] = server.Port.ToString(System.Globalization.CultureInfo.InvariantCulture),
                ["PGUSER"] = "postgres",
                ["PGSSLMODE"] = sslMode,
                ["PGSSLROOTCERT"] = caFile,
                ["PGCONNECT_TIMEOUT"] = "5",
            });
}

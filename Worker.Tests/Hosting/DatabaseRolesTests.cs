using Npgsql;
using TestSupport;
using Worker.Orders.Persistence;
using Worker.Tests.Infrastructure;

namespace Worker.Tests.Hosting;

/// <summary>
/// The least-privilege roles of a deployment (scripts/pg-roles.sh, run by the postgres-roles job as the superuser) with
/// the worker's two ways to connect: <c>--migrate</c> as the database's owner, the replicas as its user. Against the
/// real PostgreSQL of the test command, through psql as the job runs it. Roles are cluster-wide, so every test names
/// its own.
/// </summary>
public sealed class DatabaseRolesTests
{
    private static readonly TimeSpan Timeout = TimeSpan.FromSeconds(60);

    [Fact]
    public async Task The_owner_migrates_and_the_user_reads_and_writes_rows_and_nothing_more()
    {
        var (database, owner, user) = await NewDatabaseAsync();
        // What the superuser made before the roles existed: a deployment from before, upgraded.
        await ExecuteAsync(As(database, "postgres"), """
            CREATE TABLE legacy_notes (id serial PRIMARY KEY, note text);
            CREATE TYPE legacy_state AS ENUM ('new');
            CREATE PROCEDURE legacy_noop() LANGUAGE sql AS 'SELECT 1';
            """);

        var roles = await RunRolesScriptAsync($"{Name(database)}:{owner}:{user}", owner, user);
        Assert.True(roles.ExitCode == 0, roles.Output);

        using (var migrate = WorkerProcess.Start(new Dictionary<string, string?> { ["ConnectionStrings__appdb"] = As(database, owner) }, MigrateCommand.Flag))
        {
            Assert.True(await migrate.WaitForExitAsync(Timeout) == 0, (migrate.StandardOutput + migrate.StandardError));
            Assert.Contains($"schema is at version {DatabaseSchema.LatestVersion}", (migrate.StandardOutput + migrate.StandardError), StringComparison.Ordinal);
        }

        var asUser = As(database, user);
        await using (var source = NpgsqlDataSource.Create(asUser))
        {
            // What a replica does: finds the schema current, seeds, writes and reads rows of every table.
            Assert.Equal(DatabaseSchema.LatestVersion, await DatabaseSchema.MigrateAsync(source, CancellationToken.None));
            Assert.Equal(6, await CatalogueSeed.SeedAsync(source, CancellationToken.None));
        }
        await ExecuteAsync(asUser, "INSERT INTO legacy_notes (note) VALUES ('kept'); UPDATE legacy_notes SET note = 'changed'; DELETE FROM legacy_notes");

        foreach (var statement in new[]
        {
            "CREATE TABLE intruder (id int)",
            "ALTER TABLE orders ADD COLUMN intruder int",
            "DROP TABLE legacy_notes",
            "TRUNCATE orders",
        })
        {
            var denied = await Assert.ThrowsAsync<PostgresException>(() => ExecuteAsync(asUser, statement));
            Assert.True(denied.SqlState is PostgresErrorCodes.InsufficientPrivilege, $"{statement}: {denied.SqlState} {denied.MessageText}");
        }
        Assert.Equal(owner, await ScalarAsync(As(database, "postgres"), "SELECT tableowner FROM pg_tables WHERE tablename = 'legacy_notes'"));
        // The owner may change what it now owns (a later migration), types and routines included.
        await ExecuteAsync(As(database, owner), "ALTER TYPE legacy_state ADD VALUE 'old'; DROP PROCEDURE legacy_noop(); ALTER TABLE legacy_notes ADD COLUMN at timestamptz");
    }

    [Fact]
    public async Task The_reload_role_may_reload_the_configuration_and_nothing_else()
    {
        var (database, owner, user) = await NewDatabaseAsync();
        var reload = $"reload_{Guid.NewGuid().ToString("N")[..12]}";
        var passwords = new[] { owner, user, reload }.ToDictionary(r => $"PASSWORD_{r.ToUpperInvariant()}", string? (_) => Guid.NewGuid().ToString("N"));
        passwords["RELOAD_ROLE"] = reload;

        var run = await RunRolesScriptAsync($"{Name(database)}:{owner}:{user}", TestSettings.PostgresConnection, passwords);

        Assert.True(run.ExitCode == 0, run.Output);
        var maintenance = new NpgsqlConnectionStringBuilder(As(database, reload)) { Database = "postgres" }.ConnectionString;
        Assert.Equal(true, await ScalarAsync(maintenance, "SELECT pg_reload_conf()"));
        foreach (var (connection, statement) in new[]
        {
            (maintenance, "CREATE TEMP TABLE intruder (id int)"),
            (maintenance, "SELECT pg_read_file('postgresql.conf')"),
            (As(database, reload), "SELECT 1"),
        })
        {
            var denied = await Assert.ThrowsAsync<PostgresException>(() => ExecuteAsync(connection, statement));
            Assert.True(denied.SqlState is PostgresErrorCodes.InsufficientPrivilege, $"{statement}: {denied.SqlState} {denied.MessageText}");
        }
    }

    [Fact]
    public async Task Four_runs_at_once_all_succeed_and_no_password_reaches_the_server_log()
    {
        // A server that logs every DDL statement, as an operator might set it.
        await using var server = await PrivatePostgres.StartAsync(serverOptions: "-c log_statement=ddl -c log_min_error_statement=error");
        await ExecuteAsync(server.ConnectionString, "CREATE DATABASE appdb");
        var passwords = new Dictionary<string, string?> { ["PASSWORD_OWNER_A"] = $"secret-{Guid.NewGuid():N}", ["PASSWORD_USER_A"] = $"secret-{Guid.NewGuid():N}" };

        var runs = await Task.WhenAll(Enumerable.Range(0, 4).Select(_ => RunRolesScriptAsync("appdb:owner_a:user_a", server.ConnectionString, passwords)));

        Assert.All(runs, run => Assert.True(run.ExitCode == 0, run.Output));
        var log = await File.ReadAllTextAsync(Path.Combine(server.DataDirectory, "log"));
        Assert.Contains("CREATE TABLE", await LoggedDdlProbeAsync(server, log), StringComparison.Ordinal);
        Assert.All(passwords.Values, password => Assert.DoesNotContain(password!, log, StringComparison.Ordinal));
    }

    /// <summary>The log after a DDL statement of another session: proof that the server does log DDL, so a password would show.</summary>
    private static async Task<string> LoggedDdlProbeAsync(PrivatePostgres server, string before)
    {
        await ExecuteAsync(server.ConnectionString, "CREATE TABLE logged_probe (id int)");
        await Task.Delay(200);
        return (await File.ReadAllTextAsync(Path.Combine(server.DataDirectory, "log")))[before.Length..];
    }

    [Fact]
    public async Task A_rerun_changes_nothing_but_the_passwords_and_a_user_reaches_only_its_own_database()
    {
        var (first, firstOwner, firstUser) = await NewDatabaseAsync();
        var (second, secondOwner, secondUser) = await NewDatabaseAsync();
        var triples = $"{Name(first)}:{firstOwner}:{firstUser} {Name(second)}:{secondOwner}:{secondUser}";
        var run = await RunRolesScriptAsync(triples, firstOwner, firstUser, secondOwner, secondUser);
        Assert.True(run.ExitCode == 0, run.Output);
        var password = await PasswordOfAsync(firstUser);

        var rerun = await RunRolesScriptAsync(triples, firstOwner, firstUser, secondOwner, secondUser);

        Assert.True(rerun.ExitCode == 0, rerun.Output);
        Assert.NotEqual(password, await PasswordOfAsync(firstUser)); // each run sets the password it is given
        foreach (var elsewhere in new[] { As(second, firstUser), new NpgsqlConnectionStringBuilder(As(first, firstUser)) { Database = "postgres" }.ConnectionString })
        {
            var refused = await Assert.ThrowsAsync<PostgresException>(() => ExecuteAsync(elsewhere, "SELECT 1"));
            Assert.Equal(PostgresErrorCodes.InsufficientPrivilege, refused.SqlState);
        }
        Assert.DoesNotContain("password", run.StandardOutput + run.StandardError, StringComparison.OrdinalIgnoreCase);
    }

    [Theory]
    [InlineData("{0}:{1}", "is not database:owner:user")]
    [InlineData("{0}:{1}:{1}", "two different roles")]
    [InlineData("{0}:postgres:{2}", "the superuser this runs as")]
    public async Task Bad_triples_are_refused_before_anything_changes(string triple, string message)
    {
        var (database, owner, user) = await NewDatabaseAsync();

        var run = await RunRolesScriptAsync(string.Format(System.Globalization.CultureInfo.InvariantCulture, triple, Name(database), owner, user), owner, user);

        Assert.Equal(2, run.ExitCode);
        Assert.Contains(message, run.StandardError, StringComparison.Ordinal);
        Assert.Equal(0L, await ScalarAsync(TestSettings.PostgresConnection, $"SELECT count(*) FROM pg_roles WHERE rolname IN ('{owner}', '{user}')"));
        Assert.Equal("postgres", await ScalarAsync(TestSettings.PostgresConnection,
            $"SELECT pg_get_userbyid(datdba) FROM pg_database WHERE datname = '{Name(database)}'"));
    }

    [Fact]
    public async Task A_missing_password_is_named_and_no_role_is_made()
    {
        var (database, owner, user) = await NewDatabaseAsync();

        var run = await RunRolesScriptAsync($"{Name(database)}:{owner}:{user}", owner); // the user's password left out

        Assert.Equal(2, run.ExitCode);
        Assert.Contains($"PASSWORD_{user.ToUpperInvariant()}", run.StandardError, StringComparison.Ordinal);
        Assert.Equal(0L, await ScalarAsync(TestSettings.PostgresConnection, $"SELECT count(*) FROM pg_roles WHERE rolname = '{user}'"));
    }

    [Fact]
    public async Task The_migrate_command_as_a_role_without_schema_rights_fails_with_one_line()
    {
        var (database, owner, user) = await NewDatabaseAsync();
        var roles = await RunRolesScriptAsync($"{Name(database)}:{owner}:{user}", owner, user);
        Assert.True(roles.ExitCode == 0, roles.Output);

        using var migrate = WorkerProcess.Start(new Dictionary<string, string?> { ["ConnectionStrings__appdb"] = As(database, user) }, MigrateCommand.Flag);

        Assert.Equal(1, await migrate.WaitForExitAsync(Timeout));
        Assert.Contains("permission denied", (migrate.StandardOutput + migrate.StandardError), StringComparison.Ordinal);
        Assert.Equal(0L, await ScalarAsync(As(database, "postgres"), "SELECT count(*) FROM pg_tables WHERE schemaname = 'public'"));
    }

    /// <summary>A new database as the superuser made it, and the names of its two roles to be.</summary>
    private static async Task<(string Connection, string Owner, string User)> NewDatabaseAsync()
    {
        var suffix = Guid.NewGuid().ToString("N")[..12];
        return (await TestDatabases.CreateAsync("roles"), $"owner_{suffix}", $"user_{suffix}");
    }

    private static string Name(string connection) => new NpgsqlConnectionStringBuilder(connection).Database!;

    private static string As(string connection, string role) => new NpgsqlConnectionStringBuilder(connection) { Username = role, Pooling = false }.ConnectionString;

    /// <summary>The script as the job runs it on the shared server, with a new password for each of <paramref name="rolesWithPasswords"/>.</summary>
    private static Task<ProcessResult> RunRolesScriptAsync(string triples, params string[] rolesWithPasswords) =>
        RunRolesScriptAsync(triples, TestSettings.PostgresConnection,
            rolesWithPasswords.ToDictionary(role => $"PASSWORD_{role.ToUpperInvariant()}", string? (_) => Guid.NewGuid().ToString("N")));

    /// <summary>The script as the job runs it: sh, psql on PATH, libpq's variables, the passwords as given.</summary>
    private static Task<ProcessResult> RunRolesScriptAsync(string triples, string serverConnection, IReadOnlyDictionary<string, string?> passwords)
    {
        var server = new NpgsqlConnectionStringBuilder(serverConnection);
        var environment = new Dictionary<string, string?>(passwords)
        {
            ["PATH"] = $"{TestSettings.PostgresBinaries}:{Environment.GetEnvironmentVariable("PATH")}",
            ["PGHOST"] = server.Host,
            ["PGPORT"] = server.Port.ToString(System.Globalization.CultureInfo.InvariantCulture),
            ["PGUSER"] = server.Username,
            ["DATABASE_ROLES"] = triples,
        };
        return ProcessRunner.RunAsync("sh", [Repository.PathOf("scripts", "pg-roles.sh")], Timeout, environment);
    }

    private static Task<object?> PasswordOfAsync(string role) =>
        ScalarAsync(TestSettings.PostgresConnection, $"SELECT rolpassword FROM pg_authid WHERE rolname = '{role}'");

    private static async Task ExecuteAsync(string connection, string sql)
    {
        await using var open = new NpgsqlConnection(connection);
        await open.OpenAsync();
        await using var command = new NpgsqlCommand(sql, open);
        await command.ExecuteNonQueryAsync();
    }

    private static async Task<object?> ScalarAsync(string connection, string sql)
    {
        await using var open = new NpgsqlConnection(connection);
        await open.OpenAsync();
        await using var command = new NpgsqlCommand(sql, open);
        return await command.ExecuteScalarAsync();
    }
}

using Npgsql;
using Worker.Orders;
using Worker.Orders.Persistence;

namespace Worker;

/// <summary>
/// <c>Worker --migrate</c>: applies the application schema's missing migrations and exits, for the migration job
/// that connects as the database's owner while the replicas connect as a role with table rights only
/// (docs/security.md, "Database roles"). Waits for PostgreSQL while it is unreachable, up to
/// <c>Database:MigrateTimeoutSeconds</c> (default 120), on a pool of <c>Database:MaxPoolSize</c> (default 1); exit 0 when the schema is current, 1 when it could not be
/// made so (the reason in one line), 2 on a configuration mistake.
/// </summary>
public static partial class MigrateCommand
{
    public const string Flag = "--migrate";

    public static bool IsRequested(string[] args) => args.Length > 0 && args[0] == Flag;

    public static async Task<int> RunAsync(string[] args)
    {
        ArgumentNullException.ThrowIfNull(args);
        var builder = Host.CreateApplicationBuilder(args[1..]);
        builder.ConfigureStructuredLogging();
        using var host = builder.Build();
        var logger = host.Services.GetRequiredService<ILoggerFactory>().CreateLogger(typeof(MigrateCommand).FullName!);
        if (builder.Configuration.GetConnectionString(OrdersHostingExtensions.DatabaseConnectionName) is not { Length: > 0 } connectionString)
        {
            await Console.Error.WriteLineAsync($"Configuration error: ConnectionStrings:{OrdersHostingExtensions.DatabaseConnectionName} is not set.");
            return 2;
        }
        var timeout = TimeSpan.FromSeconds(builder.Configuration.GetValue("Database:MigrateTimeoutSeconds", 120));
        using var cancellation = new CancellationTokenSource(timeout);
        var source = new NpgsqlDataSourceBuilder(connectionString);
        try
        {
            if (DatabaseSslMode.From(builder.Configuration) is { } mode)
            {
                source.ConnectionStringBuilder.SslMode = mode;
            }
        }
        catch (InvalidOperationException e)
        {
            await Console.Error.WriteLineAsync($"Configuration error: {e.Message}");
            return 2;
        }
        // One migration runs on one connection; the deployment declares the job's pool to the connection budget.
        source.ConnectionStringBuilder.MaxPoolSize = builder.Configuration.GetValue("Database:MaxPoolSize", 1);
        await using var dataSource = source.Build();
        var delay = TimeSpan.FromMilliseconds(250);
        while (true)
        {
            try
            {
                var version = await DatabaseSchema.MigrateAsync(dataSource, logger, cancellation.Token);
                LogCurrent(logger, version);
                return 0;
            }
            catch (NpgsqlException e) when (e.IsTransient && !cancellation.IsCancellationRequested)
            {
                LogUnreachable(logger, delay.TotalSeconds, e.Message);
            }
            catch (Exception e) when (e is NpgsqlException or OperationCanceledException)
            {
                // A refused right, a failed statement, or PostgreSQL still unreachable at the deadline: no retry mends it.
                LogFailed(logger, e is OperationCanceledException ? $"PostgreSQL did not answer within {timeout.TotalSeconds} s" : e.Message);
                return 1;
            }
            await Task.Delay(delay, CancellationToken.None);
            delay = TimeSpan.FromTicks(Math.Min(delay.Ticks * 2, TimeSpan.FromSeconds(5).Ticks));
        }
    }

    [LoggerMessage(Level = LogLevel.Information, Message = "Application database schema is at version {Version}")]
    private static partial void LogCurrent(ILogger logger, int version);

    [LoggerMessage(Level = LogLevel.Warning, Message = "PostgreSQL unreachable; retrying in {DelaySeconds}s: {Error}")]
    private static partial void LogUnreachable(ILogger logger, double delaySeconds, string error);

    [LoggerMessage(Level = LogLevel.Error, Message = "Application database schema could not be migrated: {Error}")]
    private static partial void LogFailed(ILogger logger, string error);
}

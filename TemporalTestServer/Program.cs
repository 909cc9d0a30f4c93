namespace TemporalTestServer;

/// <summary>
/// Standalone: <c>dotnet run --project TemporalTestServer -- [--port 7233] [--namespace NAME]... [--time-skipping]</c>,
/// for trying the system with neither a container engine nor the Temporal CLI.
/// </summary>
public static class Program
{
    public static async Task<int> Main(string[] args)
    {
        var options = new TestServerOptions { Port = 7233, TimeSkipping = false };
        for (var i = 0; i < args.Length; i++)
        {
            switch (args[i])
            {
                case "--port" when i + 1 < args.Length:
                    options.Port = int.Parse(args[++i], System.Globalization.CultureInfo.InvariantCulture);
                    break;
                case "--namespace" when i + 1 < args.Length:
                    options.Namespaces.Add(args[++i]);
                    break;
                case "--time-skipping":
                    options.TimeSkipping = true;
                    break;
                default:
                    await Console.Error.WriteLineAsync($"Unknown argument {args[i]}. Usage: [--port 7233] [--namespace NAME]... [--time-skipping]");
                    return 2;
            }
        }

        await using var server = await TemporalTestServer.StartAsync(options);
        Console.WriteLine($"In-memory Temporal TEST server (not Temporal: no persistence, for tests and trials) listening on {server.Address}");
        using var stop = new CancellationTokenSource();
        // Ctrl+C and SIGTERM (kill, docker stop) both stop it cleanly.
        using var sigint = System.Runtime.InteropServices.PosixSignalRegistration.Create(
            System.Runtime.InteropServices.PosixSignal.SIGINT, context => { context.Cancel = true; stop.Cancel(); });
        using var sigterm = System.Runtime.InteropServices.PosixSignalRegistration.Create(
            System.Runtime.InteropServices.PosixSignal.SIGTERM, context => { context.Cancel = true; stop.Cancel(); });
        try
        {
            await Task.Delay(Timeout.Infinite, stop.Token);
        }
        catch (OperationCanceledException)
        {
        }
        return 0;
    }
}

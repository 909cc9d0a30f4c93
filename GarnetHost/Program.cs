using System.Globalization;
using System.Runtime.InteropServices;
using Garnet;
using Garnet.server.Auth.Settings;

namespace GarnetHost;

/// <summary>
/// <c>dotnet GarnetHost.dll --port N --password-file PATH</c>: Garnet on loopback, requiring the password in the file
/// (never on the command line, where any process listing shows it), with Lua scripts on (the worker's cache uses one)
/// and nothing kept (a cache). Stops on SIGTERM or Ctrl+C.
/// </summary>
public static class Program
{
    public static async Task<int> Main(string[] args)
    {
        int? port = null;
        string? passwordFile = null;
        for (var i = 0; i < args.Length; i++)
        {
            switch (args[i])
            {
                case "--port" when i + 1 < args.Length && int.TryParse(args[i + 1], CultureInfo.InvariantCulture, out var p) && p is > 0 and <= 65535:
                    port = p;
                    i++;
                    break;
                case "--password-file" when i + 1 < args.Length:
                    passwordFile = args[++i];
                    break;
                default:
                    await Console.Error.WriteLineAsync($"Unknown or incomplete argument {args[i]}. Usage: --port N --password-file PATH");
                    return 2;
            }
        }
        if (port is null || passwordFile is null || !File.Exists(passwordFile) || (await File.ReadAllTextAsync(passwordFile)).Trim() is not { Length: > 0 } password)
        {
            await Console.Error.WriteLineAsync("Give --port N and --password-file PATH, a file holding the password clients must give.");
            return 2;
        }

        using (var server = Start(port.Value, password))
        {
            Console.WriteLine($"Garnet (Redis-compatible) listening on 127.0.0.1:{port}");

            using var stop = new CancellationTokenSource();
            using var sigint = PosixSignalRegistration.Create(PosixSignal.SIGINT, context => { context.Cancel = true; stop.Cancel(); });
            using var sigterm = PosixSignalRegistration.Create(PosixSignal.SIGTERM, context => { context.Cancel = true; stop.Cancel(); });
            try
            {
                await Task.Delay(Timeout.Infinite, stop.Token);
            }
            catch (OperationCanceledException)
            {
            }
        }
        return 0;
    }

    /// <summary>
    /// Garnet as this program runs it, started: on loopback, requiring <paramref name="password"/>, Lua on, memory only
    /// (no storage tier, no append-only file, no checkpoint), small. Never <c>cleanupDir</c>: Garnet's folders default
    /// to the working directory, which it would delete on the way out.
    /// </summary>
    public static GarnetServer Start(int port, string password)
    {
        string[] options =
        [
            "--port", port.ToString(CultureInfo.InvariantCulture), "--bind", "127.0.0.1", "--lua", "true",
            "--memory", "64m", "--index", "8m", "--logger-level", "Warning",
        ];
        var server = new GarnetServer(options, loggerFactory: null, cleanupDir: false, new PasswordAuthenticationSettings(password));
        server.Start();
        return server;
    }
}

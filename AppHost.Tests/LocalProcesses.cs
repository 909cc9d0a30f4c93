namespace AppHost.Tests;

/// <summary>What process mode leaves on this machine: its state folder, and the processes that run from it.</summary>
internal static class LocalProcesses
{
    /// <summary>A fresh state folder that the postgres user, which the server runs as when the tests run as root, can enter.</summary>
    public static DirectoryInfo CreateStateDirectory()
    {
        var state = Directory.CreateTempSubdirectory("apphost-processes-");
        if (!OperatingSystem.IsWindows())
        {
            state.UnixFileMode = UnixFileMode.UserRead | UnixFileMode.UserWrite | UnixFileMode.UserExecute
                | UnixFileMode.GroupRead | UnixFileMode.GroupExecute | UnixFileMode.OtherRead | UnixFileMode.OtherExecute;
        }
        return state;
    }

    /// <summary>Whether a process with this id runs (a zombie has exited already).</summary>
    public static bool IsRunning(int pid)
    {
        // "123 (postgres) S ...": the state follows the command name.
        var stat = SafeRead($"/proc/{pid}/stat");
        var close = stat.LastIndexOf(')');
        return close > 0 && stat.Length > close + 2 && stat[close + 2] != 'Z';
    }

    /// <summary>The command line of a process, its arguments separated by spaces.</summary>
    public static string CommandLineOf(int pid) => SafeRead($"/proc/{pid}/cmdline");

    /// <summary>The command lines of the running processes that contain <paramref name="text"/>.</summary>
    public static List<string> CommandLinesContaining(string text) =>
        Directory.GetDirectories("/proc")
            .Where(d => int.TryParse(Path.GetFileName(d), out var pid) && IsRunning(pid))
            .Select(d => SafeRead(Path.Combine(d, "cmdline")))
            .Where(c => c.Contains(text, StringComparison.Ordinal))
            .ToList();

    private static string SafeRead(string path)
    {
        try
        {
            return File.ReadAllText(path).Replace('\0', ' ');
        }
        catch (IOException)
        {
            return ""; // a process that ended while the directory was read
        }
        catch (UnauthorizedAccessException)
        {
            return "";
        }
    }
}

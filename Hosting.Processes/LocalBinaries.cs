using System.Runtime.InteropServices;

namespace Aspire.Hosting.Processes;

/// <summary>
/// Finds the server programs a process-mode model runs: on <c>PATH</c>, then where the usual packages install
/// them (Debian/Ubuntu keep PostgreSQL under <c>/usr/lib/postgresql/&lt;version&gt;/bin</c>, off <c>PATH</c>).
/// </summary>
public static class LocalBinaries
{
    /// <summary>A program the model needs, how to find it, and how to install it.</summary>
    /// <param name="Program">The executable's file name, without extension.</param>
    /// <param name="Package">What provides it, for the message.</param>
    /// <param name="Install">The install command per system: Debian/Ubuntu, macOS Homebrew, Windows.</param>
    /// <param name="UsualDirectories">Directory patterns (one <c>*</c> allowed, newest version first) searched after <c>PATH</c>.</param>
    /// <param name="Beside">Programs that must sit in the same directory (PostgreSQL's <c>initdb</c>).</param>
    public sealed record Requirement(string Program, string Package, string Install, IReadOnlyList<string> UsualDirectories, IReadOnlyList<string>? Beside = null);

    /// <summary>PostgreSQL's server, found with <c>initdb</c> beside it.</summary>
    public static readonly Requirement Postgres = new("postgres", "PostgreSQL 13-16",
        "Debian/Ubuntu: sudo apt-get install postgresql; macOS: brew install postgresql@16; Windows: winget install PostgreSQL.PostgreSQL.16",
        ["/usr/lib/postgresql/*/bin", "/opt/homebrew/opt/postgresql@16/bin", "/usr/local/opt/postgresql@16/bin", @"C:\Program Files\PostgreSQL\*\bin"],
        Beside: ["initdb"]);

    /// <summary>Redis's server.</summary>
    public static readonly Requirement Redis = new("redis-server", "Redis",
        "Debian/Ubuntu: sudo apt-get install redis-server; macOS: brew install redis; Windows: use WSL (Redis ships no Windows build)",
        ["/usr/bin", "/opt/homebrew/bin", "/usr/local/bin"]);

    /// <summary>The Temporal CLI (optional: without it a model may fall back to a stand-in).</summary>
    public static readonly Requirement TemporalCli = new("temporal", "the Temporal CLI",
        "Debian/Ubuntu: see https://docs.temporal.io/cli#install; macOS: brew install temporal; Windows: winget install Temporal.TemporalCLI",
        ["/opt/homebrew/bin", "/usr/local/bin"]);

    /// <summary>
    /// The full path of <paramref name="requirement"/>'s program, or null. <paramref name="directories"/>, when
    /// given, replace <c>PATH</c> and the usual locations (a machine with its own layout names them in configuration).
    /// </summary>
    public static string? Find(Requirement requirement, IReadOnlyList<string>? directories = null)
    {
        ArgumentNullException.ThrowIfNull(requirement);
        var candidates = directories ?? [.. (Environment.GetEnvironmentVariable("PATH") ?? "").Split(Path.PathSeparator), .. requirement.UsualDirectories.SelectMany(Expand)];
        return candidates.Where(d => d.Length > 0)
            .FirstOrDefault(d => File.Exists(Path.Combine(d, Executable(requirement.Program)))
                && (requirement.Beside ?? []).All(b => File.Exists(Path.Combine(d, Executable(b)))))
            is { } directory ? Path.Combine(directory, Executable(requirement.Program)) : null;
    }

    private static string Executable(string program) =>
        RuntimeInformation.IsOSPlatform(OSPlatform.Windows) ? program + ".exe" : program;

    /// <summary>A version folder's number, so that 16 comes before 9.6 when the newest is wanted.</summary>
    private static double VersionOf(string directory) =>
        double.TryParse(Path.GetFileName(directory), System.Globalization.NumberStyles.Float, System.Globalization.CultureInfo.InvariantCulture, out var v) ? v : 0;

    private static IEnumerable<string> Expand(string pattern)
    {
        var star = pattern.IndexOf('*', StringComparison.Ordinal);
        if (star < 0)
        {
            return [pattern];
        }
        var root = Path.GetDirectoryName(pattern[..(star + 1)])!;
        var rest = pattern[(star + 1)..].TrimStart('/', '\\');
        return Directory.Exists(root)
            ? Directory.GetDirectories(root).OrderByDescending(VersionOf).Select(d => Path.Combine(d, rest))
            : [];
    }
}

namespace Worker.Image.Tests;

/// <summary>
/// The instructions of a Dockerfile, as far as the image's configuration goes: continuation lines joined,
/// comments dropped, ARG defaults substituted into FROM. Enough for Worker/Dockerfile, not a full parser
/// (no heredocs, no escape directive, no quoted ENV values).
/// </summary>
public sealed class Dockerfile
{
    private Dockerfile(IReadOnlyList<Instruction> instructions) => Instructions = instructions;

    public sealed record Instruction(string Keyword, string Arguments);

    public IReadOnlyList<Instruction> Instructions { get; }

    /// <summary>Global ARGs (before the first FROM) and their defaults.</summary>
    public IReadOnlyDictionary<string, string> ArgDefaults =>
        Instructions.TakeWhile(i => i.Keyword != "FROM").Where(i => i.Keyword == "ARG")
            .Select(i => i.Arguments.Split('=', 2))
            .ToDictionary(p => p[0].Trim(), p => p.Length > 1 ? p[1].Trim() : "");

    /// <summary>The instructions of the last stage, the image that ships (from its FROM on).</summary>
    public IReadOnlyList<Instruction> FinalStage =>
        Instructions.Skip(Instructions.Select((i, n) => (i, n)).Last(x => x.i.Keyword == "FROM").n).ToList();

    /// <summary>The final stage's base image, ARG defaults substituted.</summary>
    public string FinalBaseImage => Substitute(FinalStage[0].Arguments.Split(' ')[0]);

    /// <summary>The base image of the stage named <paramref name="stage"/>, ARG defaults substituted.</summary>
    public string BaseImageOf(string stage) =>
        Substitute(Instructions.Single(i => i.Keyword == "FROM" && i.Arguments.EndsWith($" AS {stage}", StringComparison.OrdinalIgnoreCase))
            .Arguments.Split(' ')[0]);

    /// <summary>The single argument of the final stage's only <paramref name="keyword"/> instruction.</summary>
    public string Only(string keyword) => FinalStage.Single(i => i.Keyword == keyword).Arguments;

    /// <summary>Every KEY=VALUE of the final stage's ENV instructions.</summary>
    public IReadOnlyDictionary<string, string> Environment =>
        FinalStage.Where(i => i.Keyword == "ENV")
            .SelectMany(i => i.Arguments.Split(' ', StringSplitOptions.RemoveEmptyEntries))
            .Select(pair => pair.Split('=', 2))
            .ToDictionary(p => p[0], p => p[1]);

    /// <summary>The final stage's ENTRYPOINT in exec (JSON) form; null in shell form.</summary>
    public IReadOnlyList<string>? Entrypoint => ExecForm(Only("ENTRYPOINT"));

    /// <summary>The final stage's HEALTHCHECK: its options (--interval=10s ...) and its CMD in exec form.</summary>
    public (IReadOnlyDictionary<string, string> Options, IReadOnlyList<string>? Command) HealthCheck
    {
        get
        {
            var text = Only("HEALTHCHECK");
            var cmd = text.IndexOf("CMD ", StringComparison.Ordinal);
            var options = text[..Math.Max(cmd, 0)].Split(' ', StringSplitOptions.RemoveEmptyEntries)
                .Select(o => o.TrimStart('-').Split('=', 2)).ToDictionary(p => p[0], p => p[1]);
            return (options, cmd < 0 ? null : ExecForm(text[(cmd + 4)..]));
        }
    }

    public static Dockerfile Load(string path) => Parse(File.ReadAllText(path));

    public static Dockerfile Parse(string text)
    {
        var instructions = new List<Instruction>();
        var current = "";
        foreach (var raw in text.Split('\n'))
        {
            var line = raw.TrimEnd('\r');
            if (line.TrimStart().StartsWith('#'))
            {
                continue;
            }
            if (line.EndsWith('\\'))
            {
                current += line[..^1].Trim() + " ";
                continue;
            }
            current += line.Trim();
            if (current.Length > 0)
            {
                var parts = current.Split(' ', 2);
                instructions.Add(new Instruction(parts[0].ToUpperInvariant(), parts.Length > 1 ? parts[1].Trim() : ""));
            }
            current = "";
        }
        return new Dockerfile(instructions);
    }

    private string Substitute(string value)
    {
        foreach (var (name, defaultValue) in ArgDefaults)
        {
            value = value.Replace($"${{{name}}}", defaultValue, StringComparison.Ordinal).Replace($"${name}", defaultValue, StringComparison.Ordinal);
        }
        return value;
    }

    private static string[]? ExecForm(string text) =>
        text.TrimStart().StartsWith('[') ? JsonSerializer.Deserialize<string[]>(text) : null;
}

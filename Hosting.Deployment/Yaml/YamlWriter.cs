using System.Globalization;
using System.Text;
using System.Text.Json;
using System.Text.RegularExpressions;

namespace Aspire.Hosting.Deployment.Yaml;

/// <summary>Writes <see cref="YamlNode"/> documents in block style, two-space indents, quoting only what needs it.</summary>
internal static partial class YamlWriter
{
    public static string Write(params YamlNode[] documents) => Write((IEnumerable<YamlNode>)documents);

    public static string Write(IEnumerable<YamlNode> documents)
    {
        var text = new StringBuilder();
        var first = true;
        foreach (var document in documents)
        {
            if (!first)
            {
                text.Append("---\n");
            }
            first = false;
            WriteDocument(text, document);
        }
        return text.ToString();
    }

    /// <summary>A list as a whole document (a JSON patch's operations, say).</summary>
    public static string WriteList(Seq items)
    {
        var text = new StringBuilder();
        WriteSeq(text, items, 0);
        return text.ToString();
    }

    private static void WriteDocument(StringBuilder text, YamlNode document)
    {
        switch (document)
        {
            case Conditional { Else: null } conditional:
                text.Append("{{- if ").Append(conditional.Condition).Append(" }}\n");
                WriteDocument(text, conditional.Then);
                text.Append("{{- end }}\n");
                break;
            case Map map:
                WriteMap(text, map, 0);
                break;
            default:
                throw new InvalidOperationException("A document is a map.");
        }
    }

    private static void WriteMap(StringBuilder text, Map map, int indent)
    {
        var pad = new string(' ', indent);
        foreach (var (key, value) in map)
        {
            if (value is Conditional conditional)
            {
                WriteConditional(text, conditional, indent, (t, node) => WriteMap(t, (Map)node, indent));
                continue;
            }
            text.Append(pad).Append(Key(key)).Append(':');
            WriteValue(text, value, indent);
        }
    }

    private static void WriteConditional(StringBuilder text, Conditional conditional, int indent, Action<StringBuilder, YamlNode> write)
    {
        var pad = new string(' ', indent);
        text.Append(pad).Append("{{- if ").Append(conditional.Condition).Append(" }}\n");
        write(text, conditional.Then);
        if (conditional.Else is { } otherwise)
        {
            text.Append(pad).Append("{{- else }}\n");
            write(text, otherwise);
        }
        text.Append(pad).Append("{{- end }}\n");
    }

    /// <summary>Writes what follows <c>key:</c> (or <c>- </c>), the value's own lines indented under <paramref name="indent"/>.</summary>
    private static void WriteValue(StringBuilder text, YamlNode value, int indent)
    {
        switch (value)
        {
            case Map { Count: 0 }:
                text.Append(" {}\n");
                break;
            case Map map:
                text.Append('\n');
                WriteMap(text, map, indent + 2);
                break;
            case Seq { Count: 0 }:
                text.Append(" []\n");
                break;
            case Seq seq:
                text.Append('\n');
                WriteSeq(text, seq, indent + 2);
                break;
            case TemplateBlock block:
                text.Append('\n').Append(' ', indent + 2).Append("{{- ").Append(block.Expression)
                    .Append(" | nindent ").Append(indent + 2).Append(" }}\n");
                break;
            case Template template:
                text.Append(" {{ ").Append(template.Expression).Append(" }}\n");
                break;
            case Scalar scalar:
                WriteScalar(text, scalar.Value, indent);
                break;
            default:
                throw new InvalidOperationException($"{value.GetType().Name} is not a value.");
        }
    }

    private static void WriteSeq(StringBuilder text, Seq seq, int indent)
    {
        var pad = new string(' ', indent);
        foreach (var item in seq)
        {
            if (item is Conditional conditional)
            {
                WriteConditional(text, conditional, indent, (t, node) => WriteSeq(t, (Seq)node, indent));
                continue;
            }
            if (item is Map { Count: > 0 } map)
            {
                // "- " then the map's entries two further in: the first entry on the dash's line.
                var nested = new StringBuilder();
                WriteMap(nested, map, indent + 2);
                var lines = nested.ToString();
                if (lines.TrimStart().StartsWith("{{", StringComparison.Ordinal))
                {
                    text.Append(pad).Append("-\n").Append(lines);
                }
                else
                {
                    text.Append(pad).Append("- ").Append(lines.AsSpan(indent + 2));
                }
                continue;
            }
            text.Append(pad).Append('-');
            WriteValue(text, item, indent);
        }
    }

    private static void WriteScalar(StringBuilder text, object value, int indent)
    {
        switch (value)
        {
            case bool b:
                text.Append(b ? " true\n" : " false\n");
                return;
            case int or long or double:
                text.Append(' ').Append(Convert.ToString(value, CultureInfo.InvariantCulture)).Append('\n');
                return;
            case string s when s.Contains('\n', StringComparison.Ordinal):
                // A script or a file: a literal block, kept exactly ("|-" when it has no final newline).
                text.Append(s.EndsWith('\n') ? " |\n" : " |-\n");
                foreach (var line in s.TrimEnd('\n').Split('\n'))
                {
                    text.Append(line.Length == 0 ? "" : new string(' ', indent + 2) + line).Append('\n');
                }
                return;
            case string s:
                text.Append(' ').Append(Quote(s)).Append('\n');
                return;
            default:
                throw new InvalidOperationException($"{value.GetType().Name} is not a scalar.");
        }
    }

    private static string Key(string key) => Quote(key);

    /// <summary>Plain when YAML reads it back as the same string; otherwise a JSON string (valid YAML).</summary>
    public static string Quote(string value) =>
        Plain().IsMatch(value) && !Ambiguous().IsMatch(value) ? value : JsonSerializer.Serialize(value, Json);

    // Readable quoting: only what JSON must escape (a quote stays \", not \u0022).
    private static readonly JsonSerializerOptions Json = new() { Encoder = System.Text.Encodings.Web.JavaScriptEncoder.UnsafeRelaxedJsonEscaping };

    [GeneratedRegex(@"^[A-Za-z0-9_/.][A-Za-z0-9_./@=+,\-]*(:[A-Za-z0-9_./@=+,\-]+)*$")]
    private static partial Regex Plain();

    // Strings YAML would read as something else: booleans, nulls, numbers (YAML 1.1 included), and "x:y" sexagesimals.
    [GeneratedRegex(@"^(y|n|yes|no|on|off|true|false|null|~|[-+]?(\.?\d[\d_]*(\.\d*)?([eE][-+]?\d+)?|0x[0-9a-fA-F]+|0o?[0-7]+|\.inf|\.nan)|\d+(:\d+)+)$", RegexOptions.IgnoreCase)]
    private static partial Regex Ambiguous();
}

using System.Globalization;
using System.Text;
using System.Text.Json;
using System.Text.RegularExpressions;

namespace Aspire.Hosting.Deployment.Yaml;

/// <summary>
/// Writes <see cref="YamlNode"/> documents in block style, two-space indents, quoting only what needs it: the one
/// path every generated YAML document goes through. <see cref="Write(YamlNode[])"/> writes plain YAML (Compose,
/// Kustomize) and refuses Helm nodes; <see cref="WriteTemplate(YamlNode[])"/> writes a Helm template, where literal
/// text is also escaped for Helm (a <c>{{</c> becomes <c>{{ "{{" }}</c>) so only the nodes meant as expressions are.
/// </summary>
public sealed partial class YamlWriter
{
    private readonly StringBuilder text = new();
    private readonly bool helm;

    // Where a literal block that ends with a line break was last written: Helm trims the end of every document it
    // renders, which would take that line break with it unless something follows.
    private int keptLineBreakAt = -1;

    private YamlWriter(bool helm) => this.helm = helm;

    /// <summary>Plain YAML documents, separated by <c>---</c>.</summary>
    public static string Write(params YamlNode[] documents) => new YamlWriter(helm: false).Documents(documents);

    /// <summary>Plain YAML documents, separated by <c>---</c>.</summary>
    public static string Write(IEnumerable<YamlNode> documents) => new YamlWriter(helm: false).Documents(documents);

    /// <summary>Documents of a Helm template, separated by <c>---</c>.</summary>
    public static string WriteTemplate(params YamlNode[] documents) => new YamlWriter(helm: true).Documents(documents);

    /// <summary>Documents of a Helm template, separated by <c>---</c>.</summary>
    public static string WriteTemplate(IEnumerable<YamlNode> documents) => new YamlWriter(helm: true).Documents(documents);

    /// <summary>A list as a whole plain document (a JSON patch's operations, say).</summary>
    public static string WriteList(Seq items)
    {
        var writer = new YamlWriter(helm: false);
        writer.WriteSeq(items, 0);
        return writer.text.ToString();
    }

    private string Documents(IEnumerable<YamlNode> documents)
    {
        var first = true;
        foreach (var document in documents)
        {
            if (!first)
            {
                text.Append("---\n");
            }
            first = false;
            WriteDocument(document);
        }
        return text.ToString();
    }

    private void WriteDocument(YamlNode document)
    {
        switch (document)
        {
            case Conditional { Else: null } conditional:
                RequireHelm(conditional);
                text.Append("{{- if ").Append(conditional.Condition).Append(" }}\n");
                WriteDocument(conditional.Then);
                text.Append("{{- end }}\n");
                break;
            case Map map:
                WriteMap(map, 0);
                if (helm && keptLineBreakAt == text.Length)
                {
                    text.Append("# (ends the block above, whose last line break Helm would trim with the document's end)\n");
                }
                break;
            default:
                throw new InvalidOperationException("A document is a map.");
        }
    }

    private void WriteMap(Map map, int indent)
    {
        var pad = new string(' ', indent);
        foreach (var (key, value) in map)
        {
            switch (value)
            {
                case Conditional conditional:
                    WriteConditional(conditional, indent, node => WriteMap((Map)node, indent));
                    continue;
                case TemplateEntries entries:
                    RequireHelm(entries);
                    text.Append(pad).Append("{{- with ").Append(entries.Expression).Append(" }}\n")
                        .Append(pad).Append("{{- toYaml . | nindent ").Append(indent).Append(" }}\n")
                        .Append(pad).Append("{{- end }}\n");
                    continue;
                case TemplateAction action:
                    RequireHelm(action);
                    text.Append(pad).Append("{{- ").Append(action.Action).Append(" }}\n");
                    continue;
            }
            text.Append(pad).Append(Literal(Quote(key))).Append(':');
            WriteValue(value, indent);
        }
    }

    private void WriteConditional(Conditional conditional, int indent, Action<YamlNode> write)
    {
        RequireHelm(conditional);
        var pad = new string(' ', indent);
        text.Append(pad).Append("{{- if ").Append(conditional.Condition).Append(" }}\n");
        write(conditional.Then);
        if (conditional.Else is { } otherwise)
        {
            text.Append(pad).Append("{{- else }}\n");
            write(otherwise);
        }
        text.Append(pad).Append("{{- end }}\n");
    }

    /// <summary>Writes what follows <c>key:</c> (or <c>- </c>), the value's own lines indented under <paramref name="indent"/>.</summary>
    private void WriteValue(YamlNode value, int indent)
    {
        switch (value)
        {
            case Map { Count: 0 }:
                text.Append(" {}\n");
                break;
            case Map map:
                text.Append('\n');
                WriteMap(map, indent + 2);
                break;
            case Seq { Count: 0 }:
                text.Append(" []\n");
                break;
            case Seq seq:
                text.Append('\n');
                WriteSeq(seq, indent + 2);
                break;
            case TemplateBlock block:
                RequireHelm(block);
                text.Append('\n').Append(' ', indent + 2).Append("{{- ").Append(block.Expression)
                    .Append(" | nindent ").Append(indent + 2).Append(" }}\n");
                break;
            case Template template:
                RequireHelm(template);
                text.Append(" {{ ").Append(template.Expression).Append(" }}\n");
                break;
            case Interpolation interpolation:
                RequireHelm(interpolation);
                text.Append(" {{ ").Append(Printf(interpolation)).Append(" | quote }}\n");
                break;
            case EmbeddedYaml embedded:
                text.Append('\n');
                foreach (var line in embedded.Text.ReplaceLineEndings("\n").TrimEnd('\n').Split('\n').SkipWhile(l => l.StartsWith('#')))
                {
                    text.Append(line.Length == 0 ? "" : new string(' ', indent + 2) + Literal(line)).Append('\n');
                }
                break;
            case Scalar scalar:
                WriteScalar(scalar.Value, indent);
                break;
            default:
                throw new InvalidOperationException($"{value.GetType().Name} is not a value.");
        }
    }

    private void WriteSeq(Seq seq, int indent)
    {
        var pad = new string(' ', indent);
        foreach (var item in seq)
        {
            if (item is Conditional conditional)
            {
                WriteConditional(conditional, indent, node => WriteSeq((Seq)node, indent));
                continue;
            }
            if (item is Map { Count: > 0 } map)
            {
                // "- " then the map's entries two further in: the first entry on the dash's line.
                var nested = new YamlWriter(helm);
                nested.WriteMap(map, indent + 2);
                var lines = nested.text.ToString();
                var keptAt = nested.keptLineBreakAt == nested.text.Length;
                if (lines.TrimStart().StartsWith("{{", StringComparison.Ordinal))
                {
                    text.Append(pad).Append("-\n").Append(lines);
                }
                else
                {
                    text.Append(pad).Append("- ").Append(lines.AsSpan(indent + 2));
                }
                keptLineBreakAt = keptAt ? text.Length : keptLineBreakAt;
                continue;
            }
            text.Append(pad).Append('-');
            WriteValue(item, indent);
        }
    }

    private void WriteScalar(object value, int indent)
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
                    text.Append(line.Length == 0 ? "" : new string(' ', indent + 2) + Literal(line)).Append('\n');
                }
                keptLineBreakAt = s.EndsWith('\n') ? text.Length : -1;
                return;
            case string s:
                text.Append(' ').Append(Literal(Quote(s))).Append('\n');
                return;
            default:
                throw new InvalidOperationException($"{value.GetType().Name} is not a scalar.");
        }
    }

    /// <summary>Literal text as it must stand in the output: in a Helm template, its <c>{{</c> made literal for Helm.</summary>
    private string Literal(string yaml) =>
        helm && yaml.Contains("{{", StringComparison.Ordinal) ? yaml.Replace("{{", "{{ \"{{\" }}", StringComparison.Ordinal) : yaml;

    private void RequireHelm(YamlNode node)
    {
        if (!helm)
        {
            throw new InvalidOperationException($"A {node.GetType().Name} belongs in a Helm template only.");
        }
    }

    /// <summary><c>printf "literal%vliteral" expr…</c>: the literal parts as one Go string, each expression an argument.</summary>
    private static string Printf(Interpolation interpolation)
    {
        if (interpolation.Parts is [{ IsExpression: true } only])
        {
            return only.Text;
        }
        var format = new StringBuilder();
        var arguments = new StringBuilder();
        foreach (var part in interpolation.Parts)
        {
            if (part.IsExpression)
            {
                format.Append("%v");
                arguments.Append(part.Text.Contains(' ', StringComparison.Ordinal) ? $" ({part.Text})" : $" {part.Text}");
            }
            else
            {
                format.Append(part.Text.Replace("%", "%%", StringComparison.Ordinal));
            }
        }
        // A JSON string is a Go string literal too (the same escapes for quotes, backslashes and control characters).
        return "printf " + JsonSerializer.Serialize(format.ToString(), Json) + arguments;
    }

    /// <summary>Plain when YAML reads it back as the same string; otherwise a JSON string (valid YAML).</summary>
    public static string Quote(string value) =>
        Plain().IsMatch(value) && !Ambiguous().IsMatch(value) ? value : JsonSerializer.Serialize(value, Json);

    // Readable quoting: only what JSON must escape (a quote stays \", not \u0022).
    private static readonly JsonSerializerOptions Json = new() { Encoder = System.Text.Encodings.Web.JavaScriptEncoder.UnsafeRelaxedJsonEscaping };

    [GeneratedRegex(@"^[A-Za-z0-9_/.$][A-Za-z0-9_./@=+,$\-]*(:[A-Za-z0-9_./@=+,$\-]+)*$")]
    private static partial Regex Plain();

    // Strings YAML would read as something else: booleans, nulls, numbers (YAML 1.1 included), and "x:y" sexagesimals.
    [GeneratedRegex(@"^(y|n|yes|no|on|off|true|false|null|~|[-+]?(\.?\d[\d_]*(\.\d*)?([eE][-+]?\d+)?|0x[0-9a-fA-F]+|0o?[0-7]+|\.inf|\.nan)|\d+(:\d+)+)$", RegexOptions.IgnoreCase)]
    private static partial Regex Ambiguous();
}

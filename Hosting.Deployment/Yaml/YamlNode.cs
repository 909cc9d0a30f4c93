using System.Collections;

namespace Aspire.Hosting.Deployment.Yaml;

/// <summary>
/// A YAML document as the outputs build it: ordered maps, lists and scalars, plus what a Helm template adds (an
/// expression in place of a value, a conditional entry, a block rendered from values). Every document of every
/// output is written by <see cref="YamlWriter"/>, which quotes and escapes for YAML, and for Helm's template layer in
/// a template, so no output builds YAML as text.
/// </summary>
public abstract class YamlNode;

/// <summary>A string, number or boolean: literal, also in a Helm template (a <c>{{</c> in it is escaped there).</summary>
public sealed class Scalar(object value) : YamlNode
{
    /// <summary>The value: a string, an <see cref="int"/>, a <see cref="long"/>, a <see cref="double"/> or a <see cref="bool"/>.</summary>
    public object Value { get; } = value;

    /// <summary>A string scalar.</summary>
    public static implicit operator Scalar(string value) => new((object)value);
}

/// <summary>A Helm expression in place of a value: written as <c>{{ Expression }}</c>.</summary>
public sealed class Template(string expression) : YamlNode
{
    /// <summary>The expression, without braces.</summary>
    public string Expression { get; } = expression;
}

/// <summary>
/// A string made of literal text and Helm expressions (<c>Endpoint=</c> and <c>.Values.temporal.frontendAddress</c>):
/// written as one expression quoted by Helm (<c>{{ printf "Endpoint=%v" … | quote }}</c>), so whatever a value holds
/// (a quote, a backslash, a newline) stays inside the string.
/// </summary>
public sealed class Interpolation(IReadOnlyList<InterpolationPart> parts) : YamlNode
{
    /// <summary>The parts, in order.</summary>
    public IReadOnlyList<InterpolationPart> Parts { get; } = parts;
}

/// <summary>A part of an <see cref="Interpolation"/>: literal text, or a Helm expression when <paramref name="IsExpression"/>.</summary>
public sealed record InterpolationPart(string Text, bool IsExpression);

/// <summary>A Helm expression rendering a whole block, written on its own line: <c>{{- Expression | nindent n }}</c>.</summary>
public sealed class TemplateBlock(string expression) : YamlNode
{
    /// <summary>The expression, without braces and without the indentation.</summary>
    public string Expression { get; } = expression;
}

/// <summary>Entries or items written only when a Helm condition holds (<c>{{- if Condition }}</c>), with an optional else.</summary>
public sealed class Conditional(string condition, YamlNode then, YamlNode? otherwise = null) : YamlNode
{
    /// <summary>The Helm condition, without braces.</summary>
    public string Condition { get; } = condition;

    /// <summary>What is written when it holds (a <see cref="Map"/> of entries in a map, a <see cref="Seq"/> of items in a list, or a document).</summary>
    public YamlNode Then { get; } = then;

    /// <summary>What is written otherwise.</summary>
    public YamlNode? Else { get; } = otherwise;
}

/// <summary>
/// Entries of a map rendered by Helm from a value that is itself a map, when it is not empty:
/// <c>{{- with Expression }}{{- toYaml . | nindent n }}{{- end }}</c> (extra labels, say).
/// </summary>
public sealed class TemplateEntries(string expression) : YamlNode
{
    /// <summary>The expression giving the map.</summary>
    public string Expression { get; } = expression;
}

/// <summary>A Helm action written on its own line before a document's entries (<c>{{- $x := … }}</c>).</summary>
public sealed class TemplateAction(string action) : YamlNode
{
    /// <summary>The action, without braces.</summary>
    public string Action { get; } = action;
}

/// <summary>
/// A YAML block given as text (a rule file that its own tools check): written as it is, indented under its key, its
/// comment lines before the first content left out.
/// </summary>
public sealed class EmbeddedYaml(string text) : YamlNode
{
    /// <summary>The YAML text.</summary>
    public string Text { get; } = text;
}

/// <summary>An ordered map; <see cref="If"/> adds entries written only when a Helm condition holds.</summary>
public sealed class Map : YamlNode, IEnumerable<KeyValuePair<string, YamlNode>>
{
    private readonly List<KeyValuePair<string, YamlNode>> entries = [];
    private int templated;

    /// <summary>The number of entries, conditional ones included.</summary>
    public int Count => entries.Count;

    /// <summary>The entry's value, or null; setting null removes it.</summary>
    public YamlNode? this[string key]
    {
        get => entries.FirstOrDefault(e => e.Key == key).Value;
        set
        {
            var at = entries.FindIndex(e => e.Key == key);
            if (value is null)
            {
                if (at >= 0)
                {
                    entries.RemoveAt(at);
                }
            }
            else if (at >= 0)
            {
                entries[at] = new(key, value);
            }
            else
            {
                entries.Add(new(key, value));
            }
        }
    }

    /// <summary>Adds or replaces an entry; a null value adds nothing.</summary>
    public void Add(string key, YamlNode? value)
    {
        if (value is not null)
        {
            this[key] = value;
        }
    }

    /// <summary>Adds or replaces a string entry.</summary>
    public void Add(string key, string value) => this[key] = new Scalar(value);

    /// <summary>Adds or replaces an integer entry.</summary>
    public void Add(string key, int value) => this[key] = new Scalar(value);

    /// <summary>Adds or replaces an integer entry.</summary>
    public void Add(string key, long value) => this[key] = new Scalar(value);

    /// <summary>Adds or replaces a boolean entry.</summary>
    public void Add(string key, bool value) => this[key] = new Scalar(value);

    /// <summary>Entries written only when <paramref name="condition"/> holds in a Helm template.</summary>
    public void If(string condition, Map then, Map? otherwise = null) => AddTemplated(new Conditional(condition, then, otherwise));

    /// <summary>Entries Helm renders from a map value (see <see cref="TemplateEntries"/>).</summary>
    public void With(string expression) => AddTemplated(new TemplateEntries(expression));

    /// <summary>A Helm action written before the map's entries that follow (see <see cref="TemplateAction"/>).</summary>
    public void Action(string action) => AddTemplated(new TemplateAction(action));

    // Templated entries have no key of their own: a key no YAML key can be keeps them apart and in order.
    private void AddTemplated(YamlNode node) => entries.Add(new($"\0{templated++}", node));

    /// <inheritdoc />
    public IEnumerator<KeyValuePair<string, YamlNode>> GetEnumerator() => entries.GetEnumerator();

    IEnumerator IEnumerable.GetEnumerator() => GetEnumerator();
}

/// <summary>A list; a <see cref="Conditional"/> item holds a <see cref="Seq"/> of items.</summary>
public sealed class Seq : YamlNode, IEnumerable<YamlNode>
{
    private readonly List<YamlNode> items = [];

    /// <summary>An empty list.</summary>
    public Seq()
    {
    }

    /// <summary>A list of these items.</summary>
    public Seq(IEnumerable<YamlNode> items) => this.items.AddRange(items);

    /// <summary>The number of items, conditional ones included.</summary>
    public int Count => items.Count;

    /// <summary>Adds an item.</summary>
    public void Add(YamlNode item) => items.Add(item);

    /// <summary>Adds a string item.</summary>
    public void Add(string item) => items.Add(new Scalar(item));

    /// <summary>A list of strings.</summary>
    public static Seq Of(IEnumerable<string> items) => new(items.Select(i => (YamlNode)new Scalar(i)));

    /// <inheritdoc />
    public IEnumerator<YamlNode> GetEnumerator() => items.GetEnumerator();

    IEnumerator IEnumerable.GetEnumerator() => GetEnumerator();
}

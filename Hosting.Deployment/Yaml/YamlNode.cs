using System.Collections;

namespace Aspire.Hosting.Deployment.Yaml;

/// <summary>
/// A YAML document as the outputs build it: ordered maps, lists and scalars, plus the two things a Helm template
/// adds (an expression in place of a value, and a conditional entry). YamlDotNet emits YAML but not templates, so
/// one small writer (<see cref="YamlWriter"/>) serves Compose, Kustomize and Helm alike and keeps their formatting one.
/// </summary>
internal abstract class YamlNode;

/// <summary>A string, number or boolean.</summary>
internal sealed class Scalar(object value) : YamlNode
{
    public object Value { get; } = value;

    public static implicit operator Scalar(string value) => new((object)value);
}

/// <summary>A Helm expression in place of a value: written as <c>{{ Expression }}</c>.</summary>
internal sealed class Template(string expression) : YamlNode
{
    public string Expression { get; } = expression;
}

/// <summary>A Helm expression rendering a whole block, written on its own line: <c>{{- toYaml … | nindent n }}</c>.</summary>
internal sealed class TemplateBlock(string expression) : YamlNode
{
    public string Expression { get; } = expression;
}

/// <summary>Entries or items written only when a Helm condition holds (<c>{{- if Condition }}</c>), with an optional else.</summary>
internal sealed class Conditional(string condition, YamlNode then, YamlNode? otherwise = null) : YamlNode
{
    public string Condition { get; } = condition;

    public YamlNode Then { get; } = then;

    public YamlNode? Else { get; } = otherwise;
}

/// <summary>An ordered map; a <see cref="Conditional"/> entry (any key) holds a <see cref="Map"/> of entries.</summary>
internal sealed class Map : YamlNode, IEnumerable<KeyValuePair<string, YamlNode>>
{
    private readonly List<KeyValuePair<string, YamlNode>> entries = [];
    private int conditionals;

    public int Count => entries.Count;

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

    public void Add(string key, YamlNode? value)
    {
        if (value is not null)
        {
            this[key] = value;
        }
    }

    public void Add(string key, string value) => this[key] = new Scalar(value);

    public void Add(string key, int value) => this[key] = new Scalar(value);

    public void Add(string key, long value) => this[key] = new Scalar(value);

    public void Add(string key, bool value) => this[key] = new Scalar(value);

    /// <summary>Entries written only when <paramref name="condition"/> holds in a Helm template.</summary>
    public void If(string condition, Map then, Map? otherwise = null) =>
        entries.Add(new($"\0if{conditionals++}", new Conditional(condition, then, otherwise)));

    public IEnumerator<KeyValuePair<string, YamlNode>> GetEnumerator() => entries.GetEnumerator();

    IEnumerator IEnumerable.GetEnumerator() => GetEnumerator();
}

/// <summary>A list; a <see cref="Conditional"/> item holds a <see cref="Seq"/> of items.</summary>
internal sealed class Seq : YamlNode, IEnumerable<YamlNode>
{
    private readonly List<YamlNode> items = [];

    public Seq()
    {
    }

    public Seq(IEnumerable<YamlNode> items) => this.items.AddRange(items);

    public int Count => items.Count;

    public void Add(YamlNode item) => items.Add(item);

    public void Add(string item) => items.Add(new Scalar(item));

    public static Seq Of(IEnumerable<string> items) => new(items.Select(i => (YamlNode)new Scalar(i)));

    public IEnumerator<YamlNode> GetEnumerator() => items.GetEnumerator();

    IEnumerator IEnumerable.GetEnumerator() => GetEnumerator();
}

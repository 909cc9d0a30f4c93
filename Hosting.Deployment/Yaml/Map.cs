using System.Collections;

namespace Aspire.Hosting.Deployment.Yaml;

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

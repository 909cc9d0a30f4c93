using System.Collections;

namespace Aspire.Hosting.Deployment.Yaml;

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

namespace Aspire.Hosting.Deployment.Yaml;

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

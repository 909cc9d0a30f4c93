namespace Aspire.Hosting.Deployment.Yaml;

/// <summary>
/// A YAML block given as text (a rule file that its own tools check): written as it is, indented under its key, its
/// comment lines before the first content left out.
/// </summary>
public sealed class EmbeddedYaml(string text) : YamlNode
{
    /// <summary>The YAML text.</summary>
    public string Text { get; } = text;
}

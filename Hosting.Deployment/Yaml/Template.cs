namespace Aspire.Hosting.Deployment.Yaml;

/// <summary>A Helm expression in place of a value: written as <c>{{ Expression }}</c>.</summary>
public sealed class Template(string expression) : YamlNode
{
    /// <summary>The expression, without braces.</summary>
    public string Expression { get; } = expression;
}

namespace Aspire.Hosting.Deployment.Yaml;

/// <summary>A Helm expression rendering a whole block, written on its own line: <c>{{- Expression | nindent n }}</c>.</summary>
public sealed class TemplateBlock(string expression) : YamlNode
{
    /// <summary>The expression, without braces and without the indentation.</summary>
    public string Expression { get; } = expression;
}

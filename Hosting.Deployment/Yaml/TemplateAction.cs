namespace Aspire.Hosting.Deployment.Yaml;

/// <summary>A Helm action written on its own line before a document's entries (<c>{{- $x := … }}</c>).</summary>
public sealed class TemplateAction(string action) : YamlNode
{
    /// <summary>The action, without braces.</summary>
    public string Action { get; } = action;
}

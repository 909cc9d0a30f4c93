namespace Aspire.Hosting.Deployment.Yaml;

/// <summary>
/// Entries of a map rendered by Helm from a value that is itself a map, when it is not empty:
/// <c>{{- with Expression }}{{- toYaml . | nindent n }}{{- end }}</c> (extra labels, say).
/// </summary>
public sealed class TemplateEntries(string expression) : YamlNode
{
    /// <summary>The expression giving the map.</summary>
    public string Expression { get; } = expression;
}

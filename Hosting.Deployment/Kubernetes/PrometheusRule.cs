namespace Aspire.Hosting.Deployment.Kubernetes;

/// <summary>
/// The Prometheus Operator's <c>PrometheusRule</c> around a rule file, kept as text: the rules' own templates
/// (<c>{{ $labels.x }}</c>) and comments pass through unchanged.
/// </summary>
internal static class PrometheusRule
{
    /// <param name="metadata">The metadata's lines, indented two spaces.</param>
    /// <param name="spec">The spec's lines, indented two spaces: the rule file's <c>groups:</c>.</param>
    public static string Document(string metadata, string spec) =>
        "apiVersion: monitoring.coreos.com/v1\nkind: PrometheusRule\nmetadata:\n" + metadata + "spec:\n" + spec;

    /// <summary>The rule file two spaces in, without its header comment (it describes the file, not the object).</summary>
    public static string Indent(string rules) =>
        string.Concat(rules.ReplaceLineEndings("\n").TrimEnd('\n').Split('\n')
            .SkipWhile(line => line.StartsWith('#'))
            .Select(line => line.Length == 0 ? "\n" : "  " + line + "\n"));
}

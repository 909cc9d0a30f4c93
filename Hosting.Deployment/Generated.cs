using System.Globalization;
using System.Text;
using Aspire.Hosting.Deployment.Planning;

namespace Aspire.Hosting.Deployment;

/// <summary>What every output file says about itself, and the secrets examples Compose and Kustomize ship.</summary>
internal static class Generated
{
    /// <summary>The first line of every generated YAML and env file.</summary>
    public const string Header = "# Generated from the AppHost model (docs/deployment.md). Do not edit: change the model and regenerate.\n";

    /// <summary>The same, as a Helm template comment (a <c>#</c> line would be rendered into the manifest).</summary>
    public static string TemplateComment { get; } = "{{- /* " + Header.TrimStart('#', ' ').TrimEnd('\n') + " */}}\n";

    /// <summary>An env file of every secret with an empty value, each named by its parameter and what uses it.</summary>
    /// <param name="plan">The plan whose secrets are listed.</param>
    /// <param name="instruction">The comment line saying where the filled copy goes.</param>
    public static StringBuilder SecretsExample(Plan plan, string instruction)
    {
        var text = new StringBuilder(Header).Append(instruction);
        foreach (var secret in plan.Secrets)
        {
            var users = plan.Workloads.Where(w => w.Values.Any(v => v.Secrets.Contains(secret))).Select(w => w.Name);
            text.Append(CultureInfo.InvariantCulture, $"\n# {secret.Name}: used by {string.Join(", ", users)}\n{secret.Key}=\n");
        }
        return text;
    }
}

namespace Aspire.Hosting.Deployment.Yaml;

/// <summary>
/// A string made of literal text and Helm expressions (<c>Endpoint=</c> and <c>.Values.temporal.frontendAddress</c>):
/// written as one expression quoted by Helm (<c>{{ printf "Endpoint=%v" … | quote }}</c>), so whatever a value holds
/// (a quote, a backslash, a newline) stays inside the string.
/// </summary>
public sealed class Interpolation(IReadOnlyList<InterpolationPart> parts) : YamlNode
{
    /// <summary>The parts, in order.</summary>
    public IReadOnlyList<InterpolationPart> Parts { get; } = parts;
}

/// <summary>A part of an <see cref="Interpolation"/>: literal text, or a Helm expression when <paramref name="IsExpression"/>.</summary>
public sealed record InterpolationPart(string Text, bool IsExpression);

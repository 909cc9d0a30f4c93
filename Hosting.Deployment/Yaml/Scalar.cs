namespace Aspire.Hosting.Deployment.Yaml;

/// <summary>A string, number or boolean: literal, also in a Helm template (a <c>{{</c> in it is escaped there).</summary>
public sealed class Scalar(object value) : YamlNode
{
    /// <summary>The value: a string, an <see cref="int"/>, a <see cref="long"/>, a <see cref="double"/> or a <see cref="bool"/>.</summary>
    public object Value { get; } = value;

    /// <summary>A string scalar.</summary>
    public static implicit operator Scalar(string value) => new((object)value);
}

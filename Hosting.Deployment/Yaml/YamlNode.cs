namespace Aspire.Hosting.Deployment.Yaml;

/// <summary>
/// A YAML document as the outputs build it: ordered maps, lists and scalars, plus what a Helm template adds (an
/// expression in place of a value, a conditional entry, a block rendered from values). Every document of every
/// output is written by <see cref="YamlWriter"/>, which quotes and escapes for YAML, and for Helm's template layer in
/// a template, so no output builds YAML as text.
/// </summary>
public abstract class YamlNode;

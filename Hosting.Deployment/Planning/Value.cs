using System.Text;

namespace Aspire.Hosting.Deployment.Planning;

/// <summary>
/// A value of the model (an environment variable or an argument) with its references resolved for a deployment:
/// endpoints become service names and target ports, secrets stay references, and each part that came through
/// another resource says so, for outputs that can swap that resource for existing infrastructure.
/// </summary>
internal sealed record Value(IReadOnlyList<ValuePart> Parts)
{
    public static Value Of(string literal) => new([new LiteralPart(literal)]);

    public bool HasSecret => Parts.Any(p => p switch
    {
        SecretPart => true,
        ResourcePart r => r.Value.HasSecret,
        _ => false,
    });

    /// <summary>The secret, when the whole value is one.</summary>
    public SecretInput? WholeSecret => Parts switch
    {
        [SecretPart s] => s.Secret,
        [ResourcePart r] => r.Value.WholeSecret,
        _ => null,
    };

    /// <summary>The resource, when the whole value is a reference to one (a connection string).</summary>
    public ResourcePart? WholeResource => Parts is [ResourcePart r] ? r : null;

    public IEnumerable<Connection> Connections => Parts.SelectMany(p => p switch
    {
        LiteralPart { ConnectsTo: { } c } => [c],
        ResourcePart r => r.Value.Connections,
        _ => [],
    });

    public IEnumerable<SecretInput> Secrets => Parts.SelectMany(p => p switch
    {
        SecretPart s => [s.Secret],
        ResourcePart r => r.Value.Secrets,
        _ => [],
    });

    public IEnumerable<SettingPart> Settings => Parts.SelectMany(p => p switch
    {
        SettingPart s => [s],
        ResourcePart r => r.Value.Settings,
        _ => [],
    });

    /// <summary>The groups of the resources this value goes through (to read it elsewhere when one is external).</summary>
    public IEnumerable<ResourcePart> Resources => Parts.OfType<ResourcePart>().SelectMany(r => r.Value.Resources.Prepend(r));

    /// <summary>
    /// Renders the value, each secret through <paramref name="secret"/>, literals through <paramref name="literal"/>,
    /// settings through <paramref name="setting"/> (by default their default value).
    /// </summary>
    public string Render(Func<SecretInput, string> secret, Func<string, string>? literal = null, Func<SettingPart, string>? setting = null)
    {
        var text = new StringBuilder();
        foreach (var part in Parts)
        {
            text.Append(part switch
            {
                LiteralPart l => literal is null ? l.Text : literal(l.Text),
                SecretPart s => secret(s.Secret),
                ResourcePart r => r.Value.Render(secret, literal, setting),
                SettingPart s => setting is null ? (literal is null ? s.Default : literal(s.Default)) : setting(s),
                _ => throw new InvalidOperationException(part.GetType().Name),
            });
        }
        return text.ToString();
    }

    public string? LiteralText => HasSecret ? null : Render(_ => throw new InvalidOperationException());
}

internal abstract record ValuePart;

/// <param name="Text">The text.</param>
/// <param name="ConnectsTo">Set when the text names an endpoint of another workload (its host or port).</param>
internal sealed record LiteralPart(string Text, Connection? ConnectsTo = null) : ValuePart;

internal sealed record SecretPart(SecretInput Secret) : ValuePart;

/// <summary>
/// A parameter that is not secret: its model value is the default, which Compose lets <c>.env</c> override
/// (<c>${KEY:-default}</c>); elsewhere the default is written as it is.
/// </summary>
internal sealed record SettingPart(string Name, string Default) : ValuePart
{
    public string Key { get; } = Name.ToUpperInvariant().Replace('-', '_');
}

/// <summary>A value that came from another resource's connection string.</summary>
/// <param name="ResourceName">The resource (for example <c>appdb</c>).</param>
/// <param name="Group">Its deployment group, when it belongs to switchable infrastructure.</param>
/// <param name="WhenExternal">What the group says dependants get when it is external.</param>
/// <param name="Value">The resolved connection string.</param>
internal sealed record ResourcePart(string ResourceName, string? Group, ExternalConnection? WhenExternal, Value Value) : ValuePart;

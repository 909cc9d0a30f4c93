using Aspire.Hosting.Deployment.Yaml;

namespace Aspire.Hosting.Temporal.Deployment;

/// <summary>The Kustomize JSON patches the Temporal contributions write: one object's target, a comment, the operations.</summary>
internal static class JsonPatches
{
    /// <summary>A patch of the object of <paramref name="kind"/> named <paramref name="name"/>, its comment first.</summary>
    public static Map For(string kind, string name, string comment, params Map[] operations) => new()
    {
        { "target", new Map { { "kind", kind }, { "name", name } } },
        { "patch", Comment(comment) + YamlWriter.WriteList(new Seq(operations)) },
    };

    /// <summary>A YAML comment block ending in one newline, whatever the source's line endings.</summary>
    public static string Comment(string comment) => comment.ReplaceLineEndings("\n").TrimEnd('\n') + "\n";

    public static Map Op(string op, string path, YamlNode? value = null)
    {
        var operation = new Map { { "op", op }, { "path", path } };
        operation.Add("value", value);
        return operation;
    }

    public static Map Op(string op, string path, string value) => Op(op, path, new Scalar(value));

    public static Map Move(string from, string to) => new() { { "op", "move" }, { "from", from }, { "path", to } };
}

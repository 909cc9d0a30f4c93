using System.Text.Json.Nodes;

namespace Aspire.Hosting.Deployment.Helm;

/// <summary>
/// JSON schemas (draft-07, patterns in RE2 for Helm's validators) of what Kubernetes and the container runtime
/// accept, for values.schema.json: a value outside them is refused at install with its name, instead of a release
/// that fails in the cluster or quietly does something else.
/// </summary>
public static class ValueSchemas
{
    /// <summary>A boolean.</summary>
    public static JsonObject Boolean() => new() { ["type"] = "boolean" };

    /// <summary>An integer of at least <paramref name="minimum"/> (and at most <paramref name="maximum"/>).</summary>
    public static JsonObject Whole(int minimum, int? maximum = null)
    {
        var schema = new JsonObject { ["type"] = "integer", ["minimum"] = minimum };
        if (maximum is { } max)
        {
            schema["maximum"] = max;
        }
        return schema;
    }

    /// <summary>Any string, empty included (a setting).</summary>
    public static JsonObject AnyText() => new() { ["type"] = "string" };

    /// <summary>A string that is not empty and has no whitespace (a name, a namespace of Temporal, a task queue).</summary>
    public static JsonObject Token() => new() { ["type"] = "string", ["minLength"] = 1, ["pattern"] = @"^\S+$" };

    /// <summary>A Kubernetes quantity (<c>250m</c>, <c>1</c>, <c>512Mi</c>, <c>8Gi</c>), not negative; a number is one too.</summary>
    public static JsonObject Quantity() => new()
    {
        ["type"] = new JsonArray("string", "number"),
        ["minimum"] = 0,
        ["pattern"] = @"^\+?(([0-9]+(\.[0-9]*)?)|(\.[0-9]+))(([KMGTPE]i)|[numkMGTPE]|([eE](\+|-)?(([0-9]+(\.[0-9]*)?)|(\.[0-9]+))))?$",
    };

    /// <summary>A map of resource names to quantities (<c>requests</c>, <c>limits</c>).</summary>
    public static JsonObject Quantities() => new() { ["type"] = "object", ["additionalProperties"] = Quantity() };

    /// <summary>An image repository, registry included (<c>ghcr.io/acme/worker</c>): a container runtime refuses capitals or spaces in the path.</summary>
    public static JsonObject ImageRepository() => new()
    {
        ["type"] = "string",
        ["pattern"] = @"^([A-Za-z0-9.-]+(:[0-9]+)?/)?[a-z0-9]+(([._]|__|-+)[a-z0-9]+)*(/[a-z0-9]+(([._]|__|-+)[a-z0-9]+)*)*$",
    };

    /// <summary>
    /// An image tag (<c>1.4.0</c>), as a string: <c>tag: 1.0</c> in a values file is the number 1 to Helm, which would
    /// pull <c>:1</c>, and JSON Schema cannot tell 1.0 from 1 (<c>--set-string image.tag=17</c> for a number). A tag may
    /// carry its digest (<c>1.4.0@sha256:…</c>), as a release pins its images.
    /// </summary>
    public static JsonObject ImageTag() => new() { ["type"] = "string", ["pattern"] = "^[A-Za-z0-9_][A-Za-z0-9_.-]{0,127}(@sha256:[0-9a-f]{64})?$" };

    /// <summary>A Kubernetes object name (DNS subdomain, a Secret's say), or empty for none when <paramref name="optional"/>.</summary>
    public static JsonObject ObjectName(bool optional) => new()
    {
        ["type"] = "string",
        ["maxLength"] = 253,
        ["pattern"] = (optional ? "^$|" : "") + @"^[a-z0-9]([-a-z0-9.]*[a-z0-9])?$",
    };

    /// <summary>A Kubernetes namespace name (DNS label).</summary>
    public static JsonObject NamespaceName() => new() { ["type"] = "string", ["maxLength"] = 63, ["pattern"] = "^[a-z0-9]([-a-z0-9]*[a-z0-9])?$" };

    /// <summary>A <c>host:port</c> address.</summary>
    public static JsonObject HostAndPort() => new() { ["type"] = "string", ["pattern"] = @"^[A-Za-z0-9]([A-Za-z0-9.-]*[A-Za-z0-9])?:[0-9]{1,5}$" };

    /// <summary>A cron schedule of five fields, or a macro such as <c>@daily</c>.</summary>
    public static JsonObject Cron() => new()
    {
        ["type"] = "string",
        ["pattern"] = @"^((@(yearly|annually|monthly|weekly|daily|midnight|hourly))|([0-9A-Za-z*/,?-]+( [0-9A-Za-z*/,?-]+){4}))$",
    };

    /// <summary>One of <paramref name="values"/>.</summary>
    public static JsonObject OneOf(params string[] values) => new() { ["enum"] = new JsonArray([.. values.Select(v => JsonValue.Create(v))]) };

    /// <summary>An object of exactly these properties (none required).</summary>
    public static JsonObject Record(params (string Key, JsonObject Schema)[] properties) => new()
    {
        ["type"] = "object",
        ["additionalProperties"] = false,
        ["properties"] = new JsonObject(properties.Select(p => KeyValuePair.Create(p.Key, (JsonNode?)p.Schema))),
    };
}

using System.Text.Json;
using System.Text.Json.Nodes;
using Aspire.Hosting.Deployment.Yaml;

namespace Aspire.Hosting.Deployment.Helm;

/// <summary>
/// <c>values.schema.json</c> from the values model: each value's declared schema, else a type inferred from its
/// default; every section refuses keys it does not have (a misspelt key would otherwise be ignored in silence).
/// </summary>
internal static class SchemaGenerator
{
    public static JsonObject For(ChartValues values)
    {
        var schema = new JsonObject { ["$schema"] = "https://json-schema.org/draft-07/schema#" };
        foreach (var (key, value) in Of(values.Root, "", values.Schemas))
        {
            schema[key] = value?.DeepClone();
        }
        return schema;
    }

    public static string Write(JsonObject schema) =>
        // Relaxed escaping: a pattern's "+" stays "+" (valid JSON either way, readable only this way).
        schema.ToJsonString(new JsonSerializerOptions { WriteIndented = true, Encoder = System.Text.Encodings.Web.JavaScriptEncoder.UnsafeRelaxedJsonEscaping }) + "\n";

    /// <summary>The schema of a map of values whose types are their defaults'.</summary>
    public static JsonObject Infer(Map values) => Of(values, "", new Dictionary<string, JsonObject>());

    private static JsonObject Of(YamlNode node, string path, IReadOnlyDictionary<string, JsonObject> declared)
    {
        if (declared.TryGetValue(path, out var schema))
        {
            return (JsonObject)schema.DeepClone();
        }
        return node switch
        {
            Map map => new JsonObject
            {
                ["type"] = "object",
                ["additionalProperties"] = false,
                ["properties"] = new JsonObject(map.Select(e => KeyValuePair.Create(e.Key, (JsonNode?)Of(e.Value, path.Length > 0 ? $"{path}.{e.Key}" : e.Key, declared)))),
            },
            Seq => new JsonObject { ["type"] = "array" },
            Scalar { Value: bool } => new JsonObject { ["type"] = "boolean" },
            Scalar { Value: int or long } => new JsonObject { ["type"] = "integer" },
            // `--set x=17` arrives as a number: accepted where a string is.
            Scalar => new JsonObject { ["type"] = new JsonArray("string", "number") },
            _ => throw new InvalidOperationException(node.GetType().Name),
        };
    }
}

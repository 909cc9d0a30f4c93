using System.Text.Json.Nodes;
using System.Text.RegularExpressions;
using Aspire.Hosting.Deployment.Planning;
using Aspire.Hosting.Deployment.Yaml;

namespace Aspire.Hosting.Deployment.Helm;

/// <summary>
/// The chart's own defaults checked against its schema before a template is rendered: the keywords
/// <see cref="ValueSchemas"/> and integrations use (type, properties, additionalProperties, required, enum, const,
/// pattern, lengths, bounds, items, if/then). A default the schema refuses would make the chart refuse itself at
/// install; here it stops the generation naming the value.
/// </summary>
internal static class SchemaCheck
{
    public static void Validate(JsonObject schema, Map values)
    {
        if (Errors(schema, ToJson(values), "").FirstOrDefault() is { } error)
        {
            throw new DeploymentModelException($"values.yaml does not meet its own values.schema.json: {error}");
        }
    }

    private static JsonNode? ToJson(YamlNode node) => node switch
    {
        Map map => new JsonObject(map.Select(e => KeyValuePair.Create(e.Key, ToJson(e.Value)))),
        Seq seq => new JsonArray([.. seq.Select(ToJson)]),
        Scalar { Value: string s } => JsonValue.Create(s),
        Scalar { Value: bool b } => JsonValue.Create(b),
        Scalar { Value: int i } => JsonValue.Create(i),
        Scalar { Value: long l } => JsonValue.Create(l),
        Scalar { Value: double d } => JsonValue.Create(d),
        _ => throw new InvalidOperationException($"{node.GetType().Name} in values"),
    };

    private static IEnumerable<string> Errors(JsonObject schema, JsonNode? value, string path)
    {
        var at = path.Length == 0 ? "(root)" : path;
        if (schema["type"] is { } type && !TypeMatches(type, value))
        {
            yield return $"{at}: {Kind(value)} is not {type.ToJsonString()}";
            yield break;
        }
        if (schema["enum"] is JsonArray choices && !choices.Any(c => JsonNode.DeepEquals(c, value)))
        {
            yield return $"{at}: not one of {choices.ToJsonString()}";
        }
        if (schema["const"] is { } constant && !JsonNode.DeepEquals(constant, value))
        {
            yield return $"{at}: not {constant.ToJsonString()}";
        }
        if (value is JsonValue scalar && scalar.TryGetValue<string>(out var text))
        {
            if (schema["pattern"] is { } pattern && !Regex.IsMatch(text, pattern.GetValue<string>()))
            {
                yield return $"{at}: \"{text}\" does not match {pattern.GetValue<string>()}";
            }
            if ((schema["minLength"]?.GetValue<int>() ?? 0) > text.Length || (schema["maxLength"]?.GetValue<int>() ?? int.MaxValue) < text.Length)
            {
                yield return $"{at}: \"{text}\" has the wrong length";
            }
        }
        else if (value is JsonValue number && Number(number) is { } n)
        {
            if (n < (Bound(schema["minimum"]) ?? double.MinValue) || n > (Bound(schema["maximum"]) ?? double.MaxValue))
            {
                yield return $"{at}: {n} is out of range";
            }
        }
        if (value is JsonObject map)
        {
            foreach (var required in (schema["required"] as JsonArray ?? []).Select(r => r!.GetValue<string>()).Where(r => !map.ContainsKey(r)))
            {
                yield return $"{at}: {required} is required";
            }
            var properties = schema["properties"] as JsonObject;
            foreach (var (key, child) in map)
            {
                var childPath = path.Length == 0 ? key : $"{path}.{key}";
                var childSchema = properties?[key] as JsonObject ?? (schema["additionalProperties"] is JsonObject extra ? extra : null);
                if (childSchema is null && properties?.ContainsKey(key) != true && schema["additionalProperties"] is JsonValue allowed && !allowed.GetValue<bool>())
                {
                    yield return $"{childPath}: not a known value";
                }
                foreach (var error in childSchema is null ? [] : Errors(childSchema, child, childPath))
                {
                    yield return error;
                }
            }
        }
        if (value is JsonArray list)
        {
            if (list.Count < (schema["minItems"]?.GetValue<int>() ?? 0) || list.Count > (schema["maxItems"]?.GetValue<int>() ?? int.MaxValue))
            {
                yield return $"{at}: {list.Count} items";
            }
            foreach (var (item, index) in list.Select((item, index) => (item, index)))
            {
                foreach (var error in schema["items"] is JsonObject items ? Errors(items, item, $"{path}[{index}]") : [])
                {
                    yield return error;
                }
            }
        }
        if (schema["if"] is JsonObject condition && schema["then"] is JsonObject then && !Errors(condition, value, path).Any())
        {
            foreach (var error in Errors(then, value, path))
            {
                yield return error;
            }
        }
    }

    private static bool TypeMatches(JsonNode type, JsonNode? value) =>
        type is JsonArray types ? types.Any(t => TypeMatches(t!, value)) : type.GetValue<string>() switch
        {
            "object" => value is JsonObject,
            "array" => value is JsonArray,
            "string" => value is JsonValue v && v.TryGetValue<string>(out _),
            "boolean" => value is JsonValue v && v.TryGetValue<bool>(out _),
            "integer" => value is JsonValue v && (v.TryGetValue<int>(out _) || v.TryGetValue<long>(out _)),
            "number" => value is JsonValue v && Number(v) is not null,
            "null" => value is null,
            _ => false,
        };

    private static double? Bound(JsonNode? node) => node is JsonValue value ? Number(value) : null;

    private static double? Number(JsonValue value) =>
        value.TryGetValue<int>(out var i) ? i : value.TryGetValue<long>(out var l) ? l : value.TryGetValue<double>(out var d) ? d : null;

    private static string Kind(JsonNode? value) => value switch
    {
        JsonObject => "an object",
        JsonArray => "an array",
        null => "null",
        _ => value.ToJsonString(),
    };
}

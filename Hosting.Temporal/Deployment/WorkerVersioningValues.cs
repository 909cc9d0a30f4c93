using System.Globalization;
using System.Text;
using System.Text.Json.Nodes;
using Aspire.Hosting.Deployment.Helm;
using Aspire.Hosting.Deployment.Yaml;

namespace Aspire.Hosting.Temporal.Deployment;

/// <summary>The worker controller's rollout and sunset as values, and the schema that holds them to what its CRD accepts.</summary>
internal static class WorkerVersioningValues
{
    /// <summary>Where the controller's charts install it (its documentation's namespace): its calls to the frontend come from there.</summary>
    public const string ControllerNamespace = "temporal-system";

    /// <summary>
    /// The Progressive rollout: each step sends that share of new workflows to the new build (the order saga is
    /// Pinned, so a workflow stays on the build it started on); after the last step's pause the build is current.
    /// </summary>
    public static Map Rollout(IReadOnlyList<RampStep> steps) => new()
    {
        { "strategy", "Progressive" },
        {
            "steps", new Seq(steps.Select(s => (YamlNode)new Map
            {
                { "rampPercentage", s.Percentage },
                { "pauseDuration", GoDuration(s.Pause) },
            }))
        },
    };

    public static Map Sunset(TimeSpan scaledownDelay, TimeSpan deleteDelay) => new()
    {
        { "scaledownDelay", GoDuration(scaledownDelay) },
        { "deleteDelay", GoDuration(deleteDelay) },
    };

    /// <summary>The schema of <c>workerVersioning</c>: what the controller's CRD accepts, so a wrong value fails at install.</summary>
    public static JsonObject Schema()
    {
        const string Duration = "^([0-9]+(\\.[0-9]+)?(ns|us|ms|s|m|h))+$";
        var step = ValueSchemas.Record(
            ("rampPercentage", ValueSchemas.Whole(minimum: 1, maximum: 99)),
            ("pauseDuration", new JsonObject { ["type"] = "string", ["pattern"] = Duration }));
        step["required"] = new JsonArray("rampPercentage", "pauseDuration");
        var rollout = ValueSchemas.Record(
            ("strategy", ValueSchemas.OneOf("Manual", "AllAtOnce", "Progressive")),
            ("steps", new JsonObject { ["type"] = "array", ["maxItems"] = 20, ["items"] = step }));
        rollout["required"] = new JsonArray("strategy");
        // Progressive without steps would never promote (the controller waits for a step that is not there).
        rollout["if"] = new JsonObject { ["properties"] = new JsonObject { ["strategy"] = new JsonObject { ["const"] = "Progressive" } } };
        rollout["then"] = new JsonObject { ["required"] = new JsonArray("steps"), ["properties"] = new JsonObject { ["steps"] = new JsonObject { ["minItems"] = 1 } } };
        return ValueSchemas.Record(
            ("enabled", ValueSchemas.Boolean()),
            ("rollout", rollout),
            ("sunset", ValueSchemas.Record(
                ("scaledownDelay", new JsonObject { ["type"] = "string", ["pattern"] = Duration }),
                ("deleteDelay", new JsonObject { ["type"] = "string", ["pattern"] = Duration }))),
            ("buildId", new JsonObject
            {
                ["type"] = new JsonArray("string", "number"),
                ["maxLength"] = 63,
                ["pattern"] = "^$|^[a-zA-Z0-9]([a-zA-Z0-9._-]*[a-zA-Z0-9])?$",
            }),
            ("controllerNamespace", ValueSchemas.NamespaceName()));
    }

    /// <summary>A Go duration (<c>10m</c>, <c>1h30m</c>, <c>24h</c>), what the controller's CRD reads.</summary>
    public static string GoDuration(TimeSpan span)
    {
        if (span == TimeSpan.Zero)
        {
            return "0s";
        }
        var text = new StringBuilder();
        var hours = (long)span.TotalHours;
        if (hours > 0)
        {
            text.Append(hours.ToString(CultureInfo.InvariantCulture)).Append('h');
        }
        if (span.Minutes > 0)
        {
            text.Append(span.Minutes.ToString(CultureInfo.InvariantCulture)).Append('m');
        }
        if (span.Seconds > 0)
        {
            text.Append(span.Seconds.ToString(CultureInfo.InvariantCulture)).Append('s');
        }
        return text.ToString();
    }
}

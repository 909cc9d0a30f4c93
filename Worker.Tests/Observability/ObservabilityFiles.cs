using System.Text;
using YamlDotNet.Serialization;
using YamlDotNet.Serialization.NamingConventions;

namespace Worker.Tests.Observability;

/// <summary>
/// The hand-written monitoring files under deploy/observability, and the PromQL they hold: the tests read the
/// expressions from the files themselves, so a changed panel or rule is tested as it is.
/// </summary>
public static class ObservabilityFiles
{
    public static string Folder => Repository.PathOf("deploy", "observability");

    public static string Dashboard => Path.Combine(Folder, "grafana", "worker-dashboard.json");

    public static string Alerts => Path.Combine(Folder, "prometheus", "alerts.yaml");

    public static string AlertTests => Path.Combine(Folder, "prometheus", "alerts.test.yaml");

    /// <summary>
    /// Grafana's interval variable, as the tests evaluate it: a minute holds enough 1 s scrapes for every rate.
    /// The dashboard uses no other variable in its expressions (the data source is chosen, not written in PromQL).
    /// </summary>
    public const string RateInterval = "1m";

    private static readonly IDeserializer Yaml = new DeserializerBuilder()
        .WithNamingConvention(UnderscoredNamingConvention.Instance).IgnoreUnmatchedProperties().Build();

    /// <summary>Every <c>expr</c> of the dashboard's panels (rows included), with Grafana's variables replaced.</summary>
    public static IReadOnlyList<string> DashboardExpressions()
    {
        using var document = JsonDocument.Parse(File.ReadAllText(Dashboard));
        var expressions = new List<string>();
        Collect(document.RootElement, expressions);
        return expressions;

        static void Collect(JsonElement element, List<string> into)
        {
            if (element.ValueKind == JsonValueKind.Object)
            {
                foreach (var property in element.EnumerateObject())
                {
                    if (property.Name == "expr" && property.Value.ValueKind == JsonValueKind.String)
                    {
                        into.Add(property.Value.GetString()!.Replace("$__rate_interval", RateInterval, StringComparison.Ordinal));
                    }
                    else
                    {
                        Collect(property.Value, into);
                    }
                }
            }
            else if (element.ValueKind == JsonValueKind.Array)
            {
                foreach (var item in element.EnumerateArray())
                {
                    Collect(item, into);
                }
            }
        }
    }

    /// <summary>The alerting rules of alerts.yaml: name and expression.</summary>
    public static IReadOnlyList<AlertRule> AlertRules() =>
        [.. Yaml.Deserialize<RuleFile>(File.ReadAllText(Alerts)).Groups
            .SelectMany(g => g.Rules)
            .Where(r => r.Alert is not null)
            .Select(r => new AlertRule(r.Alert!, r.Expr.Trim()))];

    /// <summary>The cases of alerts.test.yaml: alert name and whether the case expects it to fire.</summary>
    public static IReadOnlyList<(string Alert, bool Fires)> AlertTestCases() =>
        [.. Yaml.Deserialize<TestFile>(File.ReadAllText(AlertTests)).Tests
            .SelectMany(t => t.AlertRuleTest)
            .Select(t => (t.Alertname, t.ExpAlerts is { Count: > 0 }))];

    /// <summary>
    /// The vector selectors of a PromQL expression (metric name and label matchers, as written), found by a
    /// small scanner: names followed by <c>(</c> are functions or aggregations, the label lists of <c>by</c>,
    /// <c>without</c>, <c>on</c>, <c>ignoring</c> and <c>group_*</c> are skipped, as are strings, ranges and numbers.
    /// </summary>
    public static IReadOnlyList<Selector> Selectors(string expression)
    {
        ArgumentNullException.ThrowIfNull(expression);
        var selectors = new List<Selector>();
        var i = 0;
        while (i < expression.Length)
        {
            var c = expression[i];
            if (c is '"' or '\'' or '`')
            {
                i = SkipString(expression, i);
            }
            else if (c == '[')
            {
                i = expression.IndexOf(']', i) + 1;
            }
            else if (char.IsAsciiDigit(c) || (c == '.' && i + 1 < expression.Length && char.IsAsciiDigit(expression[i + 1])))
            {
                while (i < expression.Length && (char.IsAsciiLetterOrDigit(expression[i]) || expression[i] is '.' or '_'))
                {
                    i++;
                }
            }
            else if (char.IsAsciiLetter(c) || c is '_' or ':')
            {
                var start = i;
                while (i < expression.Length && (char.IsAsciiLetterOrDigit(expression[i]) || expression[i] is '_' or ':'))
                {
                    i++;
                }
                var name = expression[start..i];
                var next = SkipSpace(expression, i);
                var isParenthesis = next < expression.Length && expression[next] == '(';
                if (LabelListKeywords.Contains(name))
                {
                    i = isParenthesis ? Matching(expression, next, '(', ')') : i;
                }
                else if (!isParenthesis && !Keywords.Contains(name))
                {
                    var matchers = "";
                    if (next < expression.Length && expression[next] == '{')
                    {
                        i = Matching(expression, next, '{', '}');
                        matchers = expression[next..i];
                    }
                    selectors.Add(new Selector(name, matchers));
                }
            }
            else
            {
                i++;
            }
        }
        return selectors;
    }

    private static readonly HashSet<string> LabelListKeywords = ["by", "without", "on", "ignoring", "group_left", "group_right"];

    // Aggregations are followed by "by (...)" or "without (...)" as often as by their parenthesis.
    private static readonly HashSet<string> Keywords =
    [
        "and", "or", "unless", "bool", "offset", "atan2", "inf", "nan", "Inf", "NaN",
        "sum", "min", "max", "avg", "group", "stddev", "stdvar", "count", "count_values", "bottomk", "topk", "quantile",
    ];

    private static int SkipSpace(string s, int i)
    {
        while (i < s.Length && char.IsWhiteSpace(s[i]))
        {
            i++;
        }
        return i;
    }

    private static int SkipString(string s, int i)
    {
        var quote = s[i++];
        while (i < s.Length && s[i] != quote)
        {
            i += s[i] == '\\' ? 2 : 1;
        }
        return i + 1;
    }

    /// <summary>The index after the bracket that closes the one at <paramref name="open"/>.</summary>
    private static int Matching(string s, int open, char opening, char closing)
    {
        var depth = 0;
        for (var i = open; i < s.Length; i++)
        {
            if (s[i] is '"' or '\'' or '`')
            {
                i = SkipString(s, i) - 1;
            }
            else if (s[i] == opening)
            {
                depth++;
            }
            else if (s[i] == closing && --depth == 0)
            {
                return i + 1;
            }
        }
        throw new FormatException($"Unbalanced {opening} in {s}");
    }

    public sealed record AlertRule(string Name, string Expression);

    /// <summary>A vector selector: a metric name and its matchers as written (<c>{a="b"}</c>, or empty).</summary>
    public sealed record Selector(string Metric, string Matchers)
    {
        public override string ToString() => Metric + Matchers;

        /// <summary>
        /// The same metric with every label the matchers name present, whatever its value: a series for a value
        /// this test run does not produce (order_refusal="false", a technical failure) still proves the names.
        /// </summary>
        public string WithLabelsPresent()
        {
            var labels = System.Text.RegularExpressions.Regex.Matches(Matchers, @"([A-Za-z_][A-Za-z0-9_]*)\s*(=~|!~|!=|=)")
                .Select(m => m.Groups[1].Value).Distinct().ToList();
            if (labels.Count == 0)
            {
                return Metric;
            }
            var builder = new StringBuilder(Metric).Append('{');
            builder.AppendJoin(", ", labels.Select(l => $"{l}!=\"\""));
            return builder.Append('}').ToString();
        }
    }

    private sealed class RuleFile
    {
        public List<RuleGroup> Groups { get; set; } = [];
    }

    private sealed class RuleGroup
    {
        public List<Rule> Rules { get; set; } = [];
    }

    private sealed class Rule
    {
        public string? Alert { get; set; }

        public string Expr { get; set; } = "";
    }

    private sealed class TestFile
    {
        public List<TestCase> Tests { get; set; } = [];
    }

    private sealed class TestCase
    {
        public List<AlertRuleTest> AlertRuleTest { get; set; } = [];
    }

    private sealed class AlertRuleTest
    {
        public string Alertname { get; set; } = "";

        public List<object>? ExpAlerts { get; set; }
    }
}

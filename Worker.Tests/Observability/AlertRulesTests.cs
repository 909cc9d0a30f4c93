namespace Worker.Tests.Observability;

/// <summary>deploy/observability/prometheus checked by Prometheus's own promtool.</summary>
public sealed class AlertRulesTests
{
    private static readonly TimeSpan Timeout = TimeSpan.FromSeconds(60);

    [Fact]
    public async Task Promtool_accepts_the_alert_rules_and_the_scrape_config()
    {
        var rules = await ProcessRunner.RunAsync(Validators.Promtool, ["check", "rules", ObservabilityFiles.Alerts], Timeout);
        Assert.True(rules.ExitCode == 0, rules.Output);
        // The config names alerts.yaml relative to itself: this also checks that the reference resolves.
        var config = await ProcessRunner.RunAsync(Validators.Promtool,
            ["check", "config", Path.Combine(ObservabilityFiles.Folder, "prometheus", "prometheus.yaml")], Timeout);
        Assert.True(config.ExitCode == 0, config.Output);
    }

    [Fact]
    public async Task Promtool_unit_tests_of_the_alerts_pass()
    {
        var result = await ProcessRunner.RunAsync(Validators.Promtool, ["test", "rules", ObservabilityFiles.AlertTests], Timeout,
            workingDirectory: Path.GetDirectoryName(ObservabilityFiles.AlertTests));
        Assert.True(result.ExitCode == 0, result.Output);
        Assert.Contains("SUCCESS", result.Output, StringComparison.Ordinal);
    }

    [Fact]
    public void Every_alert_has_a_case_where_it_fires_and_one_where_it_stays_silent()
    {
        var cases = ObservabilityFiles.AlertTestCases();
        var alerts = ObservabilityFiles.AlertRules();
        Assert.NotEmpty(alerts);
        Assert.All(alerts, alert =>
        {
            Assert.True(cases.Contains((alert.Name, true)), $"{alert.Name}: no case in alerts.test.yaml expects it to fire");
            Assert.True(cases.Contains((alert.Name, false)), $"{alert.Name}: no case in alerts.test.yaml expects it to stay silent");
        });
        // A case for an alert that does not exist tests nothing (a renamed alert).
        Assert.All(cases, c => Assert.Contains(alerts, a => a.Name == c.Alert));
    }

    [Fact]
    public void Selector_scanner_finds_metrics_and_skips_functions_label_lists_and_keywords()
    {
        var selectors = ObservabilityFiles.Selectors("""
            1 - (sum by (instance) (rate(a_total{operation=~"Poll(W|A)", x="}"}[5m])) or vector(0)) / on (instance) group_left
            histogram_quantile(0.95, sum without (pod) (rate(b_bucket[1m] offset 5m))) > 4 * 3600 and bool c
            """);
        Assert.Equal(["a_total{operation=~\"Poll(W|A)\", x=\"}\"}", "b_bucket", "c"], selectors.Select(s => s.ToString()));
        Assert.Equal("a_total{operation!=\"\", x!=\"\"}", selectors[0].WithLabelsPresent());
    }
}

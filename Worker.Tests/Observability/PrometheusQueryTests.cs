using Temporalio.Client;
using Worker.Orders.Payments;

namespace Worker.Tests.Observability;

/// <summary>
/// A real Prometheus scrapes the real worker (on a Kestrel port) while orders run end to end; then every PromQL
/// expression of the dashboard and of the alert rules is evaluated through Prometheus's HTTP API, so that a
/// renamed metric or label breaks this test rather than a dashboard in production. What "finds data" means:
/// - a dashboard expression, as Grafana would evaluate it: it returns at least one series;
/// - every vector selector in the dashboard and in the alerts (an alert's whole expression is normally false, so
///   empty): it returns series as written, or, for a label value this run does not produce (a technical activity
///   failure: order_refusal="false"), the metric returns series that carry every label the selector names;
/// - every alert rule: Prometheus loaded it and evaluates it without error.
/// </summary>
/// <remarks>
/// Runs alone: with the tracing tests' hosts running beside it in this process, the observed worker's
/// <c>/metrics</c> had no <c>Worker.Orders</c> series at all (seen in two runs; alone, and alone with an OTLP endpoint
/// set, it passes). Meter and span listeners are process-wide; one worker per process, as deployed, does not meet this.
/// </remarks>
[Collection(nameof(PrometheusQueryTests))]
public sealed class PrometheusQueryTests(ObservedEnvironment env) : IClassFixture<ObservedEnvironment>
{
    /// <summary>Metrics that exist only once something failed in a way this environment cannot cause, and why.</summary>
    private static readonly Dictionary<string, string> OnlyAfterFailure = new()
    {
        ["temporal_long_request_failure_total"] = "a failed poll (the Temporal test server never fails one)",
    };

    private static readonly TimeSpan ScrapeDeadline = TimeSpan.FromSeconds(30);

    [Fact]
    public async Task Every_dashboard_and_alert_expression_finds_the_worker_metrics_in_a_real_Prometheus()
    {
        await using var prometheus = await PrometheusServer.StartAsync(env.Target, ObservabilityFiles.Alerts);

        var run = Guid.NewGuid().ToString("N")[..8];
        var (completed, declined, awaiting) = ($"prom-ok-{run}", $"prom-declined-{run}", $"prom-approval-{run}");
        await env.PlaceOrderAsync(completed);
        await env.PlaceOrderAsync(declined, LedgerPaymentGateway.DeclinedPaymentToken);
        Assert.Equal(OrderStatus.Completed, (await ResultAsync(completed)).Status);
        Assert.Equal(OrderStatus.Failed, (await ResultAsync(declined)).Status);
        // Placed after the results were awaited: the test server skips time only while a client awaits a result,
        // and this order must keep waiting for its approver (7 x 149 is over the approval threshold).
        await env.PlaceOrderAsync(awaiting, "tok_visa", new OrderLine("GRINDER", 7));
        await env.WaitForStatusAsync(awaiting, OrderStatus.AwaitingApproval);
        // An order whose start failed, for the stuck-order sweep to start (orders_reconciled_total).
        var stuck = $"prom-stuck-{run}";
        await new Orders.Persistence.OrderStore(env.Database.DataSource).RegisterAsync(
            stuck, "hash", new Orders.Persistence.OrderRequestRecord([new("GRINDER", 1)]), "tok_visa", CancellationToken.None);
        await env.Database.ExecuteAsync("UPDATE orders SET created_at = now() - interval '1 hour' WHERE id = @p0", stuck);
        Assert.Contains((stuck, Orders.Reconciliation.StuckOrderReconciler.Action.Started), await env.Reconciler.SweepAsync(CancellationToken.None));

        var dashboard = ObservabilityFiles.DashboardExpressions();
        var alerts = ObservabilityFiles.AlertRules();
        Assert.NotEmpty(dashboard);
        Assert.NotEmpty(alerts);
        var selectors = dashboard.Concat(alerts.Select(a => a.Expression))
            .SelectMany(ObservabilityFiles.Selectors)
            .Distinct()
            .Where(s => !OnlyAfterFailure.ContainsKey(s.Metric))
            .ToList();

        // Counters appear with the first scrape after their first increment, rates need two samples of them, and
        // the approval gauges are read in the background of an export: poll until all have data, then report.
        var deadline = DateTime.UtcNow + ScrapeDeadline;
        List<string> missing;
        do
        {
            await Task.Delay(TimeSpan.FromSeconds(1));
            missing = [];
            foreach (var expression in dashboard)
            {
                if (await prometheus.QueryAsync(expression) is var (series, error) && (error is not null || series == 0))
                {
                    missing.Add($"dashboard: {expression} -> {error ?? "no data"}");
                }
            }
            foreach (var selector in selectors)
            {
                if (!await HasDataAsync(prometheus, selector.ToString()) && !await HasDataAsync(prometheus, selector.WithLabelsPresent()))
                {
                    missing.Add($"selector: {selector} (nor {selector.WithLabelsPresent()}) -> no data");
                }
            }
            foreach (var alert in alerts)
            {
                if ((await prometheus.QueryAsync(alert.Expression)).Error is { } error)
                {
                    missing.Add($"alert {alert.Name}: {error}");
                }
            }
        }
        while (missing.Count > 0 && DateTime.UtcNow < deadline);
        Assert.True(missing.Count == 0, string.Join('\n', missing));

        // Prometheus itself loaded every alert and evaluates it against the scraped data without error.
        var rules = (await prometheus.RulesAsync()).EnumerateArray()
            .SelectMany(g => g.GetProperty("rules").EnumerateArray())
            .ToDictionary(r => r.GetProperty("name").GetString()!, r => r.GetProperty("health").GetString());
        Assert.Equal(alerts.Select(a => a.Name).Order(), rules.Keys.Order());
        Assert.All(rules, r => Assert.True(r.Value is "ok" or "unknown", $"{r.Key}: {r.Value}"));
    }

    private static async Task<bool> HasDataAsync(PrometheusServer prometheus, string promql) =>
        await prometheus.QueryAsync(promql) is (> 0, null);

    private Task<OrderResult> ResultAsync(string orderId) =>
        env.Temporal.GetWorkflowHandle(OrderEndpoints.WorkflowId(orderId))
            .GetResultAsync<OrderResult>().WaitAsync(TimeSpan.FromSeconds(60));
}

[CollectionDefinition(nameof(PrometheusQueryTests), DisableParallelization = true)]
public sealed class PrometheusQueryTestsRunAlone;

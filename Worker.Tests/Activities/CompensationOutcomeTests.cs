using Temporalio.Testing;

namespace Worker.Tests.Activities;

/// <summary>The outcome a compensation is for is kept with the order, so that a run that finishes the compensation ends it so.</summary>
public sealed class CompensationOutcomeTests(OrdersDatabase db) : IClassFixture<OrdersDatabase>
{
    private readonly ActivityEnvironment env = new();

    [Theory]
    [InlineData(OrderStatus.Failed)]
    [InlineData(OrderStatus.Rejected)]
    public async Task A_record_ending_a_recorded_compensation_sets_the_outcome_it_was_for_and_keeps_its_reason(OrderStatus outcome)
    {
        await using var harness = await ActivityHarness.CreateAsync(db, null);
        var order = await db.AddOrderAsync([new("TAMPER", 1)], OrderStatus.Reserved);
        await env.RunAsync(() => harness.Activities.RecordOrderStatusAsync(new(order, OrderStatus.Compensating, "Payment declined", Outcome: outcome)));
        // A later run (the first was terminated) knows neither the outcome nor the reason.
        await env.RunAsync(() => harness.Activities.RecordOrderStatusAsync(new(order, OrderStatus.Compensating, null)));

        var final = await env.RunAsync(() => harness.Activities.RecordOrderStatusAsync(
            new(order, OrderStatus.Cancelled, null, EndsRecordedCompensation: true)));

        Assert.Equal(outcome, final);
        Assert.Equal(outcome.ToString(), await db.ScalarAsync<string>("SELECT status FROM orders WHERE id = @p0", order));
        Assert.Equal("Payment declined", await db.ScalarAsync<string>("SELECT failure_reason FROM orders WHERE id = @p0", order));
    }

    [Fact]
    public async Task Without_a_recorded_outcome_the_record_sets_its_own_status()
    {
        // Compensations begun by builds before the outcome was kept.
        await using var harness = await ActivityHarness.CreateAsync(db, null);
        var order = await db.AddOrderAsync([new("TAMPER", 1)], OrderStatus.Compensating);

        var final = await env.RunAsync(() => harness.Activities.RecordOrderStatusAsync(
            new(order, OrderStatus.Cancelled, null, EndsRecordedCompensation: true)));

        Assert.Equal(OrderStatus.Cancelled, final);
    }
}

using Temporalio.Common;
using Temporalio.Worker;

namespace Worker.Tests.Workflows;

/// <summary>
/// The saga's command sequence for each path, checked by replaying histories built event by event. If the
/// workflow schedules a different activity, in another order, or finishes differently, replay fails.
/// </summary>
public sealed class OrderWorkflowReplayTests
{
    private static readonly TimeSpan ApprovalTimeout = TimeSpan.FromHours(24);

    [Fact]
    public async Task Happy_path_reserves_charges_ships_and_completes()
    {
        var b = Start("happy", total: 100m);
        b.Activity("ChargePayment", new PaymentReceipt("happy", 100m, "ref"));
        b.Activity("ShipOrder", new Shipment("happy", "TRK-happy"));

        var result = await ReplayAsync(b.Complete(new OrderResult("happy", OrderStatus.Completed, null)));

        Assert.Equal(new OrderResult("happy", OrderStatus.Completed, null), result);
    }

    [Fact]
    public async Task Declined_payment_releases_stock_and_records_failure()
    {
        var b = Start("decline", total: 100m);
        b.FailActivity("ChargePayment", OrderErrors.PaymentDeclined, "Payment declined for order decline");
        Compensation(b, refund: false);

        var result = await ReplayAsync(b.Complete(null));

        Assert.Equal(OrderStatus.Failed, result.Status);
        Assert.Equal("Payment declined for order decline", result.FailureReason);
    }

    [Fact]
    public async Task Out_of_stock_records_failure_without_compensation()
    {
        var b = new HistoryBuilder("OrderWorkflow", "order-oos", Input("oos")).Patch(OrderWorkflow.CancelSafeSagaPatch);
        b.FailActivity("ReserveInventory", OrderErrors.OutOfStock, "Out of stock: GRINDER x5");
        b.Activity("RecordOrderStatus");

        var result = await ReplayAsync(b.Complete(null));

        Assert.Equal(OrderStatus.Failed, result.Status);
        Assert.Equal("Out of stock: GRINDER x5", result.FailureReason);
    }

    [Fact]
    public async Task Large_order_waits_for_approval_then_charges_and_ships()
    {
        var b = StartAwaitingApproval("approve", out var timer);
        b.Signal("Approve");
        b.CancelTimer(timer);
        b.Activity("ChargePayment", new PaymentReceipt("approve", 5000m, "ref"));
        b.Activity("ShipOrder", new Shipment("approve", "TRK-approve"));

        var result = await ReplayAsync(b.Complete(null));

        Assert.Equal(OrderStatus.Completed, result.Status);
    }

    [Fact]
    public async Task Rejected_order_releases_stock_and_ends_rejected()
    {
        var b = StartAwaitingApproval("reject", out var timer);
        b.Signal("Reject");
        b.CancelTimer(timer);
        Compensation(b, refund: false);

        var result = await ReplayAsync(b.Complete(null));

        Assert.Equal(OrderStatus.Rejected, result.Status);
    }

    [Fact]
    public async Task Approval_timeout_cancels_the_order_and_releases_stock()
    {
        var b = StartAwaitingApproval("timeout", out var timer);
        b.FireTimer(timer, ApprovalTimeout);
        Compensation(b, refund: false);

        var result = await ReplayAsync(b.Complete(null));

        Assert.Equal(OrderStatus.Cancelled, result.Status);
        Assert.StartsWith("Approval timed out", result.FailureReason);
    }

    [Fact]
    public async Task Cancel_during_shipping_cancels_the_shipment_then_refunds_and_releases()
    {
        var b = Start("cancel", total: 100m);
        b.Activity("ChargePayment", new PaymentReceipt("cancel", 100m, "ref"));
        var ship = b.ScheduleActivity("ShipOrder");
        var started = b.StartActivity(ship);
        b.Signal("Cancel");
        var cancelRequested = b.RequestCancelActivity(ship);
        b.ActivityCanceled(ship, started, cancelRequested);
        Compensation(b, refund: true);

        var result = await ReplayAsync(b.Complete(null));

        Assert.Equal(OrderStatus.Cancelled, result.Status);
        Assert.Equal("Cancelled by request", result.FailureReason);
    }

    [Fact]
    public async Task Workflow_cancel_during_reserve_waits_for_the_reservation_then_releases_it()
    {
        var b = new HistoryBuilder("OrderWorkflow", "order-wf-cancel-reserve", Input("wf-cancel-reserve")).Patch(OrderWorkflow.CancelSafeSagaPatch);
        var reserve = b.ScheduleActivity("ReserveInventory");
        b.CancelWorkflow(); // no command: the reservation is not cancelled, the workflow waits for its outcome
        b.CompleteActivity(reserve, new Reservation("wf-cancel-reserve", 100m));
        Compensation(b, refund: false);

        var result = await ReplayAsync(b.Complete(null));

        Assert.Equal(new OrderResult("wf-cancel-reserve", OrderStatus.Cancelled, "Cancelled by request"), result);
    }

    [Fact]
    public async Task Workflow_cancel_during_charge_waits_for_the_charge_then_refunds_and_releases()
    {
        var b = Start("wf-cancel-charge", total: 100m);
        var charge = b.ScheduleActivity("ChargePayment");
        b.CancelWorkflow();
        b.CompleteActivity(charge, new PaymentReceipt("wf-cancel-charge", 100m, "ref"));
        Compensation(b, refund: true);

        var result = await ReplayAsync(b.Complete(null));

        Assert.Equal(OrderStatus.Cancelled, result.Status);
    }

    [Fact]
    public async Task A_charge_that_exhausted_its_retries_is_refunded_as_it_may_have_taken_effect()
    {
        var b = Start("charge-exhausted", total: 100m);
        b.FailActivity("ChargePayment", "NpgsqlException", "database unreachable", nonRetryable: false);
        Compensation(b, refund: true);

        var result = await ReplayAsync(b.Complete(null));

        Assert.Equal(OrderStatus.Failed, result.Status);
    }

    [Fact]
    public async Task A_technical_failure_shows_the_step_that_failed_never_the_infrastructure_error()
    {
        // What the workflow records is what GET /api/orders/{id} shows as the order's failure reason.
        var b = Start("raw-error", total: 100m);
        b.FailActivity("ChargePayment", "PostgresException", "28P01: password authentication failed for user \"orders\"", nonRetryable: false);
        Compensation(b, refund: true);

        var result = await ReplayAsync(b.Complete(null));

        Assert.Equal(OrderStatus.Failed, result.Status);
        Assert.Equal("ChargePayment failed: a technical error after every retry (the worker's log has it for this order)", result.FailureReason);
    }

    [Fact]
    public async Task A_run_that_finishes_a_compensation_an_earlier_run_began_ends_with_the_outcome_it_recorded()
    {
        // The order was Compensating for a declined payment when its run was terminated; a repeated POST starts this run.
        var b = new HistoryBuilder("OrderWorkflow", "order-recovered", Input("recovered")).Patch(OrderWorkflow.CancelSafeSagaPatch);
        b.FailActivity("ReserveInventory", OrderErrors.OrderClosed, "Order recovered is Compensating; this step no longer applies");
        b.Patch(OrderWorkflow.CompensationOutcomePatch);
        b.Activity("RecordOrderStatus", OrderStatus.Compensating);
        b.Activity("RefundPayment");
        b.Activity("ReleaseInventory");
        b.Activity("RecordOrderStatus", OrderStatus.Failed);

        var result = await ReplayAsync(b.Complete(null));

        Assert.Equal(OrderStatus.Failed, result.Status);
    }

    [Fact]
    public async Task A_history_from_before_the_patch_replays_through_the_saga_of_that_time()
    {
        // No patch marker: the workflow takes the path it had then, where a rejection released stock without
        // recording Compensating first. The same events with the marker would be a different command sequence.
        var b = new HistoryBuilder("OrderWorkflow", "order-old-reject", Input("old-reject", threshold: 1000m));
        b.Activity("ReserveInventory", new Reservation("old-reject", 5000m));
        b.Activity("RecordOrderStatus");
        var timer = b.StartTimer(ApprovalTimeout);
        b.Signal("Reject");
        b.CancelTimer(timer);
        b.Activity("ReleaseInventory");
        b.Activity("RecordOrderStatus");

        var result = await ReplayAsync(b.Complete(null));

        Assert.Equal(OrderStatus.Rejected, result.Status);
    }

    [Fact]
    public async Task A_changed_command_sequence_fails_replay()
    {
        // Refund before charge is not what the workflow does: replay must report non-determinism.
        var b = Start("changed", total: 100m);
        b.Activity("RefundPayment");
        b.Activity("ShipOrder", new Shipment("changed", "TRK"));

        var error = await Assert.ThrowsAnyAsync<Exception>(() => ReplayAsync(b.Complete(null)));

        Assert.Contains("nondetermin", error.ToString(), StringComparison.OrdinalIgnoreCase);
    }

    [Fact]
    public async Task A_missing_step_fails_replay()
    {
        // A history where shipping never happened: the workflow's ShipOrder command has no matching event.
        var b = Start("missing", total: 100m);
        b.Activity("ChargePayment", new PaymentReceipt("missing", 100m, "ref"));

        var error = await Assert.ThrowsAnyAsync<Exception>(() => ReplayAsync(b.Complete(null)));

        Assert.Contains("nondetermin", error.ToString(), StringComparison.OrdinalIgnoreCase);
    }

    /// <summary>The compensation the saga runs: Compensating recorded, refund when charged, release, the final status recorded.</summary>
    private static void Compensation(HistoryBuilder b, bool refund)
    {
        b.Activity("RecordOrderStatus", OrderStatus.Compensating);
        if (refund)
        {
            b.Activity("RefundPayment");
        }
        b.Activity("ReleaseInventory");
        b.Activity("RecordOrderStatus");
    }

    private static OrderInput Input(string id, decimal threshold = 1000m) =>
        new(id, [new OrderLine("GRINDER", 1)], "tok_visa", threshold, ApprovalTimeout);

    private static HistoryBuilder Start(string id, decimal total)
    {
        var b = new HistoryBuilder("OrderWorkflow", $"order-{id}", Input(id)).Patch(OrderWorkflow.CancelSafeSagaPatch);
        b.Activity("ReserveInventory", new Reservation(id, total));
        return b;
    }

    private static HistoryBuilder StartAwaitingApproval(string id, out (string, long) timer)
    {
        var b = Start(id, total: 5000m);
        b.Activity("RecordOrderStatus");
        timer = b.StartTimer(ApprovalTimeout);
        return b;
    }

    private static async Task<OrderResult> ReplayAsync(WorkflowHistory history)
    {
        var capture = new ResultCapturingInterceptor();
        var replayer = new WorkflowReplayer(new WorkflowReplayerOptions { Interceptors = [capture] }.AddWorkflow<OrderWorkflow>());
        await replayer.ReplayWorkflowAsync(history);
        return Assert.IsType<OrderResult>(capture.Results[history.Id]);
    }
}

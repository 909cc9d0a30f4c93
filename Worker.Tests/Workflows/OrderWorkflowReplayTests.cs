using Temporalio.Common;
using Temporalio.Worker;
using Worker.Orders;

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
        b.Activity("ReleaseInventory");
        b.Activity("RecordOrderStatus");

        var result = await ReplayAsync(b.Complete(null));

        Assert.Equal(OrderStatus.Failed, result.Status);
        Assert.Equal("Payment declined for order decline", result.FailureReason);
    }

    [Fact]
    public async Task Out_of_stock_records_failure_without_compensation()
    {
        var b = new HistoryBuilder("OrderWorkflow", "order-oos", Input("oos"));
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
        b.Activity("ReleaseInventory");
        b.Activity("RecordOrderStatus");

        var result = await ReplayAsync(b.Complete(null));

        Assert.Equal(OrderStatus.Rejected, result.Status);
    }

    [Fact]
    public async Task Approval_timeout_cancels_the_order_and_releases_stock()
    {
        var b = StartAwaitingApproval("timeout", out var timer);
        b.FireTimer(timer, ApprovalTimeout);
        b.Activity("ReleaseInventory");
        b.Activity("RecordOrderStatus");

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
        b.Activity("RefundPayment");
        b.Activity("ReleaseInventory");
        b.Activity("RecordOrderStatus");

        var result = await ReplayAsync(b.Complete(null));

        Assert.Equal(OrderStatus.Cancelled, result.Status);
        Assert.Equal("Cancelled by request", result.FailureReason);
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

    private static OrderInput Input(string id, decimal threshold = 1000m) =>
        new(id, [new OrderLine("GRINDER", 1)], "tok_visa", threshold, ApprovalTimeout);

    private static HistoryBuilder Start(string id, decimal total)
    {
        var b = new HistoryBuilder("OrderWorkflow", $"order-{id}", Input(id));
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

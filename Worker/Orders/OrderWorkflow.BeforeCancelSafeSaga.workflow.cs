using Temporalio.Exceptions;
using Temporalio.Workflows;

namespace Worker.Orders;

// The saga as it ran before the patch "cancel-safe-saga", kept so that workflows started by earlier versions
// replay and finish with exactly the commands they began with (Worker.Tests/Histories/before-cancel-safe-saga/
// guards this). Delete this file, and turn Workflow.Patched into Workflow.DeprecatePatch, once no workflow
// started before the patch is open or inside the namespace's retention period.
// It cancels reserve and charge with the workflow (so a cancel could lose a charge: the reason for the patch),
// and compensates only steps whose activity returned.
public sealed partial class OrderWorkflow
{
    private async Task<OrderResult> RunBeforeCancelSafeSagaAsync(OrderInput input)
    {
        using var cancelSource = CancellationTokenSource.CreateLinkedTokenSource(Workflow.CancellationToken);
        cancelSignalSource = cancelSource;
        var reserved = false;
        var charged = false;
        try
        {
            Enter("ReserveInventory", OrderStatus.Pending);
            var reservation = await OrderActivityCalls.ReserveInventoryAsync(
                new ReserveInventoryInput(input.OrderId, input.Lines), ReserveOptions);
            reserved = true;
            status = OrderStatus.Reserved;

            if (reservation.Total >= input.ApprovalThreshold
                && await AwaitApprovalAsync(input, recordToken: null, cancelSource.Token) is var (refused, why))
            {
                return await CompensateBeforeCancelSafeSagaAsync(input.OrderId, reserved, charged, refused, why);
            }
            if (cancelRequested)
            {
                return await CompensateBeforeCancelSafeSagaAsync(input.OrderId, reserved, charged, OrderStatus.Cancelled, "Cancelled by request");
            }

            Enter("ChargePayment", OrderStatus.Reserved);
            await OrderActivityCalls.ChargePaymentAsync(
                new ChargePaymentInput(input.OrderId, input.PaymentToken, reservation.Total), ChargeOptions);
            charged = true;
            status = OrderStatus.Charged;
            if (cancelRequested)
            {
                return await CompensateBeforeCancelSafeSagaAsync(input.OrderId, reserved, charged, OrderStatus.Cancelled, "Cancelled by request");
            }

            Enter("ShipOrder", OrderStatus.Shipping);
            await OrderActivityCalls.ShipOrderAsync(input.OrderId, WithToken(ShipOptions, cancelSource.Token));
            Enter("Completed", OrderStatus.Completed);
            return new OrderResult(input.OrderId, OrderStatus.Completed, null);
        }
        catch (Exception e) when (e is ActivityFailureException || TemporalException.IsCanceledException(e))
        {
            var final = cancelRequested || TemporalException.IsCanceledException(e) ? OrderStatus.Cancelled : OrderStatus.Failed;
            var reason = final == OrderStatus.Cancelled ? "Cancelled by request" : RootMessage(e);
            return await CompensateBeforeCancelSafeSagaAsync(input.OrderId, reserved, charged, final, reason);
        }
    }

    private async Task<OrderResult> CompensateBeforeCancelSafeSagaAsync(
        string orderId, bool reserved, bool charged, OrderStatus final, string reason)
    {
        failureReason = reason;
        Enter("Compensating", OrderStatus.Compensating);
        // A fresh token: these must run even when the workflow itself is being cancelled.
        using var detached = new CancellationTokenSource();
        await UndoAsync(orderId, reserved, charged, WithToken(CompensationOptions, detached.Token));
        await RecordStatusAsync(orderId, final, reason, detached.Token);
        Enter(final.ToString(), final);
        return new OrderResult(orderId, final, reason);
    }
}

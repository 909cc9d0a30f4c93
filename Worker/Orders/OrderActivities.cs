using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;
using Temporalio.Activities;
using Temporalio.Exceptions;
using Worker.Orders.Cache;
using Worker.Orders.Payments;
using Worker.Orders.Persistence;

namespace Worker.Orders;

/// <summary>
/// The saga's side effects. Each activity is idempotent (see <see cref="FulfilmentStore"/> and <see cref="PaymentLedger"/>), turns business
/// refusals into non-retryable application failures and mirrors the order's new state into the cache after
/// the database transaction committed. Registered scoped: one instance per activity execution.
/// </summary>
public sealed partial class OrderActivities(
    FulfilmentStore store, PaymentLedger ledger, IOrderCache cache, IPaymentGateway payments, IOptions<OrdersOptions> options)
{
    /// <summary>
    /// Registered activity names: the method name without its <c>Async</c> suffix, as the SDK derives it.
    /// Workflows refer to these; renaming a method renames the activity, which the replay tests catch.
    /// </summary>
    public static class Names
    {
        public static readonly string ReserveInventory = Of(nameof(ReserveInventoryAsync));
        public static readonly string ReleaseInventory = Of(nameof(ReleaseInventoryAsync));
        public static readonly string ChargePayment = Of(nameof(ChargePaymentAsync));
        public static readonly string RefundPayment = Of(nameof(RefundPaymentAsync));
        public static readonly string ShipOrder = Of(nameof(ShipOrderAsync));
        public static readonly string RecordOrderStatus = Of(nameof(RecordOrderStatusAsync));

        private static string Of(string method) => method.EndsWith("Async", StringComparison.Ordinal) ? method[..^5] : method;
    }

    /// <summary>Shipping stages, in order; the heartbeat carries the index of the last completed one.</summary>
    public static readonly IReadOnlyList<string> ShippingStages = ["Picking", "Packing", "HandedToCarrier"];

    [Activity]
    public async Task<Reservation> ReserveInventoryAsync(ReserveInventoryInput input)
    {
        ArgumentNullException.ThrowIfNull(input);
        var (total, pastApproval, order) = await Refusable(() => store.ReserveAsync(input.OrderId, input.Lines, CancellationToken));
        await cache.SetAsync(order);
        LogReserved(Logger, input.OrderId, total, pastApproval);
        return new Reservation(input.OrderId, total, pastApproval);
    }

    [Activity]
    public async Task ReleaseInventoryAsync(string orderId)
    {
        var order = await Refusable(() => store.ReleaseAsync(orderId, CancellationToken));
        await cache.SetAsync(order);
        LogReleased(Logger, orderId);
    }

    /// <summary>
    /// Charges the order. With an external gateway the charge is recorded as pending first, so that a refund finds
    /// it whatever happens after the gateway is called (a ledger write that keeps failing, a worker that dies);
    /// then the gateway is called with an idempotency key, then the charge is settled. Without one the
    /// settlement is the only statement. Refused when the order is being compensated or has finished.
    /// </summary>
    [Activity]
    public async Task<PaymentReceipt> ChargePaymentAsync(ChargePaymentInput input)
    {
        ArgumentNullException.ThrowIfNull(input);
        var token = input.PaymentToken ?? await ledger.FindTokenAsync(input.OrderId, CancellationToken);
        if (payments.IsExternal)
        {
            var charge = await Refusable(() => ledger.BeginChargeAsync(
                input.OrderId, input.Amount, HttpPaymentGateway.ChargeIdempotencyKey(input.OrderId), CancellationToken));
            if (charge.Settled)
            {
                // A retry after the charge settled must not call the gateway again.
                return new PaymentReceipt(input.OrderId, charge.Amount, charge.Reference);
            }
        }
        string reference;
        try
        {
            reference = await payments.ChargeAsync(input.OrderId, input.Amount, token, CancellationToken);
        }
        catch (PaymentDeclinedException e)
        {
            if (payments.IsExternal)
            {
                await ledger.AbandonPendingChargeAsync(input.OrderId, CancellationToken);
            }
            throw Declined(e.Message);
        }
        // The ledger keeps the first charge of an order; a retry gets that charge's receipt back.
        PaymentReceipt receipt;
        OrderView order;
        try
        {
            (receipt, order) = await ledger.SettleChargeAsync(input.OrderId, input.Amount, reference, CancellationToken);
        }
        catch (FulfilmentRefusedException e) when (
            e.ErrorType == OrderErrors.OrderClosed && payments.IsExternal && e.OrderStatus != OrderStatus.Completed)
        {
            // The order was closed while the gateway charged: an attempt that outlived its timeout, whose workflow
            // has compensated, or is compensating, and may have found nothing to refund. Undo this charge here. (A
            // completed order was paid by another attempt under the same idempotency key: this is that charge.)
            await payments.RefundAsync(input.OrderId, new ChargeRecord(input.Amount, reference, Settled: true), CancellationToken);
            throw new ApplicationFailureException(e.Message, e.ErrorType, nonRetryable: true);
        }
        catch (FulfilmentRefusedException e)
        {
            throw new ApplicationFailureException(e.Message, e.ErrorType, nonRetryable: true);
        }
        await cache.SetAsync(order);
        LogCharged(Logger, input.OrderId, receipt.Amount, receipt.Reference);
        return receipt;
    }

    /// <summary>Refunds the order's charge, pending or settled, at the gateway and in the ledger; nothing when there is none.</summary>
    [Activity]
    public async Task RefundPaymentAsync(string orderId)
    {
        if (payments.IsExternal && await ledger.FindRefundableChargeAsync(orderId, CancellationToken) is { } charge)
        {
            await payments.RefundAsync(orderId, charge, CancellationToken);
        }
        var order = await Refusable(() => ledger.RecordRefundAsync(orderId, CancellationToken));
        await cache.SetAsync(order);
        LogRefunded(Logger, orderId);
    }

    /// <summary>
    /// Moves the shipment through its stages, heartbeating the number of finished stages before each slice of
    /// work, so that a retry resumes where the last attempt stopped and a cancellation reaches the activity.
    /// Nothing is heartbeated after the last slice: the SDK sends the completion before heartbeats still
    /// queued, and the server would reject such a late heartbeat for an activity that has finished.
    /// On cancellation the unfinished shipment is marked cancelled and the cancellation propagates to the workflow.
    /// </summary>
    [Activity]
    public async Task<Shipment> ShipOrderAsync(string orderId)
    {
        var context = ActivityExecutionContext.Current;
        var (stage, tracking, order) = await Refusable(() => store.StartShipmentAsync(orderId, CancellationToken));
        await cache.SetAsync(order);
        if (tracking is not null)
        {
            return new Shipment(orderId, tracking);
        }
        if (context.Info.HeartbeatDetails.Count > 0)
        {
            stage = Math.Max(stage, await context.Info.HeartbeatDetailAtAsync<int>(0));
        }
        // Progress lives in the heartbeat (durable in Temporal); the database gets the final stage.
        try
        {
            for (; stage < ShippingStages.Count; stage++)
            {
                await WorkThroughStageAsync(context, stage);
            }
        }
        catch (OperationCanceledException)
        {
            // The store call must not use the cancelled token: recording the cancellation is the point.
            await store.CancelShipmentAsync(orderId, stage, CancellationToken.None);
            throw;
        }
        var trackingNumber = $"TRK-{orderId}";
        order = await Refusable(() => store.CompleteShipmentAsync(orderId, ShippingStages.Count, trackingNumber, CancellationToken.None));
        await cache.SetAsync(order);
        LogShipped(Logger, orderId, trackingNumber);
        return new Shipment(orderId, trackingNumber);
    }

    /// <summary>
    /// Records the status as far as the order's state allows (see <see cref="FulfilmentStore.RecordStatusAsync"/>);
    /// returns the status the order has afterwards, so the workflow sees when the order had already finished.
    /// </summary>
    [Activity]
    public async Task<OrderStatus> RecordOrderStatusAsync(OrderStatusUpdate update)
    {
        ArgumentNullException.ThrowIfNull(update);
        var order = await Refusable(() => store.RecordStatusAsync(update, CancellationToken));
        await cache.SetAsync(order);
        return order.Status;
    }

    private static CancellationToken CancellationToken => ActivityExecutionContext.Current.CancellationToken;

    // The SDK's activity logger: in the logs each line carries the workflow and activity it ran for (Temporal/Tracing).
    private static ILogger Logger => ActivityExecutionContext.Current.Logger;

    // One line per saga step that changed something, for operators following an order in the logs.
    [LoggerMessage(Level = LogLevel.Information, Message = "Reserved stock for order {OrderId}: total {Total}, approved before {PastApproval}")]
    private static partial void LogReserved(ILogger logger, string orderId, decimal total, bool pastApproval);

    [LoggerMessage(Level = LogLevel.Information, Message = "Released the stock of order {OrderId}")]
    private static partial void LogReleased(ILogger logger, string orderId);

    [LoggerMessage(Level = LogLevel.Information, Message = "Charged {Amount} for order {OrderId} (reference {Reference})")]
    private static partial void LogCharged(ILogger logger, string orderId, decimal amount, string? reference);

    [LoggerMessage(Level = LogLevel.Information, Message = "Refunded the charge of order {OrderId}, if any")]
    private static partial void LogRefunded(ILogger logger, string orderId);

    [LoggerMessage(Level = LogLevel.Information, Message = "Shipped order {OrderId} (tracking {TrackingNumber})")]
    private static partial void LogShipped(ILogger logger, string orderId, string trackingNumber);

    // A stage is slow work; heartbeat in small slices so a cancellation is seen within a fraction of a stage
    // (the SDK throttles the heartbeats it actually sends). The detail is the number of finished stages.
    private async Task WorkThroughStageAsync(ActivityExecutionContext context, int stage)
    {
        var remaining = options.Value.ShippingStageDuration;
        var slice = TimeSpan.FromMilliseconds(200);
        while (remaining > TimeSpan.Zero)
        {
            var wait = remaining < slice ? remaining : slice;
            context.Heartbeat(stage);
            await Task.Delay(wait, context.CancellationToken);
            remaining -= wait;
        }
        context.CancellationToken.ThrowIfCancellationRequested();
    }

    private static ApplicationFailureException Declined(string message) =>
        new(message, OrderErrors.PaymentDeclined, nonRetryable: true);

    private static async Task<T> Refusable<T>(Func<Task<T>> step)
    {
        try
        {
            return await step();
        }
        catch (FulfilmentRefusedException e)
        {
            throw new ApplicationFailureException(e.Message, e.ErrorType, nonRetryable: true);
        }
    }
}

using Temporalio.Workflows;

namespace Worker.Orders;

/// <summary>
/// Typed calls of <see cref="OrderActivities"/> for workflow code. Each schedules its activity by name
/// (<see cref="OrderActivities.Names"/>): the SDK would compile a lambda call such as
/// <c>Workflow.ExecuteActivityAsync((OrderActivities a) => a.ShipOrderAsync(id), options)</c> on every call, a
/// cost every order would pay. The compiler still checks each call against its activity: argument and result
/// types come from a lambda over the activity method in <see cref="Signatures"/>, built once and never invoked,
/// so changing an activity's signature fails the build instead of running workflows.
/// </summary>
internal static class OrderActivityCalls
{
    public static Task<Reservation> ReserveInventoryAsync(ReserveInventoryInput input, ActivityOptions options) =>
        Schedule(Signatures.ReserveInventory, OrderActivities.Names.ReserveInventory, input, options);

    public static Task ReleaseInventoryAsync(string orderId, ActivityOptions options) =>
        ScheduleIgnoringResult(Signatures.ReleaseInventory, OrderActivities.Names.ReleaseInventory, orderId, options);

    public static Task<PaymentReceipt> ChargePaymentAsync(ChargePaymentInput input, ActivityOptions options) =>
        Schedule(Signatures.ChargePayment, OrderActivities.Names.ChargePayment, input, options);

    public static Task RefundPaymentAsync(string orderId, ActivityOptions options) =>
        ScheduleIgnoringResult(Signatures.RefundPayment, OrderActivities.Names.RefundPayment, orderId, options);

    public static Task<Shipment> ShipOrderAsync(string orderId, ActivityOptions options) =>
        Schedule(Signatures.ShipOrder, OrderActivities.Names.ShipOrder, orderId, options);

    /// <summary>Records the status and returns the status the order has afterwards.</summary>
    public static Task<OrderStatus> RecordOrderStatusAsync(OrderStatusUpdate update, ActivityOptions options) =>
        Schedule(Signatures.RecordOrderStatus, OrderActivities.Names.RecordOrderStatus, update, options);

    /// <summary>
    /// Records the status without reading the result: histories from before the activity returned a status carry
    /// no result to read, and the saga reads it only where it decides on it.
    /// </summary>
    public static Task RecordOrderStatusIgnoringResultAsync(OrderStatusUpdate update, ActivityOptions options) =>
        ScheduleIgnoringResult(Signatures.RecordOrderStatus, OrderActivities.Names.RecordOrderStatus, update, options);

    // The signature only fixes TInput and TResult at compile time; the call itself is by name.
    private static Task<TResult> Schedule<TInput, TResult>(
        Func<OrderActivities, TInput, Task<TResult>> signature, string name, TInput input, ActivityOptions options) =>
        Workflow.ExecuteActivityAsync<TResult>(name, [input], options);

    private static Task ScheduleIgnoringResult<TInput>(
        Func<OrderActivities, TInput, Task> signature, string name, TInput input, ActivityOptions options) =>
        Workflow.ExecuteActivityAsync(name, [input], options);

    /// <summary>The activity methods as the compiler sees them.</summary>
    private static class Signatures
    {
        public static readonly Func<OrderActivities, ReserveInventoryInput, Task<Reservation>> ReserveInventory =
            (activities, input) => activities.ReserveInventoryAsync(input);

        public static readonly Func<OrderActivities, string, Task> ReleaseInventory =
            (activities, orderId) => activities.ReleaseInventoryAsync(orderId);

        public static readonly Func<OrderActivities, ChargePaymentInput, Task<PaymentReceipt>> ChargePayment =
            (activities, input) => activities.ChargePaymentAsync(input);

        public static readonly Func<OrderActivities, string, Task> RefundPayment =
            (activities, orderId) => activities.RefundPaymentAsync(orderId);

        public static readonly Func<OrderActivities, string, Task<Shipment>> ShipOrder =
            (activities, orderId) => activities.ShipOrderAsync(orderId);

        public static readonly Func<OrderActivities, OrderStatusUpdate, Task<OrderStatus>> RecordOrderStatus =
            (activities, update) => activities.RecordOrderStatusAsync(update);
    }
}

using Temporalio.Activities;
using Temporalio.Exceptions;
using Temporalio.Worker.Interceptors;

namespace Worker.Orders.Telemetry;

/// <summary>
/// Counts failed activity attempts in <c>orders.activity.failures</c>, by activity type and error type.
/// Activities run once per attempt (no replay), so each failed attempt is counted once. A cancelled activity
/// (a cancelled shipment) is not a failure: Temporal reports it as cancelled.
/// </summary>
public sealed class OrderActivityMetricsInterceptor(OrderMetrics metrics) : IWorkerInterceptor
{
    public ActivityInboundInterceptor InterceptActivity(ActivityInboundInterceptor nextInterceptor) =>
        new Inbound(nextInterceptor, metrics);

    /// <summary>
    /// The error type: an application failure's own type (OutOfStock, PaymentDeclined …), else the exception's
    /// type name (error.type as OpenTelemetry defines it).
    /// </summary>
    public static (string ErrorType, bool Refusal) Classify(Exception e) => e switch
    {
        ApplicationFailureException { ErrorType: { Length: > 0 } type } failure => (type, failure.NonRetryable),
        ApplicationFailureException failure => (nameof(ApplicationFailureException), failure.NonRetryable),
        _ => (e.GetType().FullName ?? e.GetType().Name, false),
    };

    private sealed class Inbound(ActivityInboundInterceptor next, OrderMetrics metrics) : ActivityInboundInterceptor(next)
    {
        public override async Task<object?> ExecuteActivityAsync(ExecuteActivityInput input)
        {
            try
            {
                return await base.ExecuteActivityAsync(input);
            }
            catch (Exception e) when (!IsCancellation(e))
            {
                var (errorType, refusal) = Classify(e);
                metrics.ActivityFailed(ActivityExecutionContext.Current.Info.ActivityType, errorType, refusal);
                throw;
            }
        }

        private static bool IsCancellation(Exception e) =>
            e is OperationCanceledException && ActivityExecutionContext.Current.CancellationToken.IsCancellationRequested;
    }
}

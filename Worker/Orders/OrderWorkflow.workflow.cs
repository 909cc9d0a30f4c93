using Temporalio.Common;
using Temporalio.Exceptions;
using Temporalio.Workflows;

namespace Worker.Orders;

/// <summary>
/// The order-fulfilment saga: reserve stock, wait for approval when the order is large, charge, ship.
/// A failure or a <c>Cancel</c> signal after a step undoes the completed steps in reverse order.
/// Workflow code is deterministic and free of I/O: every side effect is an activity in <see cref="OrderActivities"/>.
/// Activities are called by name (<see cref="OrderActivities.Names"/>) rather than through lambda
/// expressions: the SDK compiles a lambda's arguments on every call, a cost every order would pay.
/// </summary>
[Workflow]
public sealed class OrderWorkflow
{
    // Reservation and payment are short database transactions: retry transient failures (a database restart,
    // a network blip) for a few minutes, never a business refusal.
    internal static readonly ActivityOptions ReserveOptions = new()
    {
        StartToCloseTimeout = TimeSpan.FromSeconds(30),
        RetryPolicy = new RetryPolicy
        {
            InitialInterval = TimeSpan.FromSeconds(1),
            BackoffCoefficient = 2,
            MaximumInterval = TimeSpan.FromSeconds(10),
            MaximumAttempts = 20,
            NonRetryableErrorTypes = [OrderErrors.OutOfStock, OrderErrors.UnknownSku, OrderErrors.UnknownOrder],
        },
    };

    internal static readonly ActivityOptions ChargeOptions = new()
    {
        StartToCloseTimeout = TimeSpan.FromSeconds(30),
        RetryPolicy = new RetryPolicy
        {
            InitialInterval = TimeSpan.FromSeconds(1),
            BackoffCoefficient = 2,
            MaximumInterval = TimeSpan.FromSeconds(10),
            MaximumAttempts = 20,
            NonRetryableErrorTypes = [OrderErrors.PaymentDeclined, OrderErrors.UnknownOrder],
        },
    };

    // Shipping takes a while and reports progress: a worker that dies mid-shipment is noticed after the
    // heartbeat timeout instead of the whole start-to-close timeout, and the retry resumes at the last stage.
    internal static readonly ActivityOptions ShipOptions = new()
    {
        StartToCloseTimeout = TimeSpan.FromMinutes(10),
        HeartbeatTimeout = TimeSpan.FromSeconds(10),
        CancellationType = ActivityCancellationType.WaitCancellationCompleted,
        RetryPolicy = new RetryPolicy
        {
            InitialInterval = TimeSpan.FromSeconds(1),
            BackoffCoefficient = 2,
            MaximumInterval = TimeSpan.FromSeconds(30),
            MaximumAttempts = 10,
            NonRetryableErrorTypes = [OrderErrors.UnknownOrder],
        },
    };

    // Compensations and status records must eventually succeed: retry without limit, and never cancel them
    // (they run precisely when the order was cancelled).
    internal static readonly ActivityOptions CompensationOptions = new()
    {
        StartToCloseTimeout = TimeSpan.FromSeconds(30),
        RetryPolicy = new RetryPolicy
        {
            InitialInterval = TimeSpan.FromSeconds(1),
            BackoffCoefficient = 2,
            MaximumInterval = TimeSpan.FromMinutes(1),
            MaximumAttempts = 0,
        },
    };

    private readonly Dictionary<string, DateTime> stepStartedAt = [];
    private string step = "Starting";
    private OrderStatus status = OrderStatus.Pending;
    private string? failureReason;
    private bool? approved;
    private bool cancelRequested;
    private CancellationTokenSource? cancelSignalSource;

    [WorkflowRun]
    public async Task<OrderResult> RunAsync(OrderInput input)
    {
        ArgumentNullException.ThrowIfNull(input);
        using var cancelSource = CancellationTokenSource.CreateLinkedTokenSource(Workflow.CancellationToken);
        cancelSignalSource = cancelSource;
        var reserved = false;
        var charged = false;
        try
        {
            Enter("ReserveInventory", OrderStatus.Pending);
            var reservation = await Workflow.ExecuteActivityAsync<Reservation>(
                OrderActivities.Names.ReserveInventory, [new ReserveInventoryInput(input.OrderId, input.Lines)], ReserveOptions);
            reserved = true;
            status = OrderStatus.Reserved;

            if (reservation.Total >= input.ApprovalThreshold)
            {
                Enter("AwaitingApproval", OrderStatus.AwaitingApproval);
                await RecordStatusAsync(input.OrderId, OrderStatus.AwaitingApproval, null);
                var decided = await Workflow.WaitConditionAsync(
                    () => approved.HasValue || cancelRequested, input.ApprovalTimeout, cancelSource.Token);
                if (!decided)
                {
                    return await CompensateAsync(input.OrderId, reserved, charged, OrderStatus.Cancelled,
                        $"Approval timed out after {input.ApprovalTimeout}");
                }
                if (approved == false)
                {
                    return await CompensateAsync(input.OrderId, reserved, charged, OrderStatus.Rejected, "Rejected by approver");
                }
            }
            if (cancelRequested)
            {
                return await CompensateAsync(input.OrderId, reserved, charged, OrderStatus.Cancelled, "Cancelled by request");
            }

            Enter("ChargePayment", status);
            await Workflow.ExecuteActivityAsync<PaymentReceipt>(
                OrderActivities.Names.ChargePayment, [new ChargePaymentInput(input.OrderId, input.PaymentToken, reservation.Total)],
                ChargeOptions);
            charged = true;
            status = OrderStatus.Charged;
            if (cancelRequested)
            {
                return await CompensateAsync(input.OrderId, reserved, charged, OrderStatus.Cancelled, "Cancelled by request");
            }

            Enter("ShipOrder", OrderStatus.Shipping);
            await Workflow.ExecuteActivityAsync<Shipment>(
                OrderActivities.Names.ShipOrder, [input.OrderId], WithToken(ShipOptions, cancelSource.Token));
            Enter("Completed", OrderStatus.Completed);
            return new OrderResult(input.OrderId, OrderStatus.Completed, null);
        }
        catch (Exception e) when (e is ActivityFailureException || TemporalException.IsCanceledException(e))
        {
            var final = cancelRequested || TemporalException.IsCanceledException(e) ? OrderStatus.Cancelled : OrderStatus.Failed;
            var reason = final == OrderStatus.Cancelled ? "Cancelled by request" : RootMessage(e);
            return await CompensateAsync(input.OrderId, reserved, charged, final, reason);
        }
    }

    /// <summary>Approves an order that waits for approval; ignored in any other state.</summary>
    [WorkflowSignal]
    public Task ApproveAsync()
    {
        approved ??= true;
        return Task.CompletedTask;
    }

    /// <summary>Rejects an order that waits for approval; ignored in any other state.</summary>
    [WorkflowSignal]
    public Task RejectAsync()
    {
        approved ??= false;
        return Task.CompletedTask;
    }

    /// <summary>Cancels the order: an in-flight shipment is cancelled, completed steps are compensated.</summary>
    [WorkflowSignal]
    public Task CancelAsync()
    {
        cancelRequested = true;
        cancelSignalSource?.Cancel();
        return Task.CompletedTask;
    }

    [WorkflowQuery]
    public OrderProgress GetStatus() => new(step, status, failureReason, stepStartedAt);

    private async Task<OrderResult> CompensateAsync(
        string orderId, bool reserved, bool charged, OrderStatus final, string reason)
    {
        failureReason = reason;
        Enter("Compensating", OrderStatus.Compensating);
        // A fresh token: these must run even when the workflow itself is being cancelled.
        using var detached = new CancellationTokenSource();
        var options = WithToken(CompensationOptions, detached.Token);
        if (charged)
        {
            await Workflow.ExecuteActivityAsync(OrderActivities.Names.RefundPayment, [orderId], options);
        }
        if (reserved)
        {
            await Workflow.ExecuteActivityAsync(OrderActivities.Names.ReleaseInventory, [orderId], options);
        }
        await RecordStatusAsync(orderId, final, reason, detached.Token);
        Enter(final.ToString(), final);
        return new OrderResult(orderId, final, reason);
    }

    private static Task RecordStatusAsync(string orderId, OrderStatus newStatus, string? reason, CancellationToken? token = null) =>
        Workflow.ExecuteActivityAsync(
            OrderActivities.Names.RecordOrderStatus, [new OrderStatusUpdate(orderId, newStatus, reason)],
            token is { } t ? WithToken(CompensationOptions, t) : CompensationOptions);

    private static ActivityOptions WithToken(ActivityOptions options, CancellationToken token)
    {
        var copy = (ActivityOptions)options.Clone();
        copy.CancellationToken = token;
        return copy;
    }

    private void Enter(string newStep, OrderStatus newStatus)
    {
        step = newStep;
        status = newStatus;
        stepStartedAt[newStep] = Workflow.UtcNow;
    }

    private static string RootMessage(Exception e)
    {
        while (e.InnerException is not null)
        {
            e = e.InnerException;
        }
        return e.Message;
    }
}

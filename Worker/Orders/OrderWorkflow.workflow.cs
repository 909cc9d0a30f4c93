using Temporalio.Common;
using Temporalio.Exceptions;
using Temporalio.Workflows;

namespace Worker.Orders;

/// <summary>
/// The order-fulfilment saga: reserve stock, wait for approval when the order is large, charge, ship.
/// A failure, a rejection, an approval timeout or a cancellation (the <c>Cancel</c> signal, or a workflow
/// cancel from the Temporal UI or CLI) undoes the steps that may have taken effect, in reverse order.
/// Reserve and charge always run to their real outcome, whatever happens to the workflow meanwhile: the
/// workflow waits for them and only then decides, so a cancel can never leave a charge or a reservation
/// behind. Shipping is the one step a cancellation interrupts, through its heartbeat.
/// Workflow code is deterministic and free of I/O: every side effect is an activity in <see cref="OrderActivities"/>.
/// Activities are called through <see cref="OrderActivityCalls"/>: typed, checked by the compiler, and by name underneath.
/// Pinned under worker versioning: an order runs start to end on the build that started it, workflow code and
/// activities alike, so no order ever sees two builds' code or two builds' reading of its rows (docs/rollouts.md).
/// </summary>
[Workflow(VersioningBehavior = VersioningBehavior.Pinned)]
public sealed partial class OrderWorkflow
{
    /// <summary>
    /// Temporal patch marking workflows that run this version of the saga. Workflows started before it replay
    /// through <c>RunBeforeCancelSafeSagaAsync</c> (OrderWorkflow.BeforeCancelSafeSaga.workflow.cs).
    /// </summary>
    public const string CancelSafeSagaPatch = "cancel-safe-saga";

    /// <summary>
    /// Temporal patch marking a run that finishes a compensation an earlier run began by the outcome that run recorded
    /// (and reads the final status back): before it, such a run always ended Cancelled. Recorded only on that path.
    /// </summary>
    public const string CompensationOutcomePatch = "compensation-outcome";

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

    // Longer than the gateway call can take (the standard resilience handler gives up after 30 s), so an attempt
    // never times out while its gateway request is still on the way.
    internal static readonly ActivityOptions ChargeOptions = new()
    {
        StartToCloseTimeout = TimeSpan.FromSeconds(60),
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
        if (!Workflow.Patched(CancelSafeSagaPatch))
        {
            return await RunBeforeCancelSafeSagaAsync(input);
        }
        using var cancelSource = CancellationTokenSource.CreateLinkedTokenSource(Workflow.CancellationToken);
        cancelSignalSource = cancelSource;
        // Nothing cancels this token: steps run on it finish with their real outcome before the workflow decides.
        using var toOutcome = new CancellationTokenSource();
        string? stepInFlight = null;
        var reserved = false;
        var charged = false;
        try
        {
            Enter("ReserveInventory", OrderStatus.Pending);
            stepInFlight = OrderActivities.Names.ReserveInventory;
            var reservation = await OrderActivityCalls.ReserveInventoryAsync(
                new ReserveInventoryInput(input.OrderId, input.Lines), WithToken(ReserveOptions, toOutcome.Token));
            (reserved, stepInFlight) = (true, null);
            status = OrderStatus.Reserved;

            if (reservation.Total >= input.ApprovalThreshold && !reservation.PastApproval && !CancelRequested
                && await AwaitApprovalAsync(input, toOutcome.Token, cancelSource.Token) is var (refused, why))
            {
                return await CompensateAsync(input.OrderId, reserved, charged, refused, why);
            }
            if (CancelRequested)
            {
                return await CompensateAsync(input.OrderId, reserved, charged, OrderStatus.Cancelled, CancelledReason);
            }

            Enter("ChargePayment", OrderStatus.Reserved);
            stepInFlight = OrderActivities.Names.ChargePayment;
            // No token in the input: the activity reads it from the database, so it never enters history.
            await OrderActivityCalls.ChargePaymentAsync(
                new ChargePaymentInput(input.OrderId, input.PaymentToken, reservation.Total), WithToken(ChargeOptions, toOutcome.Token));
            (charged, stepInFlight) = (true, null);
            status = OrderStatus.Charged;
            if (CancelRequested)
            {
                return await CompensateAsync(input.OrderId, reserved, charged, OrderStatus.Cancelled, CancelledReason);
            }

            Enter("ShipOrder", OrderStatus.Shipping);
            await OrderActivityCalls.ShipOrderAsync(input.OrderId, WithToken(ShipOptions, cancelSource.Token));
            Enter("Completed", OrderStatus.Completed);
            return new OrderResult(input.OrderId, OrderStatus.Completed, null);
        }
        catch (Exception e) when (e is ActivityFailureException || TemporalException.IsCanceledException(e))
        {
            if (IsRefusal(e, OrderErrors.OrderClosed))
            {
                // The order was being compensated when this run started (an earlier run was terminated mid-way and
                // the order re-POSTed): finish that compensation. Refund and release act on what is recorded, so
                // undoing everything is right whatever the earlier run got to; the order keeps its recorded reason,
                // and ends with the outcome the earlier run recorded (Cancelled when it recorded none).
                return await CompensateAsync(input.OrderId, reserved: true, charged: true, OrderStatus.Cancelled, null,
                    endsRecordedCompensation: Workflow.Patched(CompensationOutcomePatch));
            }
            // A step refused by the business (out of stock, declined) changed nothing; a step that failed any
            // other way (retries exhausted, timed out) may have taken effect, so it is undone too.
            if (stepInFlight is not null && !IsRefusal(e))
            {
                reserved |= stepInFlight == OrderActivities.Names.ReserveInventory;
                charged |= stepInFlight == OrderActivities.Names.ChargePayment;
            }
            var final = CancelRequested || TemporalException.IsCanceledException(e) ? OrderStatus.Cancelled : OrderStatus.Failed;
            var reason = final == OrderStatus.Cancelled ? CancelledReason : FailureReason(e);
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

    /// <summary>The reason a cancelled order shows.</summary>
    public const string CancelledReason = "Cancelled by request";

    /// <summary>
    /// Records that the order awaits approval (on <paramref name="recordToken"/>; null is the workflow's own token,
    /// as before the patch) and waits for the approver, until the approval timeout or a cancellation. Returns the
    /// final status and reason when the order is refused (rejected or timed out), null when it may go on.
    /// </summary>
    private async Task<(OrderStatus Final, string Reason)?> AwaitApprovalAsync(
        OrderInput input, CancellationToken? recordToken, CancellationToken waitToken)
    {
        Enter("AwaitingApproval", OrderStatus.AwaitingApproval);
        await RecordStatusAsync(input.OrderId, OrderStatus.AwaitingApproval, null, recordToken);
        var decided = await Workflow.WaitConditionAsync(() => approved.HasValue || cancelRequested, input.ApprovalTimeout, waitToken);
        return !decided ? (OrderStatus.Cancelled, $"Approval timed out after {input.ApprovalTimeout}")
            : approved == false ? (OrderStatus.Rejected, "Rejected by approver")
            : null;
    }

    /// <summary>The Cancel signal arrived, or the workflow itself is being cancelled (Temporal UI or CLI).</summary>
    private bool CancelRequested => cancelRequested || Workflow.CancellationToken.IsCancellationRequested;

    /// <summary>
    /// Undoes what may have taken effect, in reverse order: the refund and the release act on what the ledger and
    /// the reservations hold, so undoing a step that did nothing is harmless. <c>Compensating</c> is recorded
    /// first, which also closes the order to any forward step still on its way; if the order turns out to have
    /// finished already (shipped while a cancel was on its way), nothing is undone and its status stands.
    /// A null <paramref name="reason"/> keeps the reason the database holds.
    /// </summary>
    private async Task<OrderResult> CompensateAsync(
        string orderId, bool reserved, bool charged, OrderStatus final, string? reason, bool endsRecordedCompensation = false)
    {
        failureReason = reason;
        // A fresh token: these must run even when the workflow itself is being cancelled.
        using var detached = new CancellationTokenSource();
        var options = WithToken(CompensationOptions, detached.Token);
        if (reserved || charged)
        {
            Enter("Compensating", OrderStatus.Compensating);
            var now = await OrderActivityCalls.RecordOrderStatusAsync(
                new OrderStatusUpdate(orderId, OrderStatus.Compensating, reason, Outcome: endsRecordedCompensation ? null : final), options);
            if (now.IsTerminal())
            {
                failureReason = null;
                Enter(now.ToString(), now);
                return new OrderResult(orderId, now, null);
            }
            await UndoAsync(orderId, reserved, charged, options);
        }
        if (endsRecordedCompensation)
        {
            final = await OrderActivityCalls.RecordOrderStatusAsync(
                new OrderStatusUpdate(orderId, final, reason, EndsRecordedCompensation: true), options);
        }
        else
        {
            await RecordStatusAsync(orderId, final, reason, detached.Token);
        }
        Enter(final.ToString(), final);
        return new OrderResult(orderId, final, reason);
    }

    /// <summary>The compensations, in reverse order of the steps: refund the charge, then release the stock.</summary>
    private static async Task UndoAsync(string orderId, bool reserved, bool charged, ActivityOptions options)
    {
        if (charged)
        {
            await OrderActivityCalls.RefundPaymentAsync(orderId, options);
        }
        if (reserved)
        {
            await OrderActivityCalls.ReleaseInventoryAsync(orderId, options);
        }
    }

    private static bool IsRefusal(Exception e, string? errorType = null) =>
        e is ActivityFailureException { InnerException: ApplicationFailureException { NonRetryable: true } failure }
        && (errorType is null || failure.ErrorType == errorType);

    private static Task RecordStatusAsync(string orderId, OrderStatus newStatus, string? reason, CancellationToken? token = null) =>
        OrderActivityCalls.RecordOrderStatusIgnoringResultAsync(
            new OrderStatusUpdate(orderId, newStatus, reason), token is { } t ? WithToken(CompensationOptions, t) : CompensationOptions);

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

    /// <summary>
    /// What the order shows as the reason it failed: a business refusal's own message (written for whoever reads the
    /// order); for anything else only the step, never the error itself, which names hosts, users or SQL states and
    /// which the worker has logged with the activity.
    /// </summary>
    private string FailureReason(Exception e) =>
        e is ActivityFailureException { InnerException: ApplicationFailureException failure } && OrderErrors.IsBusinessRefusal(failure.ErrorType)
            ? RootMessage(e)
            : $"{step} failed: a technical error after every retry (the worker's log has it for this order)";

    private static string RootMessage(Exception e)
    {
        while (e.InnerException is not null)
        {
            e = e.InnerException;
        }
        return e.Message;
    }
}

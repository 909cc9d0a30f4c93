using System.Text.Json;
using Microsoft.Extensions.Options;
using Npgsql;
using Temporalio.Api.Enums.V1;
using Temporalio.Client;
using Temporalio.Exceptions;
using Worker.Orders.Persistence;
using Worker.Orders.Telemetry;
using Worker.Temporal;

namespace Worker.Orders.Reconciliation;

/// <summary>
/// Finds orders that stay Pending with no workflow to move them, and acts on each: the POST whose start failed (Temporal
/// unavailable, the client gone), and the order a database-only restore put back while Temporal kept its history. Every
/// <see cref="OrdersOptions.ReconcileInterval"/>, orders Pending for longer than <see cref="OrdersOptions.ReconcileAfter"/>,
/// with a payment token on record (one recorded by a build that kept none waits for its client's repeat, which brings it):
/// - a running workflow: nothing (it moves the order; reserving may be retrying);
/// - no workflow: started (the API's own start, whose steps are idempotent), unless the order is older than
///   <see cref="OrdersOptions.ReconcileWithin"/>: a client told to try again may have ordered anew by then, and a history
///   past Temporal's retention looks the same as none, so such an order is failed instead (nothing was reserved);
/// - its run was terminated (an operator stopped it: it is cancelled) or failed or timed out (it is failed): nothing was
///   reserved, and running it again is the client's or the operator's choice (a repeated POST does);
/// - its run completed or was cancelled, yet the database shows the order Pending: the database lost what that run did
///   (restored from a backup), which no start may repeat: the order is failed, for an operator to reconcile.
/// One replica sweeps at a time (a PostgreSQL advisory lock); each action is logged and counted
/// (<c>orders_reconciled_total{action}</c>).
/// </summary>
public sealed partial class StuckOrderReconciler(
    NpgsqlDataSource dataSource,
    ITemporalClient temporal,
    OrderWorkflowStarter starter,
    FulfilmentStore store,
    OrderMetrics metrics,
    TemporalConnectionKeeper connection,
    IEnumerable<IWorkerReadinessGate> gates,
    IOptions<OrdersOptions> options,
    ILogger<StuckOrderReconciler> logger) : BackgroundService
{
    // Arbitrary but fixed: identifies "the stuck-order sweep" among advisory locks.
    private const long SweepLockKey = 0x4F52444552530002;
    private const int BatchSize = 100;

    /// <summary>The reason a failed order shows: what happened, and what an operator does (docs/operations.md).</summary>
    public const string LostProgressReason =
        "Its workflow had finished, but the database had lost its progress (restored from a backup?): an operator must reconcile it";

    /// <summary>The reason an order too old to start shows.</summary>
    public const string NotStartedInTimeReason = "Not started in time (its start failed and it was not placed again): place it again if it is still wanted";

    /// <summary>What the sweep did to an order.</summary>
    public enum Action
    {
        Started,
        Cancelled,
        Failed,
    }

    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        await connection.WaitConnectedAsync(stoppingToken);
        try
        {
            // What the worker waits for (the orders schema, which a first start migrates): a sweep before it would fail.
            await Task.WhenAll(gates.Select(g => g.WaitReadyAsync(stoppingToken)));
        }
        catch (OperationCanceledException) when (stoppingToken.IsCancellationRequested)
        {
            return;
        }
        while (!stoppingToken.IsCancellationRequested)
        {
            // The first sweep waits an interval too: at start-up it would compete with the start (and a rollout's other
            // replicas starting together) for the pool, for orders that the next interval finds just as well.
            await Task.Delay(options.Value.ReconcileInterval, stoppingToken).ContinueWith(_ => { }, TaskScheduler.Default);
            if (stoppingToken.IsCancellationRequested)
            {
                return;
            }
            try
            {
                await SweepAsync(stoppingToken);
            }
            catch (OperationCanceledException) when (stoppingToken.IsCancellationRequested)
            {
                return;
            }
            catch (Exception e) when (e is NpgsqlException or RpcException or TimeoutException or InvalidOperationException)
            {
                LogSweepFailed(logger, e);
            }
        }
    }

    /// <summary>One sweep; returns what it did to which order (nothing when another replica holds the sweep).</summary>
    public async Task<List<(string OrderId, Action Action)>> SweepAsync(CancellationToken cancellationToken)
    {
        var actions = new List<(string, Action)>();
        await using var session = await dataSource.OpenConnectionAsync(cancellationToken);
        if (!await ScalarAsync<bool>(session, "SELECT pg_try_advisory_lock(@key)", cancellationToken, ("key", SweepLockKey)))
        {
            return actions;
        }
        try
        {
            foreach (var (orderId, lines, token, tooOld) in await StuckAsync(session, cancellationToken))
            {
                if (await ReconcileAsync(orderId, lines, token, tooOld, cancellationToken) is { } action)
                {
                    actions.Add((orderId, action));
                    metrics.OrderReconciled(action.ToString().ToLowerInvariant());
                }
            }
        }
        finally
        {
            await ScalarAsync<bool>(session, "SELECT pg_advisory_unlock(@key)", CancellationToken.None, ("key", SweepLockKey));
        }
        return actions;
    }

    private async Task<Action?> ReconcileAsync(
        string orderId, IReadOnlyList<OrderLine> lines, string? token, bool tooOld, CancellationToken cancellationToken)
    {
        var status = await WorkflowStatusAsync(orderId, cancellationToken);
        if (status == WorkflowExecutionStatus.Running)
        {
            return null;
        }
        var lastRun = status?.ToString() ?? "none";
        if (status is null && !tooOld)
        {
            // False only when a run finished between the look and the start: the next sweep sees that run.
            if (!await starter.StartAsync(orderId, lines, token, cancellationToken))
            {
                return null;
            }
            LogStarted(logger, orderId);
            return Action.Started;
        }
        var (final, reason) = status switch
        {
            null => (OrderStatus.Failed, NotStartedInTimeReason),
            WorkflowExecutionStatus.Terminated => (OrderStatus.Cancelled, "Stopped before it began: its workflow was terminated"),
            WorkflowExecutionStatus.Failed or WorkflowExecutionStatus.TimedOut => (OrderStatus.Failed, "Its workflow failed before it began"),
            _ => (OrderStatus.Failed, LostProgressReason),
        };
        // Only a Pending order ends here: one a workflow moved meanwhile is left to it.
        if (await store.EndUnstartedAsync(orderId, final, reason, cancellationToken) is null)
        {
            return null;
        }
        LogEnded(logger, orderId, lastRun, final, reason);
        return final == OrderStatus.Cancelled ? Action.Cancelled : Action.Failed;
    }

    /// <summary>The status of the order's workflow's latest run; null when there is none.</summary>
    private async Task<WorkflowExecutionStatus?> WorkflowStatusAsync(string orderId, CancellationToken cancellationToken)
    {
        try
        {
            var description = await temporal.GetWorkflowHandle(OrderWorkflowStarter.WorkflowId(orderId))
                .DescribeAsync(new() { Rpc = new RpcOptions { CancellationToken = cancellationToken } });
            return description.Status;
        }
        catch (RpcException e) when (e.Code == RpcException.StatusCode.NotFound)
        {
            return null;
        }
    }

    private async Task<List<(string OrderId, IReadOnlyList<OrderLine> Lines, string Token, bool TooOld)>> StuckAsync(
        NpgsqlConnection session, CancellationToken cancellationToken)
    {
        await using var command = new NpgsqlCommand("""
            SELECT o.id, o.request, t.token, o.created_at < now() - @within FROM orders o JOIN payment_tokens t ON t.order_id = o.id
            WHERE o.status = 'Pending' AND o.created_at < now() - @after
            ORDER BY o.created_at LIMIT @limit
            """, session);
        command.Parameters.AddWithValue("after", options.Value.ReconcileAfter);
        command.Parameters.AddWithValue("within", options.Value.ReconcileWithin);
        command.Parameters.AddWithValue("limit", BatchSize);
        var stuck = new List<(string, IReadOnlyList<OrderLine>, string, bool)>();
        await using var reader = await command.ExecuteReaderAsync(cancellationToken);
        while (await reader.ReadAsync(cancellationToken))
        {
            var request = JsonSerializer.Deserialize<OrderRequestRecord>(reader.GetString(1))
                ?? throw new InvalidDataException($"Order {reader.GetString(0)} has an empty request.");
            stuck.Add((reader.GetString(0), request.Lines, reader.GetString(2), reader.GetBoolean(3)));
        }
        return stuck;
    }

    private static async Task<T> ScalarAsync<T>(
        NpgsqlConnection session, string sql, CancellationToken cancellationToken, params (string Name, object Value)[] parameters)
    {
        await using var command = new NpgsqlCommand(sql, session);
        foreach (var (name, value) in parameters)
        {
            command.Parameters.AddWithValue(name, value);
        }
        return (T)(await command.ExecuteScalarAsync(cancellationToken))!;
    }

    [LoggerMessage(Level = LogLevel.Information, Message = "Order {OrderId} was Pending with no workflow: started its workflow")]
    private static partial void LogStarted(ILogger logger, string orderId);

    [LoggerMessage(Level = LogLevel.Warning, Message = "Order {OrderId} was Pending with no workflow at work (its last run: {RunStatus}): recorded it {Status}: {Reason}")]
    private static partial void LogEnded(ILogger logger, string orderId, string runStatus, OrderStatus status, string reason);

    [LoggerMessage(Level = LogLevel.Warning, Message = "Stuck-order sweep failed; trying again at the next interval")]
    private static partial void LogSweepFailed(ILogger logger, Exception exception);
}

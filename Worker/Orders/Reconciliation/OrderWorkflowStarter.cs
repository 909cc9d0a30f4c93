using Microsoft.Extensions.Options;
using Temporalio.Api.Enums.V1;
using Temporalio.Client;
using Temporalio.Exceptions;
using Worker.Temporal;

namespace Worker.Orders.Reconciliation;

/// <summary>
/// Starts an order's workflow: for the API's POST, and for the reconciler's orders that have none. The workflow id is
/// the order's, so a start is idempotent: a second start of a running workflow is a no-op (UseExisting), and a run
/// that was terminated or failed may be started again (AllowDuplicateFailedOnly), its idempotent steps then going on
/// from what the first run did.
/// </summary>
public sealed class OrderWorkflowStarter(ITemporalClient temporal, IOptions<OrdersOptions> orders, IOptions<TemporalSettings> settings)
{
    /// <summary>Workflow id of an order: one workflow per order id, which is what makes POST idempotent.</summary>
    public static string WorkflowId(string orderId) => $"order-{orderId}";

    /// <summary>
    /// Starts the order's workflow unless it runs already; false when Temporal refuses because a run of that id
    /// completed or was cancelled, which no start may repeat.
    /// </summary>
    /// <exception cref="RpcException">Temporal did not answer or refused for another reason.</exception>
    public async Task<bool> StartAsync(string orderId, IReadOnlyList<OrderLine> lines, string? paymentToken, CancellationToken cancellationToken)
    {
        // The payment token stays in the database and out of Temporal's history, unless a build that reads it from
        // the input may still receive new workflows (Orders:KeepLegacyFormats, docs/rollouts.md).
        var input = new OrderInput(orderId, lines, orders.Value.KeepLegacyFormats ? paymentToken : null,
            orders.Value.ApprovalThreshold, orders.Value.ApprovalTimeout);
        try
        {
            // By name: a lambda with an argument would be compiled by the SDK on every request.
            await temporal.StartWorkflowAsync(
                nameof(OrderWorkflow), [input],
                new WorkflowOptions(WorkflowId(orderId), settings.Value.TaskQueue)
                {
                    IdConflictPolicy = WorkflowIdConflictPolicy.UseExisting,
                    IdReusePolicy = WorkflowIdReusePolicy.AllowDuplicateFailedOnly,
                    Rpc = new RpcOptions { CancellationToken = cancellationToken },
                });
            return true;
        }
        catch (WorkflowAlreadyStartedException)
        {
            return false;
        }
    }
}

using Npgsql;

namespace Worker.Rollout.Tests;

/// <summary>
/// Whether every order ended consistent: the status it should have, and the money, the stock and the shipment
/// agreeing with it, in the database and at the payment gateway.
/// </summary>
public static class OrderAudit
{
    /// <summary>Every disagreement found, one line per order and fact; empty when all is consistent.</summary>
    public static async Task<List<string>> ProblemsAsync(string database, IEnumerable<PlannedOrder> orders, ContractPaymentGateway gateway)
    {
        await using var source = NpgsqlDataSource.Create(database);
        var problems = new List<string>();
        foreach (var order in orders)
        {
            await using var command = source.CreateCommand("""
                SELECT o.status, COALESCE(o.total, 0),
                       (SELECT COALESCE(sum(amount), 0) FROM payments WHERE order_id = o.id),
                       -- A charge the previous build settled stays in pending_charges, which it does not know; the
                       -- ledger's charge supersedes it (PaymentLedger reads the ledger first).
                       (SELECT count(*) FROM pending_charges p WHERE p.order_id = o.id
                          AND NOT EXISTS (SELECT 1 FROM payments c WHERE c.order_id = o.id AND c.kind = 'charge')),
                       (SELECT count(*) FROM reservations WHERE order_id = o.id AND released_at IS NULL),
                       (SELECT status FROM shipments WHERE order_id = o.id)
                FROM orders o WHERE o.id = @id
                """);
            command.Parameters.AddWithValue("id", order.Id);
            await using var reader = await command.ExecuteReaderAsync();
            if (!await reader.ReadAsync())
            {
                problems.Add($"{order.Id}: not in the database");
                continue;
            }
            var (status, total, ledger, pending, held, shipment) = (reader.GetString(0), reader.GetDecimal(1), reader.GetDecimal(2),
                reader.GetInt64(3), reader.GetInt64(4), reader.IsDBNull(5) ? null : reader.GetString(5));
            var completed = status == "Completed";
            var paid = completed ? total : 0m;
            Check(status == order.ExpectedStatus, $"status {status}, expected {order.ExpectedStatus}");
            Check(ledger == paid, $"{status} with {ledger} net in the ledger, expected {paid}");
            Check(gateway.NetCharged(order.Id) == paid, $"{status} with {gateway.NetCharged(order.Id)} net at the gateway, expected {paid}");
            Check(pending == 0, "a charge still in flight");
            Check(completed == held > 0, $"{status} with {held} reservation lines held");
            Check(completed == (shipment == "Shipped"), $"{status} with shipment {shipment ?? "none"}");

            void Check(bool consistent, string problem)
            {
                if (!consistent)
                {
                    problems.Add($"{order.Id} ({order.Kind}): {problem}");
                }
            }
        }
        return problems;
    }
}

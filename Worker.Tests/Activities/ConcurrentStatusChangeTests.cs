using Temporalio.Testing;

namespace Worker.Tests.Activities;

/// <summary>A status step that waits for another transaction on the same order decides on, and reports, what that transaction left.</summary>
public sealed class ConcurrentStatusChangeTests(OrdersDatabase db) : IClassFixture<OrdersDatabase>
{
    private readonly ActivityEnvironment env = new();

    [Fact]
    public async Task Recording_compensating_on_an_order_another_transaction_completes_meanwhile_reports_it_completed()
    {
        // The saga decides from this answer whether anything is left to undo: a stale "Shipping" would refund a shipped order.
        await using var harness = await ActivityHarness.CreateAsync(db, null);
        var order = await db.AddOrderAsync([new("TAMPER", 1)], OrderStatus.Shipping);
        await using var connection = await db.DataSource.OpenConnectionAsync();
        await using var completing = await connection.BeginTransactionAsync();
        await using (var complete = new Npgsql.NpgsqlCommand("UPDATE orders SET status = 'Completed' WHERE id = @id", connection, completing))
        {
            complete.Parameters.AddWithValue("id", order);
            await complete.ExecuteNonQueryAsync();
        }

        var recording = env.RunAsync(() => harness.Activities.RecordOrderStatusAsync(new(order, OrderStatus.Compensating, "Cancelled by request")));
        await Task.Delay(300);
        Assert.False(recording.IsCompleted, "the status step should wait for the transaction that holds the order");
        await completing.CommitAsync();

        Assert.Equal(OrderStatus.Completed, await recording);
        Assert.Equal("Completed", await db.ScalarAsync<string>("SELECT status FROM orders WHERE id = @p0", order));
    }
}

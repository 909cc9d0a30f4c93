using Npgsql;

namespace Worker.Orders.Persistence;

/// <summary>The statement plumbing the saga's stores share: one-statement steps, and why a guarded step found no row.</summary>
internal static class OrderRows
{
    /// <summary>
    /// Runs a step that is one statement (atomic by itself) returning the order. No row means the order is
    /// unknown or its status refused the step: the refusal says which.
    /// </summary>
    public static Task<OrderView> StatementAsync(
        NpgsqlDataSource dataSource, string orderId, string sql, CancellationToken cancellationToken,
        params (string Name, object Value)[] parameters) =>
        StatementAsync(dataSource, orderId, sql, OrderStore.ReadView, cancellationToken, parameters);

    /// <summary>As the step above, with the row read by <paramref name="read"/>.</summary>
    public static async Task<T> StatementAsync<T>(
        NpgsqlDataSource dataSource, string orderId, string sql, Func<NpgsqlDataReader, T> read, CancellationToken cancellationToken,
        params (string Name, object Value)[] parameters)
    {
        await using (var command = Command(dataSource.CreateCommand(sql), parameters))
        await using (var reader = await command.ExecuteReaderAsync(cancellationToken))
        {
            if (await reader.ReadAsync(cancellationToken))
            {
                return read(reader);
            }
        }
        throw await RefusalAsync(dataSource, orderId, cancellationToken);
    }

    /// <summary>The refusal for a guarded step that changed nothing: the order does not exist, or it is closed to the step.</summary>
    public static async Task<FulfilmentRefusedException> RefusalAsync(
        NpgsqlDataSource dataSource, string orderId, CancellationToken cancellationToken)
    {
        await using var command = Command(dataSource.CreateCommand("SELECT status FROM orders WHERE id = @id"), [("id", orderId)]);
        return await command.ExecuteScalarAsync(cancellationToken) is string status
            ? Closed(orderId, status)
            : Unknown(orderId);
    }

    /// <summary>
    /// The end of a statement whose CTE <paramref name="changed"/> updated the order only if its guard allowed:
    /// the changed row, or else the order as it is. (Reading the row again in the same statement would see it
    /// as it was before the statement, with its old version.)
    /// </summary>
    public static string ChangedOrCurrent(string changed) => $"""
        SELECT * FROM {changed}
        UNION ALL
        SELECT {OrderStore.ViewColumns} FROM orders WHERE id = @id AND NOT EXISTS (SELECT 1 FROM {changed})
        """;

    public static FulfilmentRefusedException Unknown(string orderId) =>
        new(OrderErrors.UnknownOrder, $"Unknown order {orderId}");

    public static FulfilmentRefusedException Closed(string orderId, string status) =>
        new(OrderErrors.OrderClosed, $"Order {orderId} is {status}; this step no longer applies", Enum.Parse<OrderStatus>(status));

    public static NpgsqlCommand Command(NpgsqlCommand command, (string Name, object Value)[] parameters)
    {
        foreach (var (name, value) in parameters)
        {
            command.Parameters.AddWithValue(name, value);
        }
        return command;
    }
}

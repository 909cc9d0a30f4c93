namespace Worker.Orders.Cache;

/// <summary>Used when no Redis connection string is configured.</summary>
public sealed class NoOrderCache : IOrderCache
{
    public Task<OrderView?> GetAsync(string orderId) => Task.FromResult<OrderView?>(null);

    public Task SetAsync(OrderView order) => Task.CompletedTask;
}

namespace Worker.Orders.Cache;

/// <summary>Best-effort cache of order views. Never the source of truth and never a reason for a request to fail.</summary>
public interface IOrderCache
{
    /// <summary>The cached view, or null on a miss or when the cache is unavailable.</summary>
    Task<OrderView?> GetAsync(string orderId);

    /// <summary>Stores the view unless the cache holds a newer version; may return before the write lands; failures are logged, not thrown.</summary>
    Task SetAsync(OrderView order);
}

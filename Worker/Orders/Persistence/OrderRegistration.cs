namespace Worker.Orders.Persistence;

/// <summary>Outcome of registering an order request.</summary>
public enum OrderRegistration
{
    /// <summary>A new order row was written.</summary>
    Created,

    /// <summary>The same order id with the same request exists already: a retry.</summary>
    Duplicate,

    /// <summary>The order id exists with a different request.</summary>
    Conflict,
}

namespace Worker.Orders;

/// <summary>A product of the catalogue.</summary>
public sealed record Product(string Sku, string Name, decimal Price, int Stock);

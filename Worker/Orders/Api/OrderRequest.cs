using System.Security.Cryptography;
using System.Text;
using System.Text.Json;
using System.Text.RegularExpressions;

namespace Worker.Orders.Api;

/// <summary>Body of <c>POST /api/orders</c>.</summary>
public sealed record OrderRequest(string? OrderId, IReadOnlyList<OrderLineRequest>? Lines, string? PaymentToken);

/// <summary>One line of <see cref="OrderRequest"/>.</summary>
public sealed record OrderLineRequest(string? Sku, int? Quantity);

/// <summary>Answer of <c>POST /api/orders</c>: where to follow the order, and its status when the request was answered.</summary>
public sealed record OrderAccepted(string OrderId, string WorkflowId, string StatusUrl, OrderStatus Status);

/// <summary>The rules a request must satisfy before anything is written or started.</summary>
public static partial class OrderRequestRules
{
    public const int MaxBodyBytes = 64 * 1024;
    public const int MaxLines = 100;
    public const int MaxQuantity = 1000;
    public const int MaxIdLength = 64;

    /// <summary>Field → messages; empty when the request is well-formed (sku existence is checked separately).</summary>
    public static Dictionary<string, string[]> Validate(OrderRequest request)
    {
        ArgumentNullException.ThrowIfNull(request);
        var errors = new Dictionary<string, List<string>>();
        void Add(string field, string message)
        {
            if (!errors.TryGetValue(field, out var list))
            {
                errors[field] = list = [];
            }
            list.Add(message);
        }

        if (string.IsNullOrWhiteSpace(request.OrderId))
        {
            Add("orderId", "orderId is required.");
        }
        else if (!IdPattern().IsMatch(request.OrderId))
        {
            Add("orderId", $"orderId must be 1-{MaxIdLength} letters, digits, '-' or '_'.");
        }
        if (string.IsNullOrWhiteSpace(request.PaymentToken))
        {
            Add("paymentToken", "paymentToken is required.");
        }
        else if (request.PaymentToken.Length > 200)
        {
            Add("paymentToken", "paymentToken must be at most 200 characters.");
        }
        if (request.Lines is null || request.Lines.Count == 0)
        {
            Add("lines", "At least one line is required.");
        }
        else if (request.Lines.Count > MaxLines)
        {
            Add("lines", $"At most {MaxLines} lines are allowed.");
        }
        else
        {
            for (var i = 0; i < request.Lines.Count; i++)
            {
                var line = request.Lines[i];
                if (line is null)
                {
                    Add($"lines[{i}]", "A line must be an object.");
                    continue;
                }
                if (string.IsNullOrWhiteSpace(line.Sku))
                {
                    Add($"lines[{i}].sku", "sku is required.");
                }
                if (line.Quantity is null)
                {
                    Add($"lines[{i}].quantity", "quantity is required.");
                }
                else if (line.Quantity <= 0 || line.Quantity > MaxQuantity)
                {
                    Add($"lines[{i}].quantity", $"quantity must be between 1 and {MaxQuantity}.");
                }
            }
        }
        return errors.ToDictionary(e => e.Key, e => e.Value.ToArray());
    }

    /// <summary>Identifies the request's content, to tell a retry from a different order reusing an id.</summary>
    public static string Fingerprint(OrderRequest request)
    {
        ArgumentNullException.ThrowIfNull(request);
        var canonical = JsonSerializer.Serialize(new
        {
            lines = request.Lines!.Select(l => new { sku = l.Sku, quantity = l.Quantity }),
            paymentToken = request.PaymentToken,
        });
        return Convert.ToHexStringLower(SHA256.HashData(Encoding.UTF8.GetBytes(canonical)));
    }

    [GeneratedRegex("^[A-Za-z0-9_-]{1,64}$")]
    private static partial Regex IdPattern();
}

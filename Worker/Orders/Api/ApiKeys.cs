using System.Security.Cryptography;
using System.Text;

namespace Worker.Orders.Api;

/// <summary>
/// API keys from <c>Api:Keys</c> (a secret: a list, or one comma-separated value such as the environment
/// variable <c>Api__Keys</c>). Several keys allow rotation without downtime.
/// </summary>
public sealed class ApiKeys
{
    public const string ConfigurationKey = "Api:Keys";
    public const string HeaderName = "X-Api-Key";

    private readonly byte[][] keyHashes;

    public ApiKeys(IEnumerable<string> keys) =>
        keyHashes = keys.Select(k => SHA256.HashData(Encoding.UTF8.GetBytes(k))).ToArray();

    public static ApiKeys From(IConfiguration configuration)
    {
        ArgumentNullException.ThrowIfNull(configuration);
        var section = configuration.GetSection(ConfigurationKey);
        var keys = section.GetChildren().Select(c => c.Value)
            .Append(section.Value)
            .SelectMany(v => (v ?? "").Split(',', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries))
            .ToList();
        if (keys.Count == 0)
        {
            throw new InvalidOperationException(
                $"{ConfigurationKey} is required for the api role (one or more keys; environment variable Api__Keys, comma-separated).");
        }
        return new ApiKeys(keys);
    }

    /// <summary>
    /// Compares in constant time: hashing first gives equal lengths, and every key is compared, so the
    /// answer's timing reveals neither a key's length nor which key matched.
    /// </summary>
    public bool IsValid(string? presented)
    {
        if (string.IsNullOrEmpty(presented))
        {
            return false;
        }
        var hash = SHA256.HashData(Encoding.UTF8.GetBytes(presented));
        var match = false;
        foreach (var keyHash in keyHashes)
        {
            match |= CryptographicOperations.FixedTimeEquals(hash, keyHash);
        }
        return match;
    }
}

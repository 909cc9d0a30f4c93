using System.Security.Cryptography;
using System.Text;

namespace Worker.Orders.Api;

/// <summary>
/// The API's keys, by role: <c>Api:Keys</c> place, read and cancel orders; <c>Api:ApproverKeys</c> approve and reject
/// them, which is another person's decision than ordering. Each is a secret: a list, or one comma-separated value such
/// as the environment variable <c>Api__Keys</c>. Several keys per role allow rotation without downtime.
/// </summary>
public sealed class ApiKeys
{
    public const string ConfigurationKey = "Api:Keys";
    public const string ApproverConfigurationKey = "Api:ApproverKeys";
    public const string HeaderName = "X-Api-Key";

    private readonly (byte[] Hash, ApiRoles Roles)[] keys;

    public ApiKeys(IEnumerable<string> ordering, IEnumerable<string>? approving = null) =>
        keys = ordering.Select(k => (Hash(k), ApiRoles.Ordering))
            .Concat((approving ?? []).Select(k => (Hash(k), ApiRoles.Approving)))
            .ToArray();

    /// <summary>Whether approver keys are configured at all (without them nobody may approve).</summary>
    public bool HasApprovers => keys.Any(k => k.Roles == ApiRoles.Approving);

    public static ApiKeys From(IConfiguration configuration)
    {
        ArgumentNullException.ThrowIfNull(configuration);
        var ordering = Read(configuration, ConfigurationKey);
        if (ordering.Count == 0)
        {
            throw new InvalidOperationException(
                $"{ConfigurationKey} is required for the api role (one or more keys; environment variable Api__Keys, comma-separated).");
        }
        return new ApiKeys(ordering, Read(configuration, ApproverConfigurationKey));
    }

    /// <summary>
    /// The roles of the presented key, compared in constant time: hashing first gives equal lengths, and every key is
    /// compared, so the answer's timing reveals neither a key's length nor which key matched.
    /// </summary>
    public ApiRoles RolesOf(string? presented)
    {
        if (string.IsNullOrEmpty(presented))
        {
            return ApiRoles.None;
        }
        var hash = Hash(presented);
        var roles = ApiRoles.None;
        foreach (var (keyHash, keyRoles) in keys)
        {
            roles |= CryptographicOperations.FixedTimeEquals(hash, keyHash) ? keyRoles : ApiRoles.None;
        }
        return roles;
    }

    /// <summary>Whether the presented key is a key of any role.</summary>
    public bool IsValid(string? presented) => RolesOf(presented) != ApiRoles.None;

    private static byte[] Hash(string key) => SHA256.HashData(Encoding.UTF8.GetBytes(key));

    private static List<string> Read(IConfiguration configuration, string key)
    {
        var section = configuration.GetSection(key);
        return section.GetChildren().Select(c => c.Value)
            .Append(section.Value)
            .SelectMany(v => (v ?? "").Split(',', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries))
            .ToList();
    }
}

/// <summary>What a key may do.</summary>
[Flags]
public enum ApiRoles
{
    None = 0,

    /// <summary>Place, read and cancel orders.</summary>
    Ordering = 1,

    /// <summary>Approve or reject orders that wait for approval, and read them.</summary>
    Approving = 2,
}

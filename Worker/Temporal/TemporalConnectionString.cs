using System.Data.Common;
using System.Globalization;

namespace Worker.Temporal;

/// <summary>
/// The Temporal reference in <c>ConnectionStrings:temporal</c>, as an Aspire AppHost, a Compose file or a
/// Kubernetes manifest gives it: <c>Endpoint=host:port;Namespace=ns</c> (keys case-insensitive), or a bare
/// <c>host:port</c>, whose namespace then comes from <c>Temporal:Namespace</c>. <c>Temporal:*</c> keys that are
/// set override what it says.
/// </summary>
public sealed record TemporalConnectionString(string Endpoint, string? Namespace)
{
    /// <summary>The connection string's name: <c>ConnectionStrings:temporal</c>.</summary>
    public const string Name = "temporal";

    public const string ConfigurationKey = "ConnectionStrings:" + Name;

    private const string Expected = "expected Endpoint=host:port;Namespace=<namespace>, or host:port";

    /// <summary>The reference, or null when the value is unset; a malformed value is an error naming the key.</summary>
    public static TemporalConnectionString? Parse(string? value)
    {
        if (string.IsNullOrWhiteSpace(value))
        {
            return null;
        }
        if (!value.Contains('=', StringComparison.Ordinal))
        {
            return new TemporalConnectionString(CheckedEndpoint(value.Trim()), null);
        }
        var pairs = new DbConnectionStringBuilder();
        try
        {
            pairs.ConnectionString = value;
        }
        catch (ArgumentException)
        {
            // The parser's message quotes the value; keep a value that may one day carry a secret out of the log.
            throw Invalid($"is not a connection string ({Expected})");
        }
        string? endpoint = null;
        string? @namespace = null;
        foreach (string key in pairs.Keys)
        {
            var text = Convert.ToString(pairs[key], CultureInfo.InvariantCulture)?.Trim();
            if (string.IsNullOrEmpty(text))
            {
                throw Invalid($"has an empty {key}");
            }
            if (string.Equals(key, nameof(Endpoint), StringComparison.OrdinalIgnoreCase))
            {
                endpoint = text;
            }
            else if (string.Equals(key, nameof(Namespace), StringComparison.OrdinalIgnoreCase))
            {
                @namespace = text;
            }
            else
            {
                throw Invalid($"has an unknown key '{key}' (it takes Endpoint and Namespace)");
            }
        }
        return new TemporalConnectionString(CheckedEndpoint(endpoint ?? throw Invalid($"has no Endpoint ({Expected})")), @namespace);
    }

    private static string CheckedEndpoint(string endpoint) => TemporalSettings.IsHostAndPort(endpoint)
        ? endpoint
        : throw Invalid($"has the endpoint '{endpoint}', which is not host:port ({Expected})");

    private static InvalidOperationException Invalid(string problem) =>
        new($"{ConfigurationKey} {problem}; environment variable ConnectionStrings__{Name}.");
}

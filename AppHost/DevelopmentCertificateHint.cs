using System.Security.Cryptography.X509Certificates;
using Aspire.Hosting.ApplicationModel;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;

namespace AppHost;

/// <summary>
/// A first run on a machine without a trusted ASP.NET Core development certificate works (the launch profile serves
/// the dashboard over HTTP) but is slower, since Aspire's orchestrator makes a TLS key of its own on every start, and
/// the dashboard opens with an error banner (seen in a browser; after <c>dotnet dev-certs https --trust</c>, on Linux
/// too, neither the banner nor this line appears). One log line at start says so and what to run, once, instead of
/// leaving a newcomer to guess. Run mode only.
/// </summary>
internal static partial class DevelopmentCertificateHint
{
    /// <summary>The extension by which ASP.NET Core marks its development certificates.</summary>
    private const string DevelopmentCertificateOid = "1.3.6.1.4.1.311.84.1.1";

    public static IDistributedApplicationBuilder HintWithoutTrustedDevelopmentCertificate(this IDistributedApplicationBuilder builder)
    {
        ArgumentNullException.ThrowIfNull(builder);
        if (!builder.ExecutionContext.IsRunMode)
        {
            return builder;
        }
        builder.Eventing.Subscribe<BeforeStartEvent>((e, _) =>
        {
            if (Problem(StoreCertificates(StoreName.My), StoreCertificates(StoreName.Root), DateTimeOffset.UtcNow) is { } problem)
            {
                LogHint(e.Services.GetRequiredService<ILoggerFactory>().CreateLogger("AppHost"), problem);
            }
            return Task.CompletedTask;
        });
        return builder;
    }

    /// <summary>
    /// What is wrong with the development certificates, or null when one in force is trusted (in the current user's
    /// root store, where <c>dotnet dev-certs https --trust</c> puts it and where Aspire looks).
    /// </summary>
    public static string? Problem(IReadOnlyCollection<X509Certificate2> personal, IReadOnlyCollection<X509Certificate2> trusted, DateTimeOffset now)
    {
        var current = personal.Where(c => c.Extensions.Any(x => x.Oid?.Value == DevelopmentCertificateOid)
            && c.NotBefore <= now.LocalDateTime && now.LocalDateTime <= c.NotAfter).ToList();
        if (current.Count == 0)
        {
            return "there is no ASP.NET Core development certificate";
        }
        var roots = trusted.Select(c => c.Thumbprint).ToHashSet(StringComparer.OrdinalIgnoreCase);
        return current.Any(c => roots.Contains(c.Thumbprint)) ? null : "the ASP.NET Core development certificate is not trusted";
    }

    private static List<X509Certificate2> StoreCertificates(StoreName name)
    {
        try
        {
            using var store = new X509Store(name, StoreLocation.CurrentUser);
            store.Open(OpenFlags.ReadOnly | OpenFlags.OpenExistingOnly);
            return [.. store.Certificates];
        }
        catch (System.Security.Cryptography.CryptographicException)
        {
            return []; // a store that does not exist yet holds nothing
        }
    }

    [LoggerMessage(Level = LogLevel.Warning,
        Message = "Starting without a trusted development certificate ({Problem}): the dashboard shows a \"No trusted development certificate\" banner and each start is a few seconds slower. Run `dotnet dev-certs https --trust` once (docs/run-locally.md).")]
    private static partial void LogHint(ILogger logger, string problem);
}

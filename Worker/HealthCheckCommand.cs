namespace Worker;

/// <summary>
/// <c>Worker --health-check [path-or-url]</c>: probes the running worker from inside its own container and
/// exits 0 when it answers 2xx. The chiseled base image has no shell and no curl, so the container's
/// health check runs the worker binary itself.
/// </summary>
public static class HealthCheckCommand
{
    public const string Flag = "--health-check";

    public static bool IsRequested(string[] args) => args.Length > 0 && args[0] == Flag;

    public static async Task<int> RunAsync(string[] args)
    {
        ArgumentNullException.ThrowIfNull(args);
        var target = ResolveTarget(args.Length > 1 ? args[1] : null, Environment.GetEnvironmentVariable("ASPNETCORE_HTTP_PORTS"));
        using var http = new HttpClient { Timeout = TimeSpan.FromSeconds(3) };
        try
        {
            using var response = await http.GetAsync(target);
            await Console.Out.WriteLineAsync($"{target}: {(int)response.StatusCode}");
            return response.IsSuccessStatusCode ? 0 : 1;
        }
        catch (Exception e) when (e is HttpRequestException or TaskCanceledException)
        {
            await Console.Error.WriteLineAsync($"{target}: {e.Message}");
            return 1;
        }
    }

    /// <summary>A full URL is used as is; a path (default <c>/health</c>) goes to the first HTTP port on loopback.</summary>
    public static Uri ResolveTarget(string? pathOrUrl, string? httpPorts)
    {
        if (Uri.TryCreate(pathOrUrl, UriKind.Absolute, out var absolute) && absolute.Scheme is "http" or "https")
        {
            return absolute;
        }
        var port = (httpPorts ?? "").Split([';', ','], StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries)
            .FirstOrDefault() ?? "8080";
        var path = string.IsNullOrEmpty(pathOrUrl) ? "/health" : pathOrUrl;
        return new Uri($"http://127.0.0.1:{port}{(path.StartsWith('/') ? path : "/" + path)}");
    }
}

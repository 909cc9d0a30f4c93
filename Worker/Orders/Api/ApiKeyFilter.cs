namespace Worker.Orders.Api;

/// <summary>
/// Endpoint filter: 401 with a problem document unless a valid key is presented, 403 when the key's role may not use the
/// endpoint (the role an endpoint needs is its <see cref="RequiredRole"/> metadata; ordering when it has none). An
/// endpoint with <see cref="KeyInAuthorization"/> metadata also takes the key from <c>Authorization</c>.
/// </summary>
public sealed class ApiKeyFilter(ApiKeys keys) : IEndpointFilter
{
    public async ValueTask<object?> InvokeAsync(EndpointFilterInvocationContext context, EndpointFilterDelegate next)
    {
        ArgumentNullException.ThrowIfNull(context);
        ArgumentNullException.ThrowIfNull(next);
        var request = context.HttpContext.Request;
        var inAuthorization = context.HttpContext.GetEndpoint()?.Metadata.GetMetadata<KeyInAuthorization>();
        var roles = keys.RolesOf(request.Headers[ApiKeys.HeaderName]);
        if (roles == ApiRoles.None && inAuthorization is not null)
        {
            roles = keys.RolesOf(KeyInAuthorization.KeyOf(request.Headers.Authorization));
        }
        if (roles == ApiRoles.None)
        {
            context.HttpContext.Response.Headers.WWWAuthenticate = inAuthorization?.Challenge ?? ApiKeys.HeaderName;
            return Results.Problem(
                statusCode: StatusCodes.Status401Unauthorized,
                title: "Unauthorized",
                detail: $"A valid API key is required in the {ApiKeys.HeaderName} header.");
        }
        var required = context.HttpContext.GetEndpoint()?.Metadata.GetMetadata<RequiredRole>()?.Roles ?? ApiRoles.Ordering;
        if ((roles & required) == ApiRoles.None)
        {
            return Results.Problem(
                statusCode: StatusCodes.Status403Forbidden,
                title: "Forbidden",
                detail: required == ApiRoles.Approving
                    ? $"Approving and rejecting need an approver's key ({ApiKeys.ApproverConfigurationKey}"
                        + (keys.HasApprovers ? ")." : ", of which none is configured).")
                    : "This key may only approve or reject orders.");
        }
        return await next(context);
    }
}

/// <summary>Endpoint metadata: the roles, any of which may use the endpoint.</summary>
public sealed record RequiredRole(ApiRoles Roles);

/// <summary>
/// Endpoint metadata: the key may also come as <c>Authorization: Bearer &lt;key&gt;</c> (the Temporal CLI's
/// <c>--codec-auth</c>) or as the password of <c>Authorization: Basic</c>, which a browser asks for once after a 401
/// with the <see cref="Challenge"/> and then sends on requests that include credentials (the Web UI's codec calls).
/// </summary>
public sealed record KeyInAuthorization(string Realm)
{
    public string Challenge => $"Basic realm=\"{Realm}\", charset=\"UTF-8\"";

    /// <summary>The key an <c>Authorization</c> value carries, or null.</summary>
    public static string? KeyOf(string? authorization)
    {
        if (authorization is null)
        {
            return null;
        }
        if (authorization.StartsWith("Bearer ", StringComparison.OrdinalIgnoreCase))
        {
            return authorization["Bearer ".Length..].Trim();
        }
        if (!authorization.StartsWith("Basic ", StringComparison.OrdinalIgnoreCase))
        {
            return null;
        }
        var encoded = authorization["Basic ".Length..].Trim();
        var bytes = new byte[encoded.Length];
        if (!Convert.TryFromBase64String(encoded, bytes, out var written))
        {
            return null;
        }
        // user:password; the user name is not checked (any will do), the password is the key.
        var credentials = System.Text.Encoding.UTF8.GetString(bytes, 0, written);
        var colon = credentials.IndexOf(':', StringComparison.Ordinal);
        return colon < 0 ? null : credentials[(colon + 1)..];
    }
}

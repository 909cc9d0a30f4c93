namespace Worker.Orders.Api;

/// <summary>
/// Endpoint filter: 401 with a problem document unless a valid key is presented, 403 when the key's role may not use the
/// endpoint (the role an endpoint needs is its <see cref="RequiredRole"/> metadata; ordering when it has none).
/// </summary>
public sealed class ApiKeyFilter(ApiKeys keys) : IEndpointFilter
{
    public async ValueTask<object?> InvokeAsync(EndpointFilterInvocationContext context, EndpointFilterDelegate next)
    {
        ArgumentNullException.ThrowIfNull(context);
        ArgumentNullException.ThrowIfNull(next);
        var roles = keys.RolesOf(context.HttpContext.Request.Headers[ApiKeys.HeaderName]);
        if (roles == ApiRoles.None)
        {
            context.HttpContext.Response.Headers.WWWAuthenticate = ApiKeys.HeaderName;
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

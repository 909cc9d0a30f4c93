namespace Worker.Orders.Api;

/// <summary>Endpoint filter that answers 401 with a problem document unless a valid key is presented.</summary>
public sealed class ApiKeyFilter(ApiKeys keys) : IEndpointFilter
{
    public async ValueTask<object?> InvokeAsync(EndpointFilterInvocationContext context, EndpointFilterDelegate next)
    {
        ArgumentNullException.ThrowIfNull(context);
        ArgumentNullException.ThrowIfNull(next);
        if (!keys.IsValid(context.HttpContext.Request.Headers[ApiKeys.HeaderName]))
        {
            context.HttpContext.Response.Headers.WWWAuthenticate = ApiKeys.HeaderName;
            return Results.Problem(
                statusCode: StatusCodes.Status401Unauthorized,
                title: "Unauthorized",
                detail: $"A valid API key is required in the {ApiKeys.HeaderName} header.");
        }
        return await next(context);
    }
}

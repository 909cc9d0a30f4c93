using System.Text.Json;
using Microsoft.Extensions.Options;
using Temporalio.Api.Enums.V1;
using Temporalio.Client;
using Temporalio.Exceptions;
using Worker.Orders.Cache;
using Worker.Orders.Persistence;
using Worker.Orders.Reconciliation;
using Worker.Orders.Telemetry;
using Worker.Temporal;
using Worker.Temporal.Codec;

namespace Worker.Orders.Api;

/// <summary>The HTTP API (role <c>api</c>): start orders, read them, and signal their workflows.</summary>
public static partial class OrderEndpoints
{
    private static readonly JsonSerializerOptions Json = new(JsonSerializerDefaults.Web);

    public static WebApplicationBuilder AddOrdersApi(this WebApplicationBuilder builder)
    {
        ArgumentNullException.ThrowIfNull(builder);
        builder.Services.AddSingleton(ApiKeys.From(builder.Configuration));
        // The API starts orders' workflows, and so finds the orders whose start never happened (docs/operations.md).
        builder.Services.AddSingleton<OrderWorkflowStarter>();
        builder.Services.AddHostedService<StuckOrderReconciler>();
        builder.Services.AddProblemDetails();
        builder.Services.AddBackpressure(builder.Configuration);
        builder.Services.AddOpenApi();
        return builder;
    }

    public static WebApplication MapOrdersApi(this WebApplication app)
    {
        ArgumentNullException.ThrowIfNull(app);
        app.UseExceptionHandler();
        app.UseStatusCodePages();
        app.UseRateLimiter();
        app.UseCors();
        app.MapOpenApi();
        var api = app.MapGroup("/api").AddEndpointFilter<ApiKeyFilter>().WithTags("Orders");
        var anyRole = new RequiredRole(ApiRoles.Ordering | ApiRoles.Approving);
        api.MapGet("/products", async (OrderStore store, CancellationToken ct) => Results.Ok(await store.ListProductsAsync(ct)))
            .WithMetadata(anyRole)
            .Produces<IReadOnlyList<Product>>();
        api.MapPost("/orders", PlaceOrderAsync)
            .RequireRateLimiting(Backpressure.OrderStarts)
            .Accepts<OrderRequest>("application/json")
            .Produces<OrderAccepted>(StatusCodes.Status202Accepted)
            .ProducesValidationProblem()
            .ProducesProblem(StatusCodes.Status409Conflict)
            .ProducesProblem(StatusCodes.Status413PayloadTooLarge)
            .ProducesProblem(StatusCodes.Status415UnsupportedMediaType);
        api.MapGet("/orders/{id}", GetOrderAsync).WithMetadata(anyRole).Produces<OrderView>().ProducesProblem(StatusCodes.Status404NotFound);
        // Approving is an approver's decision, not the customer's: these need an approver's key.
        var approving = new RequiredRole(ApiRoles.Approving);
        api.MapPost("/orders/{id}/approve", (string id, HttpContext http) =>
            SignalAsync(http, id, s => s == OrderStatus.AwaitingApproval, wf => wf.ApproveAsync())).WithMetadata(approving);
        api.MapPost("/orders/{id}/reject", (string id, HttpContext http) =>
            SignalAsync(http, id, s => s == OrderStatus.AwaitingApproval, wf => wf.RejectAsync())).WithMetadata(approving);
        api.MapPost("/orders/{id}/cancel", (string id, HttpContext http) =>
            SignalAsync(http, id, s => !s.IsTerminal() && s != OrderStatus.Compensating, wf => wf.CancelAsync(), CancelUnstartedAsync));
        // The Temporal Web UI's and CLI's codec server, when payloads are encrypted (docs/security.md, "Payload encryption").
        app.MapPayloadCodec()?.AddEndpointFilter<ApiKeyFilter>().WithMetadata(anyRole, new KeyInAuthorization("Temporal payload codec"));
        return app;
    }

    /// <summary>Workflow id of an order: one workflow per order id, which is what makes POST idempotent.</summary>
    public static string WorkflowId(string orderId) => OrderWorkflowStarter.WorkflowId(orderId);

    private static async Task<IResult> PlaceOrderAsync(
        HttpRequest http, OrderStore store, OrderWorkflowStarter starter, OrderMetrics metrics, CancellationToken ct)
    {
        if (!http.HasJsonContentType())
        {
            return Problem(StatusCodes.Status415UnsupportedMediaType, "Unsupported media type",
                "The body must be JSON (Content-Type: application/json).");
        }
        var body = await ReadLimitedAsync(http, OrderRequestRules.MaxBodyBytes, ct);
        if (body is null)
        {
            return Problem(StatusCodes.Status413PayloadTooLarge, "Body too large",
                $"The body must be at most {OrderRequestRules.MaxBodyBytes} bytes.");
        }
        OrderRequest? request;
        try
        {
            request = JsonSerializer.Deserialize<OrderRequest>(body, Json);
        }
        catch (JsonException e)
        {
            return ApiProblems.MalformedJson(http.HttpContext, e);
        }
        if (request is null)
        {
            return Problem(StatusCodes.Status400BadRequest, "Malformed JSON", "The body must be a JSON object.");
        }
        var errors = OrderRequestRules.Validate(request);
        if (errors.Count == 0)
        {
            var unknown = await store.FindUnknownSkusAsync(request.Lines!.Select(l => l.Sku!), ct);
            if (unknown.Count > 0)
            {
                errors["lines"] = [.. unknown.Select(s => $"Unknown sku '{s}'.")];
            }
        }
        if (errors.Count > 0)
        {
            return Results.ValidationProblem(errors);
        }

        var orderId = request.OrderId!;
        var lines = request.Lines!.Select(l => new OrderLine(l.Sku!, l.Quantity!.Value)).ToList();
        var (registration, status) = await store.RegisterAsync(
            orderId, OrderRequestRules.Fingerprint(request), new OrderRequestRecord(lines), request.PaymentToken!, ct);
        if (registration == OrderRegistration.Conflict)
        {
            return Problem(StatusCodes.Status409Conflict, "Order id already used",
                $"Order {orderId} exists with a different request.");
        }
        if (registration == OrderRegistration.Created)
        {
            metrics.OrderStarted();
        }
        var location = $"/api/orders/{orderId}";
        var accepted = Results.Accepted(location, new OrderAccepted(orderId, WorkflowId(orderId), location, status));
        if (status.IsTerminal())
        {
            // A repeat of a finished order. The database decides, not Temporal: once the history is past its
            // retention, a start would run the saga again on an order that was shipped, refunded or released.
            return accepted;
        }

        // Also on a retry of an unfinished order: the first attempt may have stored the order and failed before
        // starting the workflow, or its workflow was terminated; the start is idempotent (OrderWorkflowStarter). Not
        // on the request's token: a client that goes away must not leave its recorded order without a workflow.
        try
        {
            if (!await starter.StartAsync(orderId, lines, request.PaymentToken, CancellationToken.None)
                && await store.FindAsync(orderId, ct) is { Status: var now } && !now.IsTerminal())
            {
                // A run of this order completed (or was cancelled) while the database shows it unfinished: the database
                // lost that run's progress. Only an operator can tell what moved; the sweep fails the order for one.
                LogProgressLost(http.HttpContext.RequestServices.GetRequiredService<ILoggerFactory>().CreateLogger(typeof(OrderEndpoints)), orderId);
            }
        }
        catch (Exception e) when (e is RpcException or InvalidOperationException)
        {
            // The order is recorded: the sweep starts its workflow if the client never retries (docs/api.md).
            return ApiProblems.TemporalUnavailable(http.HttpContext, e);
        }
        return accepted;
    }

    /// <summary>
    /// A cancel for an order whose workflow never started (its start failed): the order is cancelled where it stands,
    /// holding nothing to undo, so that the stuck-order sweep does not start it later.
    /// </summary>
    private static async Task<IResult?> CancelUnstartedAsync(HttpContext http, string id)
    {
        var cancelled = await http.RequestServices.GetRequiredService<FulfilmentStore>()
            .EndUnstartedAsync(id, OrderStatus.Cancelled, OrderWorkflow.CancelledReason, http.RequestAborted);
        if (cancelled is null)
        {
            return null;
        }
        await http.RequestServices.GetRequiredService<IOrderCache>().SetAsync(cancelled);
        return Results.Accepted($"/api/orders/{id}");
    }

    private static async Task<IResult> GetOrderAsync(string id, HttpContext http, OrderStore store, IOrderCache cache, CancellationToken ct)
    {
        var cached = await cache.GetAsync(id);
        http.Response.Headers["X-Cache"] = cached is null ? "miss" : "hit";
        if (cached is not null)
        {
            return Results.Ok(cached);
        }
        var order = await store.FindAsync(id, ct);
        if (order is null)
        {
            return Problem(StatusCodes.Status404NotFound, "Order not found", $"No order {id}.");
        }
        await cache.SetAsync(order);
        return Results.Ok(order);
    }

    /// <summary>
    /// Signals the order's workflow when the order's status accepts the signal; <paramref name="withoutWorkflow"/> answers
    /// when the order has no workflow (null: the order has finished, 409).
    /// </summary>
    private static async Task<IResult> SignalAsync(
        HttpContext http, string id, Func<OrderStatus, bool> accepts,
        System.Linq.Expressions.Expression<Func<OrderWorkflow, Task>> signal,
        Func<HttpContext, string, Task<IResult?>>? withoutWorkflow = null)
    {
        var store = http.RequestServices.GetRequiredService<OrderStore>();
        var temporal = http.RequestServices.GetRequiredService<ITemporalClient>();
        var order = await store.FindAsync(id, http.RequestAborted);
        if (order is null)
        {
            return Problem(StatusCodes.Status404NotFound, "Order not found", $"No order {id}.");
        }
        if (!accepts(order.Status))
        {
            return Problem(StatusCodes.Status409Conflict, "Not allowed in this state",
                $"Order {id} is {order.Status}; this action does not apply.");
        }
        try
        {
            await temporal.GetWorkflowHandle<OrderWorkflow>(WorkflowId(id)).SignalAsync(
                signal, new WorkflowSignalOptions { Rpc = new RpcOptions { CancellationToken = http.RequestAborted } });
        }
        catch (RpcException e) when (e.Code == RpcException.StatusCode.NotFound)
        {
            return (withoutWorkflow is null ? null : await withoutWorkflow(http, id))
                ?? Problem(StatusCodes.Status409Conflict, "Not allowed in this state", $"Order {id} has finished.");
        }
        catch (Exception e) when (e is RpcException or InvalidOperationException)
        {
            return ApiProblems.TemporalUnavailable(http, e);
        }
        return Results.Accepted($"/api/orders/{id}");
    }

    /// <summary>Reads at most <paramref name="limit"/> bytes; null when the body is longer.</summary>
    private static async Task<byte[]?> ReadLimitedAsync(HttpRequest http, int limit, CancellationToken ct)
    {
        if (http.ContentLength > limit)
        {
            return null;
        }
        using var buffer = new MemoryStream();
        var chunk = new byte[8192];
        int read;
        while ((read = await http.Body.ReadAsync(chunk, ct)) > 0)
        {
            if (buffer.Length + read > limit)
            {
                return null;
            }
            buffer.Write(chunk, 0, read);
        }
        return buffer.ToArray();
    }

    private static IResult Problem(int status, string title, string detail) =>
        Results.Problem(statusCode: status, title: title, detail: detail);

    [LoggerMessage(Level = LogLevel.Warning,
        Message = "Order {OrderId}: its workflow has finished but the database shows it unfinished (restored from a backup?): left to the stuck-order sweep")]
    private static partial void LogProgressLost(ILogger logger, string orderId);
}

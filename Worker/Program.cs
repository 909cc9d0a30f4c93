using Microsoft.Extensions.Options;
using Worker;
using Worker.Orders;
using Worker.Orders.Api;
using Worker.Temporal;

if (HealthCheckCommand.IsRequested(args))
{
    return await HealthCheckCommand.RunAsync(args);
}
if (MigrateCommand.IsRequested(args))
{
    return await MigrateCommand.RunAsync(args);
}

WebApplication app;
try
{
    var builder = WebApplication.CreateBuilder(args);
    builder.AddServiceDefaults();
    var roles = WorkerRoles.From(builder.Configuration);
    builder.AddOrders();
    builder.AddTemporal(roles, OrdersHostingExtensions.TaskQueue);
    if (roles.Api)
    {
        builder.AddOrdersApi();
    }

    app = builder.Build();
    app.MapDefaultEndpoints();
    if (roles.Api)
    {
        app.MapOrdersApi();
    }
    await app.StartAsync();
}
catch (Exception e) when (e is InvalidOperationException or OptionsValidationException)
{
    // Configuration mistakes end the process at once with one readable line, not a stack trace.
    await Console.Error.WriteLineAsync($"Configuration error: {e.Message}");
    return 2;
}
await app.WaitForShutdownAsync();
return 0;

/// <summary>Entry point; public so test hosts (WebApplicationFactory) can start it.</summary>
public partial class Program;

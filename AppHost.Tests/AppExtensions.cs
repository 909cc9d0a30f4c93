using Microsoft.Extensions.DependencyInjection;

namespace AppHost.Tests;

internal static class AppExtensions
{
    public static DistributedApplicationModel Model(this DistributedApplication app) =>
        app.Services.GetRequiredService<DistributedApplicationModel>();
}

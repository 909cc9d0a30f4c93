using Microsoft.Extensions.DependencyInjection;
using Worker.Orders.Telemetry;

namespace Worker.Tests.Infrastructure;

/// <summary>The order instruments on a meter factory of their own, for components built without the host.</summary>
public static class TestMetrics
{
    public static OrderMetrics Create() =>
        new(new ServiceCollection().AddMetrics().BuildServiceProvider().GetRequiredService<System.Diagnostics.Metrics.IMeterFactory>());
}

namespace AppHost.Tests;

/// <summary>Containers or local processes: how the mode is chosen and what each gives the worker.</summary>
public sealed class StackModeTests
{
    [Theory]
    [InlineData(null, true, true, "Containers")]
    [InlineData(null, true, false, "Processes")]
    [InlineData("auto", true, false, "Processes")]
    [InlineData("containers", true, false, "Containers")]
    [InlineData("processes", true, true, "Processes")]
    [InlineData("PROCESSES", true, true, "Processes")]
    [InlineData("processes", false, false, "Containers")] // publishing describes the containers, whatever the mode
    public void The_mode_follows_the_setting_and_in_auto_the_engine(string? setting, bool isRunMode, bool engineAnswers, string expected)
    {
        var probed = false;

        var mode = global::AppHost.Stack.SelectMode(setting, isRunMode, () =>
        {
            probed = true;
            return engineAnswers;
        });

        Assert.Equal(expected, mode.ToString());
        Assert.Equal(setting is null or "auto" && isRunMode, probed); // only auto asks the engine, and only to run
    }

    [Fact]
    public void An_unknown_mode_is_refused_naming_the_choices()
    {
        var error = Assert.Throws<InvalidOperationException>(() => global::AppHost.Stack.SelectMode("vms", true, () => true));

        Assert.Contains("auto, containers or processes", error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public async Task In_process_mode_the_same_names_are_local_processes_referenced_and_awaited_as_containers_would_be()
    {
        await using var app = await ModelTests.BuildAsync("Stack:Mode=processes", $"Stack:StateDirectory={Path.GetTempPath()}");
        var resources = app.Model().Resources.ToDictionary(r => r.Name);

        Assert.Empty(resources.Values.OfType<ContainerResource>());
        Assert.IsType<PostgresProcessResource>(resources["postgres"]);
        Assert.Same(resources["postgres"], Assert.IsType<PostgresProcessDatabaseResource>(resources["appdb"]).Parent);
        Assert.IsType<RedisProcessResource>(resources["redis"]);
        var temporal = Assert.IsType<TemporalNamespaceResource>(resources["temporal"]);
        Assert.Same(resources["temporal-server"], temporal.Parent);
        Assert.Contains(resources["temporal-server"].Annotations.OfType<HealthCheckAnnotation>(), h => h.Key == "temporal-server-serving");
        var env = await ModelTests.PublishEnvironmentAsync(app, "worker");
        Assert.Equal(
            ["{appdb.connectionString}", "{redis.connectionString}", "{temporal.connectionString}"],
            [env["ConnectionStrings__appdb"], env["ConnectionStrings__redis"], env["ConnectionStrings__temporal"]]);
        Assert.Equal(["appdb", "postgres", "redis", "temporal", "temporal-server"],
            resources["worker"].Annotations.OfType<WaitAnnotation>().Select(w => w.Resource.Name).Order());
    }

    [Fact]
    public async Task Existing_infrastructure_still_replaces_a_process()
    {
        await using var app = await ModelTests.BuildAsync("Stack:Mode=processes", "ConnectionStrings:redis=cache.example:6379",
            $"Stack:StateDirectory={Path.GetTempPath()}");

        var redis = app.Model().Resources.Single(r => r.Name == "redis");

        Assert.IsAssignableFrom<ParameterResource>(redis);
        Assert.IsType<PostgresProcessResource>(app.Model().Resources.Single(r => r.Name == "postgres"));
    }
}

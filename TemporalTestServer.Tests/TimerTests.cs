using System.Diagnostics;
using Temporalio.Api.Enums.V1;
using Temporalio.Client;

namespace TemporalTestServer.Tests;

/// <summary>Durable timers, time skipping, and timers in real time when skipping is off.</summary>
public sealed class TimerTests
{
    [Fact]
    public async Task A_day_long_timer_fires_in_moments_while_the_client_waits_for_the_result()
    {
        await using var server = await TemporalTestServer.StartAsync();
        var client = await TemporalClient.ConnectAsync(new(server.Address));
        var tq = $"timers-{Guid.NewGuid()}";
        using var worker = new Temporalio.Worker.TemporalWorker(client, new Temporalio.Worker.TemporalWorkerOptions(tq).AddWorkflow<TimerWorkflow>());
        await worker.ExecuteAsync(async () =>
        {
            var clock = Stopwatch.StartNew();
            var start = DateTime.UtcNow;

            var firedAt = await client.ExecuteWorkflowAsync((TimerWorkflow wf) => wf.RunAsync(TimeSpan.FromDays(1)), new($"day-{Guid.NewGuid()}", tq));

            Assert.True(clock.Elapsed < TimeSpan.FromSeconds(5), $"took {clock.Elapsed}");
            Assert.True(firedAt >= start + TimeSpan.FromDays(1), $"workflow time {firedAt} should be a day after {start}");
            Assert.True(server.Service.Skipped >= TimeSpan.FromHours(23));
        });
    }

    [Fact]
    public async Task Time_does_not_skip_while_nobody_waits_for_a_result()
    {
        await using var server = await TemporalTestServer.StartAsync();
        var client = await TemporalClient.ConnectAsync(new(server.Address));
        var tq = $"timers-{Guid.NewGuid()}";
        using var worker = new Temporalio.Worker.TemporalWorker(client, new Temporalio.Worker.TemporalWorkerOptions(tq).AddWorkflow<TimerWorkflow>());
        await worker.ExecuteAsync(async () =>
        {
            var handle = await client.StartWorkflowAsync((TimerWorkflow wf) => wf.RunAsync(TimeSpan.FromHours(1)), new($"idle-{Guid.NewGuid()}", tq));
            await ExecutionTests.WaitForAsync(async () => (await handle.FetchHistoryAsync()).Events.Any(e => e.EventType == EventType.TimerStarted));
            await Task.Delay(500);

            Assert.Equal(Temporalio.Api.Enums.V1.WorkflowExecutionStatus.Running, (await handle.DescribeAsync()).Status);
            Assert.Equal(TimeSpan.Zero, server.Service.Skipped);
        });
    }

    [Fact]
    public async Task With_skipping_off_timers_fire_in_real_time()
    {
        await using var server = await TemporalTestServer.StartAsync(new TestServerOptions { TimeSkipping = false });
        var client = await TemporalClient.ConnectAsync(new(server.Address));
        var tq = $"timers-{Guid.NewGuid()}";
        using var worker = new Temporalio.Worker.TemporalWorker(client, new Temporalio.Worker.TemporalWorkerOptions(tq).AddWorkflow<TimerWorkflow>());
        await worker.ExecuteAsync(async () =>
        {
            var clock = Stopwatch.StartNew();
            await client.ExecuteWorkflowAsync((TimerWorkflow wf) => wf.RunAsync(TimeSpan.FromMilliseconds(800)), new($"real-{Guid.NewGuid()}", tq));
            Assert.True(clock.Elapsed >= TimeSpan.FromMilliseconds(800), $"took {clock.Elapsed}");

            var day = await client.StartWorkflowAsync((TimerWorkflow wf) => wf.RunAsync(TimeSpan.FromDays(1)), new($"day-{Guid.NewGuid()}", tq));
            var result = day.GetResultAsync();
            await Task.Delay(1000);
            Assert.False(result.IsCompleted);
            Assert.Equal(TimeSpan.Zero, server.Service.Skipped);
            await day.TerminateAsync();
        });
    }

    [Fact]
    public async Task Skipping_by_hand_fires_due_timers()
    {
        await using var server = await TemporalTestServer.StartAsync(new TestServerOptions { TimeSkipping = false });
        var client = await TemporalClient.ConnectAsync(new(server.Address));
        var tq = $"timers-{Guid.NewGuid()}";
        using var worker = new Temporalio.Worker.TemporalWorker(client, new Temporalio.Worker.TemporalWorkerOptions(tq).AddWorkflow<TimerWorkflow>());
        await worker.ExecuteAsync(async () =>
        {
            var handle = await client.StartWorkflowAsync((TimerWorkflow wf) => wf.RunAsync(TimeSpan.FromHours(2)), new($"manual-{Guid.NewGuid()}", tq));
            await ExecutionTests.WaitForAsync(async () => (await handle.FetchHistoryAsync()).Events.Any(e => e.EventType == EventType.TimerStarted));

            server.Service.Skip(TimeSpan.FromHours(2));

            await handle.GetResultAsync().WaitAsync(TimeSpan.FromSeconds(5));
        });
    }
}

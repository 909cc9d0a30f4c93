using System.Diagnostics;
using Temporalio.Api.Enums.V1;
using Temporalio.Client;
using Temporalio.Common;

namespace TemporalTestServer.Tests;

/// <summary>Activity retry policy, timeouts, heartbeats and cancellation through the real SDK worker.</summary>
public sealed class ActivityTests(ServerFixture fx) : IClassFixture<ServerFixture>
{
    private static readonly TimeSpan Long = TimeSpan.FromSeconds(10);

    [Fact]
    public async Task Failed_attempts_are_retried_with_exponential_backoff()
    {
        var activities = new TestActivities(failuresBeforeSuccess: 2);
        var retry = new RetryPolicy { InitialInterval = TimeSpan.FromMilliseconds(200), BackoffCoefficient = 2 };
        var clock = Stopwatch.StartNew();

        var result = await RunAsync(activities, "Flaky", retry, Long);

        Assert.Equal("ok:x", result);
        Assert.Equal([1, 2, 3], activities.Attempts);
        Assert.True(clock.Elapsed >= TimeSpan.FromMilliseconds(600), $"200 ms + 400 ms of backoff expected, took {clock.Elapsed}");
    }

    [Fact]
    public async Task Maximum_attempts_ends_retries()
    {
        var activities = new TestActivities(failuresBeforeSuccess: 10);
        var retry = new RetryPolicy { InitialInterval = TimeSpan.FromMilliseconds(20), MaximumAttempts = 3 };

        var result = await RunAsync(activities, "Flaky", retry, Long);

        Assert.Equal("failed:InvalidOperationException:MaximumAttemptsReached", result);
        Assert.Equal([1, 2, 3], activities.Attempts);
    }

    [Fact]
    public async Task Non_retryable_error_types_are_not_retried()
    {
        var retry = new RetryPolicy { InitialInterval = TimeSpan.FromMilliseconds(20), NonRetryableErrorTypes = ["Refused"] };

        var result = await RunAsync(new TestActivities(), "Refuse", retry, Long);

        Assert.Equal("failed:Refused:NonRetryableFailure", result);
    }

    [Fact]
    public async Task Start_to_close_timeout_fails_the_attempt()
    {
        var retry = new RetryPolicy { MaximumAttempts = 1 };

        var result = await RunAsync(new TestActivities(), "Sleep", retry, TimeSpan.FromMilliseconds(300));

        Assert.Equal("timeout:StartToClose", result);
    }

    [Fact]
    public async Task Missing_heartbeats_time_out_the_attempt()
    {
        var retry = new RetryPolicy { MaximumAttempts = 1 };

        var result = await RunAsync(new TestActivities(), "Sleep", retry, Long, heartbeat: TimeSpan.FromMilliseconds(300));

        Assert.Equal("timeout:Heartbeat", result);
    }

    [Fact]
    public async Task Schedule_to_close_timeout_ends_a_running_attempt()
    {
        var retry = new RetryPolicy { InitialInterval = TimeSpan.FromMilliseconds(20) };

        var result = await RunAsync(new TestActivities(), "Sleep", retry, Long, scheduleToClose: TimeSpan.FromMilliseconds(500));

        Assert.Equal("timeout:ScheduleToClose", result);
    }

    [Fact]
    public async Task No_retry_is_scheduled_past_the_schedule_to_close_deadline()
    {
        // As on the real server: when the next retry would start after the deadline, the attempt's own
        // timeout is reported (with retry state Timeout) instead of waiting for the deadline.
        var retry = new RetryPolicy { InitialInterval = TimeSpan.FromMilliseconds(300) };

        var result = await RunAsync(new TestActivities(), "Sleep", retry, TimeSpan.FromMilliseconds(200),
            scheduleToClose: TimeSpan.FromMilliseconds(1200));

        Assert.Equal("timeout:StartToClose", result);
    }

    [Fact]
    public async Task Cancellation_is_delivered_through_the_heartbeat_and_acknowledged()
    {
        await fx.WithWorkerAsync(o => o.AddWorkflow<CancelActivityWorkflow>().AddAllActivities(new TestActivities()), async tq =>
        {
            var handle = await fx.Client.StartWorkflowAsync((CancelActivityWorkflow wf) => wf.RunAsync(true), new($"cancel-act-{Guid.NewGuid()}", tq));

            Assert.Equal("cancelled", await handle.GetResultAsync());
            var events = (await handle.FetchHistoryAsync()).Events.ToList();
            var requested = events.Single(e => e.EventType == EventType.ActivityTaskCancelRequested);
            var canceled = events.Single(e => e.EventType == EventType.ActivityTaskCanceled);
            Assert.Equal(requested.EventId, canceled.ActivityTaskCanceledEventAttributes.LatestCancelRequestedEventId);
            Assert.NotEqual(0, canceled.ActivityTaskCanceledEventAttributes.StartedEventId);
        });
    }

    [Fact]
    public async Task Recorded_heartbeat_details_reach_the_next_attempt()
    {
        await fx.WithWorkerAsync(o => o.AddWorkflow<HeartbeatResumeWorkflow>().AddAllActivities(new TestActivities()), async tq =>
        {
            var result = await fx.Client.ExecuteWorkflowAsync((HeartbeatResumeWorkflow wf) => wf.RunAsync(), new($"resume-{Guid.NewGuid()}", tq));

            Assert.Equal(42, result);
        });
    }

    [Fact]
    public async Task Final_attempt_and_last_failure_are_recorded_on_the_started_event()
    {
        var activities = new TestActivities(failuresBeforeSuccess: 1);
        await fx.WithWorkerAsync(o => o.AddWorkflow<RetryWorkflow>().AddAllActivities(activities), async tq =>
        {
            var retry = new RetryPolicy { InitialInterval = TimeSpan.FromMilliseconds(20) };
            var handle = await fx.Client.StartWorkflowAsync(
                (RetryWorkflow wf) => wf.RunAsync("Flaky", retry, Long, null, null), new($"attempts-{Guid.NewGuid()}", tq));
            await handle.GetResultAsync();

            var started = (await handle.FetchHistoryAsync()).Events.Single(e => e.EventType == EventType.ActivityTaskStarted);
            Assert.Equal(2, started.ActivityTaskStartedEventAttributes.Attempt);
            Assert.Equal("transient failure", started.ActivityTaskStartedEventAttributes.LastFailure.Message);
        });
    }

    private async Task<string> RunAsync(
        TestActivities activities, string activity, RetryPolicy retry, TimeSpan startToClose,
        TimeSpan? heartbeat = null, TimeSpan? scheduleToClose = null)
    {
        var result = "";
        await fx.WithWorkerAsync(o => o.AddWorkflow<RetryWorkflow>().AddAllActivities(activities), async tq =>
        {
            result = await fx.Client.ExecuteWorkflowAsync(
                (RetryWorkflow wf) => wf.RunAsync(activity, retry, startToClose, heartbeat, scheduleToClose),
                new($"retry-{Guid.NewGuid()}", tq));
        });
        return result;
    }
}

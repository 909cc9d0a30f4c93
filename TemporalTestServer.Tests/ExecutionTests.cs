using Temporalio.Api.Enums.V1;
using Temporalio.Api.WorkflowService.V1;
using Temporalio.Client;
using Temporalio.Exceptions;

namespace TemporalTestServer.Tests;

/// <summary>Workflow executions through the real SDK client and worker: start rules, signals, queries, cancel, terminate, describe.</summary>
public sealed class ExecutionTests(ServerFixture fx) : IClassFixture<ServerFixture>
{
    private static string Id(string prefix) => $"{prefix}-{Guid.NewGuid():N}";

    [Fact]
    public async Task Workflow_with_an_activity_completes_and_its_history_replays()
    {
        await fx.WithWorkerAsync(o => o.AddWorkflow<EchoWorkflow>().AddAllActivities(new TestActivities()), async tq =>
        {
            var handle = await fx.Client.StartWorkflowAsync((EchoWorkflow wf) => wf.RunAsync("hi"), new(Id("echo"), tq));
            Assert.Equal("echo:hi", await handle.GetResultAsync());

            var history = await handle.FetchHistoryAsync();
            var events = history.Events.ToList();
            var scheduled = events.Single(e => e.EventType == EventType.ActivityTaskScheduled);
            var started = events.Single(e => e.EventType == EventType.ActivityTaskStarted);
            var completed = events.Single(e => e.EventType == EventType.ActivityTaskCompleted);
            Assert.Equal(scheduled.EventId, started.ActivityTaskStartedEventAttributes.ScheduledEventId);
            Assert.Equal(started.EventId, completed.ActivityTaskCompletedEventAttributes.StartedEventId);
            Assert.Equal(started.EventId + 1, completed.EventId);
            Assert.NotNull(events.First(e => e.EventType == EventType.WorkflowTaskCompleted).WorkflowTaskCompletedEventAttributes.SdkMetadata);
            await new Temporalio.Worker.WorkflowReplayer(new Temporalio.Worker.WorkflowReplayerOptions().AddWorkflow<EchoWorkflow>())
                .ReplayWorkflowAsync(history);
        });
    }

    [Fact]
    public async Task Namespaces_default_and_registered_exist_and_others_are_not_found()
    {
        var described = await fx.Client.WorkflowService.DescribeNamespaceAsync(new() { Namespace = "orders-test" });
        await fx.Client.WorkflowService.RegisterNamespaceAsync(new() { Namespace = "added-at-runtime" });
        var added = await fx.Client.WorkflowService.DescribeNamespaceAsync(new() { Namespace = "added-at-runtime" });

        Assert.Equal(NamespaceState.Registered, described.NamespaceInfo.State);
        Assert.Equal("added-at-runtime", added.NamespaceInfo.Name);
        var missing = await Assert.ThrowsAsync<RpcException>(() =>
            fx.Client.WorkflowService.DescribeNamespaceAsync(new() { Namespace = "no-such-namespace" }));
        Assert.Equal(RpcException.StatusCode.NotFound, missing.Code);
    }

    [Fact]
    public async Task A_running_workflow_id_conflicts_unless_the_policy_uses_or_terminates_it()
    {
        var id = Id("conflict");
        var tq = Id("idle-queue");
        var first = await fx.Client.StartWorkflowAsync((SignalQueryWorkflow wf) => wf.RunAsync(), new(id, tq));

        await Assert.ThrowsAsync<WorkflowAlreadyStartedException>(() =>
            fx.Client.StartWorkflowAsync((SignalQueryWorkflow wf) => wf.RunAsync(), new(id, tq)));
        var existing = await fx.Client.StartWorkflowAsync((SignalQueryWorkflow wf) => wf.RunAsync(),
            new(id, tq) { IdConflictPolicy = WorkflowIdConflictPolicy.UseExisting });
        var replacement = await fx.Client.StartWorkflowAsync((SignalQueryWorkflow wf) => wf.RunAsync(),
            new(id, tq) { IdConflictPolicy = WorkflowIdConflictPolicy.TerminateExisting });

        Assert.Equal(first.ResultRunId, existing.ResultRunId);
        Assert.NotEqual(first.ResultRunId, replacement.ResultRunId);
        var old = await fx.Client.GetWorkflowHandle(id, runId: first.ResultRunId).DescribeAsync();
        Assert.Equal(WorkflowExecutionStatus.Terminated, old.Status);
        await replacement.TerminateAsync();
    }

    [Fact]
    public async Task A_closed_workflow_id_is_reused_according_to_the_reuse_policy()
    {
        await fx.WithWorkerAsync(o => o.AddWorkflow<EchoWorkflow>().AddAllActivities(new TestActivities()), async tq =>
        {
            var id = Id("reuse");
            var first = await fx.Client.StartWorkflowAsync((EchoWorkflow wf) => wf.RunAsync("1"), new(id, tq));
            await first.GetResultAsync();

            await Assert.ThrowsAsync<WorkflowAlreadyStartedException>(() => fx.Client.StartWorkflowAsync(
                (EchoWorkflow wf) => wf.RunAsync("2"), new(id, tq) { IdReusePolicy = WorkflowIdReusePolicy.RejectDuplicate }));
            await Assert.ThrowsAsync<WorkflowAlreadyStartedException>(() => fx.Client.StartWorkflowAsync(
                (EchoWorkflow wf) => wf.RunAsync("2"), new(id, tq) { IdReusePolicy = WorkflowIdReusePolicy.AllowDuplicateFailedOnly }));
            var second = await fx.Client.StartWorkflowAsync((EchoWorkflow wf) => wf.RunAsync("3"), new(id, tq));

            Assert.NotEqual(first.ResultRunId, second.ResultRunId);
            Assert.Equal("echo:3", await second.GetResultAsync());
        });
    }

    [Fact]
    public async Task Signals_are_delivered_in_order_and_queries_answer_on_running_and_closed_workflows()
    {
        await fx.WithWorkerAsync(o => o.AddWorkflow<SignalQueryWorkflow>(), async tq =>
        {
            var handle = await fx.Client.StartWorkflowAsync((SignalQueryWorkflow wf) => wf.RunAsync(), new(Id("signals"), tq));
            foreach (var value in (string[])["a", "b", "c"])
            {
                await handle.SignalAsync(wf => wf.AddAsync(value));
            }

            Assert.Equal(3, await handle.QueryAsync(wf => wf.Count()));
            await handle.SignalAsync(wf => wf.FinishAsync());
            Assert.Equal("a,b,c", await handle.GetResultAsync());
            Assert.Equal(3, await handle.QueryAsync(wf => wf.Count()));
        });
    }

    [Fact]
    public async Task Signal_to_an_unknown_or_closed_workflow_is_not_found()
    {
        var unknown = await Assert.ThrowsAsync<RpcException>(() =>
            fx.Client.GetWorkflowHandle<SignalQueryWorkflow>(Id("nobody")).SignalAsync(wf => wf.FinishAsync()));
        var closed = await fx.Client.StartWorkflowAsync((SignalQueryWorkflow wf) => wf.RunAsync(), new(Id("closed"), Id("idle")));
        await closed.TerminateAsync("closed before the signal");
        var eventsBefore = (await closed.FetchHistoryAsync()).Events.Count;

        var toClosed = await Assert.ThrowsAsync<RpcException>(() => closed.SignalAsync(wf => wf.AddAsync("late")));

        Assert.Equal(RpcException.StatusCode.NotFound, unknown.Code);
        Assert.Equal(RpcException.StatusCode.NotFound, toClosed.Code);
        Assert.Contains("completed", toClosed.Message, StringComparison.Ordinal);
        Assert.Equal(eventsBefore, (await closed.FetchHistoryAsync()).Events.Count);
    }

    [Fact]
    public async Task Signal_with_start_starts_once_then_signals_the_running_workflow()
    {
        await fx.WithWorkerAsync(o => o.AddWorkflow<SignalQueryWorkflow>(), async tq =>
        {
            var id = Id("sws");
            var options = new WorkflowOptions(id, tq);
            options.SignalWithStart((SignalQueryWorkflow wf) => wf.AddAsync("first"));
            var first = await fx.Client.StartWorkflowAsync((SignalQueryWorkflow wf) => wf.RunAsync(), options);
            var again = new WorkflowOptions(id, tq);
            again.SignalWithStart((SignalQueryWorkflow wf) => wf.AddAsync("second"));
            var second = await fx.Client.StartWorkflowAsync((SignalQueryWorkflow wf) => wf.RunAsync(), again);

            Assert.Equal(first.ResultRunId, second.ResultRunId);
            await first.SignalAsync(wf => wf.FinishAsync());
            Assert.Equal("first,second", await first.GetResultAsync());
        });
    }

    [Fact]
    public async Task Cancel_request_reaches_the_workflow_which_decides_its_outcome()
    {
        await fx.WithWorkerAsync(o => o.AddWorkflow<CancellableWorkflow>(), async tq =>
        {
            var handle = await fx.Client.StartWorkflowAsync((CancellableWorkflow wf) => wf.RunAsync(), new(Id("cancel"), tq));
            await WaitForAsync(async () => (await handle.FetchHistoryAsync()).Events.Any(e => e.EventType == EventType.TimerStarted));

            await handle.CancelAsync();

            Assert.Equal("cancelled", await handle.GetResultAsync());
            var events = (await handle.FetchHistoryAsync()).Events.Select(e => e.EventType).ToList();
            Assert.Contains(EventType.WorkflowExecutionCancelRequested, events);
            Assert.Contains(EventType.TimerCanceled, events);
        });
    }

    [Fact]
    public async Task Terminate_closes_the_run_and_its_result_is_a_termination()
    {
        var handle = await fx.Client.StartWorkflowAsync((SignalQueryWorkflow wf) => wf.RunAsync(), new(Id("terminate"), Id("idle")));

        await handle.TerminateAsync("enough");

        var error = await Assert.ThrowsAsync<WorkflowFailedException>(() => handle.GetResultAsync());
        Assert.IsType<TerminatedFailureException>(error.InnerException);
        Assert.Equal(WorkflowExecutionStatus.Terminated, (await handle.DescribeAsync()).Status);
    }

    [Fact]
    public async Task Describe_shows_status_and_pending_activities()
    {
        var activities = new TestActivities(failuresBeforeSuccess: 100);
        await fx.WithWorkerAsync(o => o.AddWorkflow<RetryWorkflow>().AddAllActivities(activities), async tq =>
        {
            var retry = new Temporalio.Common.RetryPolicy { InitialInterval = TimeSpan.FromMilliseconds(50), BackoffCoefficient = 1 };
            var handle = await fx.Client.StartWorkflowAsync(
                (RetryWorkflow wf) => wf.RunAsync("Flaky", retry, TimeSpan.FromSeconds(5), null, null), new(Id("describe"), tq));
            await WaitForAsync(() => Task.FromResult(activities.Attempts.Count >= 2));

            var description = await fx.Client.WorkflowService.DescribeWorkflowExecutionAsync(new DescribeWorkflowExecutionRequest
            {
                Namespace = "default",
                Execution = new() { WorkflowId = handle.Id },
            });

            Assert.Equal(WorkflowExecutionStatus.Running, description.WorkflowExecutionInfo.Status);
            var pending = Assert.Single(description.PendingActivities);
            Assert.Equal("Flaky", pending.ActivityType.Name);
            Assert.True(pending.Attempt >= 2);
            Assert.Equal("transient failure", pending.LastFailure.Message);
            await handle.TerminateAsync();
        });
    }

    [Fact]
    public async Task Failed_workflow_task_is_retried_and_recorded()
    {
        FailsFirstTaskWorkflow.Reset();
        await fx.WithWorkerAsync(o => o.AddWorkflow<FailsFirstTaskWorkflow>(), async tq =>
        {
            var handle = await fx.Client.StartWorkflowAsync((FailsFirstTaskWorkflow wf) => wf.RunAsync(), new(Id("wft"), tq));

            Assert.Equal(1, await handle.GetResultAsync());
            var events = (await handle.FetchHistoryAsync()).Events.Select(e => e.EventType).ToList();
            Assert.Contains(EventType.WorkflowTaskFailed, events);
        });
    }

    [Fact]
    public async Task Unimplemented_methods_answer_unimplemented_naming_the_method()
    {
        var error = await Assert.ThrowsAsync<RpcException>(() =>
            fx.Client.WorkflowService.ListWorkflowExecutionsAsync(new ListWorkflowExecutionsRequest { Namespace = "default" }));

        Assert.Equal(RpcException.StatusCode.Unimplemented, error.Code);
        Assert.Contains("ListWorkflowExecutions", error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Worker_shutdown_releases_its_polls_promptly()
    {
        var tq = Id("shutdown");
        using var worker = new Temporalio.Worker.TemporalWorker(fx.Client,
            new Temporalio.Worker.TemporalWorkerOptions(tq).AddWorkflow<SignalQueryWorkflow>());
        using var stop = new CancellationTokenSource();
        var run = worker.ExecuteAsync(stop.Token);
        await WaitForAsync(() => Task.FromResult(fx.Server.Service.PendingPolls(tq) > 0));
        var clock = System.Diagnostics.Stopwatch.StartNew();

        await stop.CancelAsync();
        await Assert.ThrowsAnyAsync<OperationCanceledException>(() => run);
        await WaitForAsync(() => Task.FromResult(fx.Server.Service.PendingPolls(tq) == 0));

        // The worker stopped and the server holds none of its polls (released by ShutdownWorker, or ended by the
        // worker cancelling them), well before a long poll's 20 s.
        Assert.True(clock.Elapsed < TimeSpan.FromSeconds(3), $"shutdown took {clock.Elapsed}");
    }

    [Fact]
    public async Task A_stopped_workers_runs_continue_on_another_worker_at_once()
    {
        var tq = Id("handover");
        var handle = await fx.Client.StartWorkflowAsync((SignalQueryWorkflow wf) => wf.RunAsync(), new(Id("handover"), tq));
        using (var first = new Temporalio.Worker.TemporalWorker(fx.Client, new Temporalio.Worker.TemporalWorkerOptions(tq).AddWorkflow<SignalQueryWorkflow>()))
        {
            await first.ExecuteAsync(async () =>
            {
                await handle.SignalAsync(wf => wf.AddAsync("on first"));
                Assert.Equal(1, await handle.QueryAsync(wf => wf.Count()));
            });
        }

        // The first worker had the run cached on its sticky queue; its shutdown sends the next task to the
        // normal queue instead of leaving it for the sticky timeout.
        using var second = new Temporalio.Worker.TemporalWorker(fx.Client, new Temporalio.Worker.TemporalWorkerOptions(tq).AddWorkflow<SignalQueryWorkflow>());
        await second.ExecuteAsync(async () =>
        {
            var clock = System.Diagnostics.Stopwatch.StartNew();
            await handle.SignalAsync(wf => wf.FinishAsync());
            Assert.Equal("on first", await handle.GetResultAsync());
            Assert.True(clock.Elapsed < TimeSpan.FromSeconds(3), $"took {clock.Elapsed}");
        });
    }

    internal static async Task WaitForAsync(Func<Task<bool>> condition)
    {
        for (var i = 0; i < 200; i++)
        {
            if (await condition())
            {
                return;
            }
            await Task.Delay(25);
        }
        throw new TimeoutException("condition not met within 5 s");
    }
}

using Temporalio.Client;

namespace TemporalTestServer.Tests;

public sealed class SmokeTests(ServerFixture fx) : IClassFixture<ServerFixture>
{
    [Fact]
    public async Task Workflow_with_an_activity_completes()
    {
        await fx.WithWorkerAsync(
            o => o.AddWorkflow<EchoWorkflow>().AddAllActivities(new TestActivities()),
            async tq =>
            {
                var result = await fx.Client.ExecuteWorkflowAsync((EchoWorkflow wf) => wf.RunAsync("hi"), new($"echo-{Guid.NewGuid()}", tq));
                Assert.Equal("echo:hi", result);
            });
    }
}

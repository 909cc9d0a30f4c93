using Temporalio.Api.ErrorDetails.V1;
using Temporalio.Api.Query.V1;

namespace TemporalTestServer.Service;

/// <summary>
/// Queries: each becomes a legacy query task on the workflow's task queue, routed like the run's workflow
/// tasks (to its pinned version, or its queue's target), and is answered by the worker that takes it.
/// </summary>
public sealed partial class TestWorkflowService
{
    private void MapQueries(GrpcEndpoint endpoint)
    {
        endpoint.Map<QueryWorkflowRequest>(Service + "QueryWorkflow", QueryAsync);
        Map<RespondQueryTaskCompletedRequest>(endpoint, "RespondQueryTaskCompleted", r =>
        {
            var id = ParseToken(r.TaskToken, "query")[1];
            var query = queries.GetValueOrDefault(id) ?? throw GrpcStatusException.NotFound("Query not found (timed out?).");
            query.Answer.TrySetResult(r);
            return new RespondQueryTaskCompletedResponse();
        });
    }

    /// <summary>A query becomes a legacy query task for a worker, once the run has no workflow task in flight.</summary>
    private async Task<IMessage> QueryAsync(QueryWorkflowRequest r, CallContext context)
    {
        QueryState query;
        lock (gate)
        {
            var run = FindRun(r.Namespace, r.Execution.WorkflowId, r.Execution.RunId);
            query = new QueryState { Id = NewId(), Run = run, Query = r.Query };
            run.PendingQueries.Add(query);
            queries[query.Id] = query;
            DispatchQueries(run);
        }
        RespondQueryTaskCompletedRequest answer;
        try
        {
            answer = await query.Answer.Task.WaitAsync(context.LongPollBudget(TimeSpan.FromMinutes(1)), context.Aborted);
        }
        catch (TimeoutException)
        {
            throw new GrpcStatusException(StatusCode.DeadlineExceeded, "No worker answered the query in time.");
        }
        finally
        {
            lock (gate)
            {
                query.Run.PendingQueries.Remove(query);
                queries.Remove(query.Id);
            }
        }
        if (answer.CompletedType == QueryResultType.Failed)
        {
            throw new GrpcStatusException(StatusCode.InvalidArgument, answer.ErrorMessage, new QueryFailedFailure { Failure = answer.Failure });
        }
        return new QueryWorkflowResponse { QueryResult = answer.QueryResult };
    }

    private void DispatchQueries(WorkflowRun run)
    {
        if (run.WorkflowTask is not null)
        {
            return;
        }
        foreach (var query in run.PendingQueries.Where(q => !q.Dispatched))
        {
            query.Dispatched = true;
            WorkflowQueue(run.Namespace, run.TaskQueue).Offer(query, workflowRoute);
        }
    }
}

using Aspire.Hosting.Deployment.Planning;

namespace Hosting.Deployment.Tests;

/// <summary>
/// The connection budget: every workload's declared pool at its most replicas (autoscaling maximum, builds side by
/// side, one per job) plus the server's reserve must fit the server's limit, or the generation stops with the sum.
/// </summary>
public sealed class ConnectionBudgetTests
{
    [Fact]
    public async Task A_model_whose_pools_at_their_most_replicas_exceed_the_servers_limit_is_refused_with_the_arithmetic()
    {
        using var model = new PublishModel();
        var (db, server) = AddServer(model, limit: 100, reserved: 10);
        AddApp(model, db, perReplica: 20, d => d.Autoscale(min: 2, max: 4).CopiesSideBySide(2));
        model.Builder.AddContainer("backup", "postgres", "16.11").WithDeployment(d => d.RunAs(999).Schedule("0 3 * * *").Connects(server.Resource, 3));
        model.Builder.AddContainer("unrelated", "nginx", "1.27.3").WithDeployment(d => d.RunAs(101).Replicas(50));

        var error = await Assert.ThrowsAsync<DeploymentModelException>(model.GenerateAsync);

        Assert.Contains("'postgres' accepts 100 connections, but the model may open 173:", error.Message, StringComparison.Ordinal);
        Assert.Contains("app: 8 (autoscaling maximum x 2 builds side by side) x 20 = 160", error.Message, StringComparison.Ordinal);
        Assert.Contains("backup: 1 (a job) x 3 = 3", error.Message, StringComparison.Ordinal);
        Assert.Contains("reserved for administration: 10", error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public async Task A_model_that_fits_exactly_is_generated()
    {
        using var model = new PublishModel();
        var (db, _) = AddServer(model, limit: 100, reserved: 10);
        AddApp(model, db, perReplica: 30, d => d.Replicas(3));

        var files = await model.GenerateAsync();

        Assert.NotEmpty(files);
    }

    [Fact]
    public async Task A_fixed_replica_count_is_counted_when_there_is_no_autoscaler()
    {
        using var model = new PublishModel();
        var (db, _) = AddServer(model, limit: 100, reserved: 10);
        AddApp(model, db, perReplica: 30, d => d.Replicas(4));

        var error = await Assert.ThrowsAsync<DeploymentModelException>(model.GenerateAsync);

        Assert.Contains("app: 4 (replicas) x 30 = 120", error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public async Task A_form_a_contribution_runs_in_production_is_checked_with_its_own_pools()
    {
        using var model = new PublishModel();
        var (db, server) = AddServer(model, limit: 100, reserved: 10);
        // One replica of 20 as the model runs it (fits); in production, an option runs it as 5 pods of 20 and a router of 10.
        model.Builder.AddContainer("queue", "example/queue", "1.0.0")
            .WithDeployment(d => d.RunAs(1000).Connects(server.Resource, 20).Contribute(new ScaledOutInProduction(server.Resource, pods: 5, pool: 20)));

        var error = await Assert.ThrowsAsync<DeploymentModelException>(model.GenerateAsync);

        Assert.Contains("'postgres' accepts 100 connections, but the model may open 120 in production:", error.Message, StringComparison.Ordinal);
        Assert.Contains("queue shard: 5 (replicas in production) x 20 = 100", error.Message, StringComparison.Ordinal);
        Assert.DoesNotContain("queue: 1", error.Message, StringComparison.Ordinal);
    }

    private sealed class ScaledOutInProduction(IResource server, int pods, int pool) : DeploymentContribution
    {
        public override IEnumerable<ProductionConnections> ConnectionsInProduction =>
            [new(server, "queue shard", pods, pool), new(server, "queue router", 1, 10)];
    }

    private static (IResourceBuilder<Database> Db, IResourceBuilder<ContainerResource> Server) AddServer(PublishModel model, int limit, int reserved)
    {
        var server = model.Builder.AddContainer("postgres", "postgres", "16.11").WithEndpoint(targetPort: 5432, name: "tcp")
            .WithDeployment(d => d.RunAs(999, "/var/run/postgresql").AcceptsConnections(limit, reserved));
        return (model.Builder.AddResource(new Database("appdb", server.Resource)), server);
    }

    /// <summary>An app declares its pool to a database; the budget is its server's (the database's parent).</summary>
    private static void AddApp(PublishModel model, IResourceBuilder<Database> db, int perReplica, Action<DeploymentBuilder> scale) =>
        model.Builder.AddContainer("app", "nginx", "1.27.3").WithReference(db)
            .WithDeployment(d =>
            {
                d.RunAs(101).Connects(db.Resource, perReplica);
                scale(d);
            });

    /// <summary>A database of a server, as Aspire's PostgreSQL integration models one: a child with a connection string.</summary>
    public sealed class Database(string name, ContainerResource server) : Resource(name), IResourceWithParent<ContainerResource>, IResourceWithConnectionString
    {
        public ContainerResource Parent { get; } = server;

        public ReferenceExpression ConnectionStringExpression =>
            ReferenceExpression.Create($"Host={Parent.GetEndpoint("tcp").Property(EndpointProperty.Host)};Database={Name}");
    }
}

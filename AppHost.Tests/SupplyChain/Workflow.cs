using YamlDotNet.RepresentationModel;

namespace AppHost.Tests.SupplyChain;

/// <summary>A GitHub Actions workflow as the hardening rules read it, parsed with YamlDotNet.</summary>
public sealed record Workflow(YamlMappingNode On, IReadOnlyDictionary<string, string> Env, IReadOnlyList<WorkflowJob> Jobs)
{
    public static readonly string Folder = Path.Combine(Repository.Root, ".github", "workflows");

    public static Workflow Load(string name) => Parse(File.ReadAllText(Path.Combine(Folder, name)));

    public static Workflow Parse(string yaml)
    {
        var stream = new YamlStream();
        stream.Load(new StringReader(yaml));
        var root = (YamlMappingNode)stream.Documents[0].RootNode;
        var permissions = Permissions(Child(root, "permissions"), inherited: new Dictionary<string, string>());
        var jobs = ((YamlMappingNode)Child(root, "jobs")!).Children
            .Select(j => WorkflowJob.Parse(Scalar(j.Key)!, (YamlMappingNode)j.Value, permissions)).ToList();
        var on = Child(root, "on") switch
        {
            YamlMappingNode map => map,
            YamlScalarNode scalar => new YamlMappingNode(scalar, new YamlScalarNode("")),
            YamlSequenceNode list => new YamlMappingNode(list.Children.Select(e => new KeyValuePair<YamlNode, YamlNode>(e, new YamlScalarNode("")))),
            _ => new YamlMappingNode(),
        };
        return new Workflow(on, Strings(Child(root, "env")), jobs);
    }

    public WorkflowJob Job(string name) => Jobs.Single(j => j.Name == name);

    /// <summary>The jobs <paramref name="job"/> waits for, directly or through others.</summary>
    public HashSet<string> Upstream(WorkflowJob job)
    {
        HashSet<string> seen = [];
        var queue = new Queue<string>(job.Needs);
        while (queue.TryDequeue(out var name))
        {
            if (seen.Add(name) && Jobs.FirstOrDefault(j => j.Name == name) is { } upstream)
            {
                foreach (var need in upstream.Needs)
                {
                    queue.Enqueue(need);
                }
            }
        }
        return seen;
    }

    /// <summary>A job's permissions: its own, else the workflow's; <c>write-all</c>/<c>read-all</c> spelled out.</summary>
    internal static Dictionary<string, string> Permissions(YamlNode? node, IReadOnlyDictionary<string, string> inherited) => node switch
    {
        null => new Dictionary<string, string>(inherited),
        YamlScalarNode { Value: "write-all" } => AllScopes.ToDictionary(s => s, _ => "write"),
        YamlScalarNode { Value: "read-all" } => AllScopes.ToDictionary(s => s, _ => "read"),
        YamlScalarNode => [],
        _ => Strings(node),
    };

    private static readonly string[] AllScopes =
        ["actions", "attestations", "checks", "contents", "deployments", "id-token", "issues", "discussions", "packages",
         "pages", "pull-requests", "repository-projects", "security-events", "statuses"];

    internal static YamlNode? Child(YamlMappingNode node, string key) =>
        node.Children.TryGetValue(new YamlScalarNode(key), out var value) ? value : null;

    internal static string? Scalar(YamlNode? node) => (node as YamlScalarNode)?.Value;

    internal static Dictionary<string, string> Strings(YamlNode? node) =>
        node is YamlMappingNode map ? map.Children.ToDictionary(c => Scalar(c.Key)!, c => Scalar(c.Value) ?? "") : [];
}

public sealed record WorkflowJob(
    string Name,
    IReadOnlyDictionary<string, string> Permissions,
    IReadOnlyList<string> Needs,
    string? Environment,
    string? Calls,
    IReadOnlyDictionary<string, string> Env,
    IReadOnlyDictionary<string, string> Outputs,
    YamlNode? Matrix,
    IReadOnlyList<WorkflowStep> Steps)
{
    public IEnumerable<string> WriteScopes => Permissions.Where(p => p.Value == "write").Select(p => p.Key);

    public bool Writes => WriteScopes.Any();

    /// <summary>The steps that run <c>scripts/release.sh SUBCOMMAND</c>.</summary>
    public IEnumerable<WorkflowStep> Releasing(string subcommand) => Steps.Where(s => s.ReleaseStep == subcommand);

    public IEnumerable<WorkflowStep> Using(string action) => Steps.Where(s => s.Action == action);

    internal static WorkflowJob Parse(string name, YamlMappingNode job, IReadOnlyDictionary<string, string> inherited)
    {
        var needs = Workflow.Child(job, "needs") switch
        {
            YamlScalarNode one => [one.Value!],
            YamlSequenceNode many => many.Children.Select(Workflow.Scalar).OfType<string>().ToList(),
            _ => new List<string>(),
        };
        var environment = Workflow.Child(job, "environment") switch
        {
            YamlScalarNode scalar => scalar.Value,
            YamlMappingNode map => Workflow.Scalar(Workflow.Child(map, "name")),
            _ => null,
        };
        var strategy = Workflow.Child(job, "strategy") as YamlMappingNode;
        var steps = (Workflow.Child(job, "steps") as YamlSequenceNode)?.Children.OfType<YamlMappingNode>()
            .Select((s, i) => WorkflowStep.Parse(i + 1, s)).ToList() ?? [];
        return new WorkflowJob(name, Workflow.Permissions(Workflow.Child(job, "permissions"), inherited), needs, environment,
            Workflow.Scalar(Workflow.Child(job, "uses")), Workflow.Strings(Workflow.Child(job, "env")),
            Workflow.Strings(Workflow.Child(job, "outputs")), strategy is null ? null : Workflow.Child(strategy, "matrix"), steps);
    }
}

public sealed record WorkflowStep(
    int Number,
    string? Id,
    string? Uses,
    string? Run,
    IReadOnlyDictionary<string, string> Env,
    IReadOnlyDictionary<string, string> With)
{
    /// <summary>The action without its version (<c>actions/checkout</c>), or null for a <c>run:</c>.</summary>
    public string? Action => Uses?.Split('@')[0];

    /// <summary>The subcommand when the step runs <c>scripts/release.sh</c>.</summary>
    public string? ReleaseStep => Arguments is ["scripts/release.sh", var subcommand, ..] ? subcommand : null;

    public string[] Arguments => Run?.Trim().Split(' ', StringSplitOptions.RemoveEmptyEntries) ?? [];

    /// <summary>Whether the step is handed a secret (<c>${{ secrets.X }}</c>) in any of its values.</summary>
    public bool HasSecrets => Env.Values.Concat(With.Values).Any(v => v.Contains("secrets.", StringComparison.Ordinal));

    public string Describe => Id ?? Run ?? Uses ?? $"step {Number}";

    internal static WorkflowStep Parse(int number, YamlMappingNode step) => new(number,
        Workflow.Scalar(Workflow.Child(step, "id")), Workflow.Scalar(Workflow.Child(step, "uses")),
        Workflow.Scalar(Workflow.Child(step, "run")), Workflow.Strings(Workflow.Child(step, "env")),
        Workflow.Strings(Workflow.Child(step, "with")));
}

using System.Globalization;
using System.Text.RegularExpressions;
using Aspire.Hosting.ApplicationModel;

namespace Aspire.Hosting.Deployment.Planning;

/// <summary>
/// Reads the application model into a <see cref="Plan"/>: every container and project resource becomes a workload,
/// generically; connection-string resources (databases, namespaces) and parameters are what workloads reference.
/// Anything else, or a bind mount, stops the generation with the resource's name.
/// </summary>
internal sealed partial class PlanReader
{
    /// <summary>Where an ASP.NET Core image listens (<c>ASPNETCORE_HTTP_PORTS</c> of the .NET images).</summary>
    public const int ProjectHttpPort = 8080;

    private readonly DistributedApplicationModel model;
    private readonly DeploymentOptions options;
    private readonly DistributedApplicationExecutionContext publish;
    private readonly Dictionary<string, SecretInput> secrets = [];

    private PlanReader(DistributedApplicationModel model, DeploymentOptions options, DistributedApplicationExecutionContext publish)
    {
        if (!publish.IsPublishMode)
        {
            throw new InvalidOperationException("The deployment is read from the model in publish mode.");
        }
        this.model = model;
        this.options = options;
        this.publish = publish;
    }

    public static async Task<Plan> ReadAsync(
        DistributedApplicationModel model, DeploymentOptions options, DistributedApplicationExecutionContext publish, CancellationToken cancellationToken)
    {
        var reader = new PlanReader(model, options, publish);
        Dictionary<IResource, Workload> workloads = [];
        foreach (var resource in model.Resources)
        {
            if (IsWorkload(resource))
            {
                workloads.Add(resource, await reader.ReadWorkloadAsync(resource, cancellationToken));
            }
            else if (!IsReferencedValue(resource))
            {
                throw new DeploymentModelException(
                    $"Resource '{resource.Name}' ({resource.GetType().Name}) cannot be deployed: only containers, projects, parameters and "
                    + "connection strings translate. Leave it out of publish mode (builder.ExecutionContext.IsRunMode) or give it a container image.");
            }
        }
        ConnectionBudget.Check(workloads);
        return new Plan([.. workloads.Values], [.. reader.secrets.Values.OrderBy(s => s.Name, StringComparer.Ordinal)]);
    }

    private static bool IsWorkload(IResource resource) => resource is ContainerResource or ProjectResource;

    // Parameters, connection strings and children such as databases are values others reference; the project
    // rebuilder Aspire adds beside each project exists only in run mode.
    private static bool IsReferencedValue(IResource resource) =>
        resource is ParameterResource or IResourceWithConnectionString or IValueProvider
        || resource.GetType().Name.EndsWith("RebuilderResource", StringComparison.Ordinal);

    private async Task<Workload> ReadWorkloadAsync(IResource resource, CancellationToken cancellationToken)
    {
        var settings = resource.Annotations.OfType<DeploymentAnnotation>().LastOrDefault() ?? new DeploymentAnnotation();
        var isProject = resource is ProjectResource;
        var environment = await ReadEnvironmentAsync(resource, cancellationToken);
        var args = await ReadArgsAsync(resource, cancellationToken);
        foreach (var variable in settings.ProductionSettings.Keys)
        {
            if (environment.FirstOrDefault(e => e.Name == variable)?.Value.Parts is not [SettingPart])
            {
                throw new DeploymentModelException(
                    $"'{resource.Name}': InProduction(\"{variable}\") needs {variable} to hold one non-secret parameter and nothing else "
                    + "(the setting production overrides).");
            }
        }
        foreach (var contribution in settings.Contributions)
        {
            await contribution.ReadAsync(new DeploymentReadContext(resource, DeployedAsync), cancellationToken);
        }
        return new Workload(
            resource.Name,
            Kind(resource),
            Image(resource, settings),
            (resource as ContainerResource)?.Entrypoint is { } entrypoint ? [entrypoint] : null,
            args,
            environment,
            Ports(resource),
            Volumes(resource),
            await FilesAsync(resource, cancellationToken),
            Dependencies(resource),
            settings,
            isProject);
    }

    /// <summary>A connection string as deployed, for a contribution (which reads what it needs from it).</summary>
    private async Task<DeployedConnection> DeployedAsync(IResourceWithConnectionString resource, string where, CancellationToken cancellationToken)
    {
        var value = await ResourceAsync(resource, where, cancellationToken);
        var part = value.WholeResource!;
        var target = value.Connections.FirstOrDefault();
        return new DeployedConnection(value.LiteralText, part.Group, target is null ? null : new ServiceAddress(target.Target, target.Port), part.WhenExternal);
    }

    private WorkloadKind Kind(IResource resource)
    {
        var settings = resource.Annotations.OfType<DeploymentAnnotation>().LastOrDefault();
        if (settings?.Schedule is not null)
        {
            return WorkloadKind.ScheduledJob;
        }
        if (settings?.RunsToCompletion == true)
        {
            return WorkloadKind.Job;
        }
        var awaitedToComplete = model.Resources.Any(r => r.Annotations.OfType<WaitAnnotation>()
            .Any(w => w.WaitType == WaitType.WaitForCompletion && w.Resource == resource));
        if (awaitedToComplete || IsSetupOfValue(resource))
        {
            return WorkloadKind.Job;
        }
        return resource.Annotations.OfType<ContainerMountAnnotation>().Any(m => m.Type == ContainerMountType.Volume)
            ? WorkloadKind.StatefulService
            : WorkloadKind.Service;
    }

    private string Image(IResource resource, DeploymentAnnotation settings)
    {
        if (resource is ProjectResource)
        {
            return $"{options.ImageRegistry.TrimEnd('/')}/{settings.ImageRepository ?? resource.Name}:{options.ImageTag}";
        }
        if (!resource.TryGetLastAnnotation<ContainerImageAnnotation>(out var image) || string.IsNullOrEmpty(image.Image))
        {
            throw new DeploymentModelException($"Container '{resource.Name}' has no image.");
        }
        if (image.SHA256 is { Length: > 0 } digest)
        {
            return $"{Registry(image)}{image.Image}@sha256:{digest}";
        }
        if (string.IsNullOrEmpty(image.Tag) || image.Tag == "latest")
        {
            throw new DeploymentModelException($"Container '{resource.Name}' has no pinned tag ({image.Image}:{image.Tag ?? "latest"}): pin it with WithImageTag.");
        }
        return $"{Registry(image)}{image.Image}:{image.Tag}";

        static string Registry(ContainerImageAnnotation image) => image.Registry is { Length: > 0 } r ? r + "/" : "";
    }

    /// <summary>A container parented to a database or namespace sets it up (creates it): it runs once, like a job.</summary>
    private static bool IsSetupOfValue(IResource resource) =>
        resource.TryGetAnnotationsOfType<ResourceRelationshipAnnotation>(out var relations)
        && relations.Any(a => a.Type == "Parent" && !IsWorkload(a.Resource));

    private static List<Port> Ports(IResource resource) =>
        [.. resource.Annotations.OfType<EndpointAnnotation>()
            // TLS ends at the ingress: inside the system a project serves plain HTTP on one port.
            .Where(e => !(resource is ProjectResource && e.UriScheme == "https"))
            .Select(e => new Port(
                e.Name,
                e.TargetPort ?? (resource is ProjectResource ? ProjectHttpPort
                    : throw new DeploymentModelException($"Endpoint '{e.Name}' of '{resource.Name}' has no target port.")),
                e.Transport == "http2" ? "grpc" : e.UriScheme is "http" or "https" ? "http" : "tcp",
                e.IsExternal))];

    private static List<VolumeMount> Volumes(IResource resource)
    {
        List<VolumeMount> volumes = [];
        foreach (var mount in resource.Annotations.OfType<ContainerMountAnnotation>())
        {
            if (mount.Type != ContainerMountType.Volume || string.IsNullOrEmpty(mount.Source))
            {
                throw new DeploymentModelException(
                    $"'{resource.Name}' bind-mounts '{mount.Source}' at '{mount.Target}': a deployment cannot carry a file of this machine. "
                    + "Use a named volume (WithDataVolume) or write the file into the container (WithContainerFiles).");
            }
            volumes.Add(new VolumeMount(VolumeName(resource, mount.Source), mount.Target));
        }
        return volumes;
    }

    /// <summary>
    /// Aspire names a volume after the AppHost's folder and a hash of its path (<c>apphost-1a2b3c-postgres-data</c>),
    /// which would differ on every machine: deployed, it is named from the resource on.
    /// </summary>
    private static string VolumeName(IResource resource, string source)
    {
        var at = source.IndexOf($"-{resource.Name}-", StringComparison.Ordinal);
        return at >= 0 ? source[(at + 1)..] : source;
    }

    private async Task<List<FileMount>> FilesAsync(IResource resource, CancellationToken cancellationToken)
    {
        List<FileMount> files = [];
        foreach (var annotation in resource.Annotations.OfType<ContainerFileSystemCallbackAnnotation>())
        {
            var context = new ContainerFileSystemCallbackContext { Services = publish.Services, Model = resource };
            foreach (var item in await annotation.Callback(context, cancellationToken))
            {
                if (item is not ContainerFile { Contents: { } contents } file)
                {
                    throw new DeploymentModelException(
                        $"'{resource.Name}' writes '{item.Name}' into {annotation.DestinationPath} from a file or directory of this machine: "
                        + "only files with inline contents translate to a deployment.");
                }
                files.Add(new FileMount(annotation.DestinationPath, file.Name, contents));
            }
        }
        return files;
    }

    private List<Dependency> Dependencies(IResource resource)
    {
        List<Dependency> dependencies = [];
        foreach (var wait in resource.Annotations.OfType<WaitAnnotation>())
        {
            if (wait.WaitType == WaitType.WaitForCompletion)
            {
                dependencies.Add(new Dependency(wait.Resource.Name, Completion: true));
                continue;
            }
            var owner = OwningWorkload(wait.Resource);
            dependencies.Add(new Dependency(owner.Name, Completion: false));
            if (owner != wait.Resource)
            {
                // Waiting on a database or a namespace: on the server that holds it, and on the jobs that create it.
                dependencies.AddRange(model.Resources
                    .Where(r => r != resource && IsWorkload(r) && IsSetupOfValue(r)
                        && r.TryGetAnnotationsOfType<ResourceRelationshipAnnotation>(out var relations)
                        && relations.Any(a => a.Type == "Parent" && a.Resource == wait.Resource))
                    .Select(job => new Dependency(job.Name, Completion: true)));
            }
        }
        return [.. dependencies.Distinct()];
    }

    private static IResource OwningWorkload(IResource resource) =>
        IsWorkload(resource) ? resource
        : resource is IResourceWithParent { Parent: var parent } ? OwningWorkload(parent)
        : throw new DeploymentModelException($"'{resource.Name}' is waited for, but no container or project runs it.");

    private async Task<List<EnvironmentVariable>> ReadEnvironmentAsync(IResource resource, CancellationToken cancellationToken)
    {
        Dictionary<string, object> raw = [];
        if (resource.TryGetEnvironmentVariables(out var callbacks))
        {
            var context = new EnvironmentCallbackContext(publish, resource, raw, cancellationToken);
            foreach (var callback in callbacks)
            {
                await callback.Callback(context);
            }
        }
        var settings = resource.Annotations.OfType<DeploymentAnnotation>().LastOrDefault();
        foreach (var (name, value) in settings?.Environment ?? [])
        {
            raw[name] = value;
        }
        List<EnvironmentVariable> environment = [];
        foreach (var (name, value) in raw)
        {
            environment.Add(new EnvironmentVariable(name, await ResolveAsync(value, $"{resource.Name}: {name}", cancellationToken)));
        }
        return environment;
    }

    private async Task<List<Value>> ReadArgsAsync(IResource resource, CancellationToken cancellationToken)
    {
        List<object> raw = [];
        if (resource.TryGetAnnotationsOfType<CommandLineArgsCallbackAnnotation>(out var callbacks))
        {
            var context = new CommandLineArgsCallbackContext(raw, resource, cancellationToken) { ExecutionContext = publish };
            foreach (var callback in callbacks)
            {
                await callback.Callback(context);
            }
        }
        List<Value> args = [];
        foreach (var arg in raw)
        {
            args.Add(await ResolveAsync(arg, $"{resource.Name}: argument", cancellationToken));
        }
        return args;
    }

    /// <summary>Resolves a value of the model: the walk over Aspire's value providers that the deployment outputs share.</summary>
    private async Task<Value> ResolveAsync(object value, string where, CancellationToken cancellationToken)
    {
        switch (value)
        {
            case string text:
                return Value.Of(text);
            case IResourceBuilder<IResource> builder:
                return await ResolveAsync(builder.Resource, where, cancellationToken);
            case ParameterResource { Secret: true } parameter:
                return new Value([new SecretPart(Secret(parameter))]);
            case ParameterResource parameter:
                return new Value([new SettingPart(parameter.Name, await parameter.GetValueAsync(cancellationToken)
                    ?? throw new DeploymentModelException($"{where}: parameter '{parameter.Name}' has no value."))]);
            case ConnectionStringReference reference:
                return await ResourceAsync(reference.Resource, where, cancellationToken);
            case IResourceWithConnectionString resource:
                return await ResourceAsync(resource, where, cancellationToken);
            case EndpointReference endpoint:
                return Endpoint(endpoint, EndpointProperty.Url);
            case EndpointReferenceExpression expression:
                return Endpoint(expression.Endpoint, expression.Property);
            case ReferenceExpression { IsConditional: true } conditional:
                var condition = (await ResolveAsync(conditional.Condition!, where, cancellationToken)).LiteralText
                    ?? throw new DeploymentModelException($"{where}: a condition depends on a secret.");
                return await ResolveAsync(
                    string.Equals(condition, conditional.MatchValue, StringComparison.OrdinalIgnoreCase) ? conditional.WhenTrue! : conditional.WhenFalse!,
                    where, cancellationToken);
            case ReferenceExpression expression:
                return await ExpressionAsync(expression, where, cancellationToken);
            case int or long or bool:
                return Value.Of(Convert.ToString(value, CultureInfo.InvariantCulture)!.ToLowerInvariant());
            default:
                throw new DeploymentModelException($"{where}: a value of type {value.GetType().Name} does not translate to a deployment.");
        }
    }

    private async Task<Value> ResourceAsync(IResourceWithConnectionString resource, string where, CancellationToken cancellationToken)
    {
        var group = GroupOf(resource);
        return new Value([new ResourcePart(resource.Name, group?.Group, group?.ExternalConnection ?? ExternalOf(resource),
            await ResolveAsync(resource.ConnectionStringExpression, where, cancellationToken))]);
    }

    /// <summary>A child (a database, a namespace) belongs to its server's group; its own annotation may say how it is reached when external.</summary>
    private static DeploymentAnnotation? GroupOf(IResource resource) =>
        resource.Annotations.OfType<DeploymentAnnotation>().LastOrDefault() is { Group: not null } own ? own
        : resource is IResourceWithParent { Parent: var parent } ? GroupOf(parent)
        : null;

    private static ExternalConnection? ExternalOf(IResource resource) =>
        resource.Annotations.OfType<DeploymentAnnotation>().LastOrDefault()?.ExternalConnection;

    private static Value Endpoint(EndpointReference endpoint, EndpointProperty property)
    {
        var target = endpoint.Resource;
        var annotation = target.Annotations.OfType<EndpointAnnotation>().FirstOrDefault(e => e.Name == endpoint.EndpointName)
            ?? throw new DeploymentModelException($"'{target.Name}' has no endpoint '{endpoint.EndpointName}'.");
        var port = annotation.TargetPort ?? (target is ProjectResource ? ProjectHttpPort
            : throw new DeploymentModelException($"Endpoint '{annotation.Name}' of '{target.Name}' has no target port."));
        var scheme = target is ProjectResource && annotation.UriScheme == "https" ? "http" : annotation.UriScheme;
        var connection = new Connection(target.Name, port);
        var text = property switch
        {
            EndpointProperty.Host or EndpointProperty.IPV4Host => target.Name,
            EndpointProperty.Port or EndpointProperty.TargetPort => port.ToString(CultureInfo.InvariantCulture),
            EndpointProperty.HostAndPort => $"{target.Name}:{port}",
            EndpointProperty.Url => $"{scheme}://{target.Name}:{port}",
            EndpointProperty.Scheme => scheme,
            EndpointProperty.TlsEnabled => "false",
            _ => throw new DeploymentModelException($"Endpoint property {property} of '{target.Name}' does not translate to a deployment."),
        };
        return new Value([new LiteralPart(text, property == EndpointProperty.Scheme ? null : connection)]);
    }

    private async Task<Value> ExpressionAsync(ReferenceExpression expression, string where, CancellationToken cancellationToken)
    {
        List<ValuePart> parts = [];
        var at = 0;
        foreach (Match hole in FormatHole().Matches(expression.Format))
        {
            parts.Add(new LiteralPart(Unescape(expression.Format[at..hole.Index])));
            var index = int.Parse(hole.Groups[1].Value, CultureInfo.InvariantCulture);
            parts.AddRange((await ResolveAsync(expression.ValueProviders[index], where, cancellationToken)).Parts);
            at = hole.Index + hole.Length;
        }
        parts.Add(new LiteralPart(Unescape(expression.Format[at..])));
        return new Value([.. parts.Where(p => p is not LiteralPart { Text: "" })]);
    }

    private static string Unescape(string format) => format.Replace("{{", "{", StringComparison.Ordinal).Replace("}}", "}", StringComparison.Ordinal);

    private SecretInput Secret(ParameterResource parameter)
    {
        if (!secrets.TryGetValue(parameter.Name, out var secret))
        {
            secrets[parameter.Name] = secret = new SecretInput(parameter.Name);
        }
        return secret;
    }

    // {0} or {0:format}, not {{ (an escaped brace).
    [GeneratedRegex(@"(?<!\{)\{(\d+)(?::[^}]*)?\}")]
    private static partial Regex FormatHole();
}

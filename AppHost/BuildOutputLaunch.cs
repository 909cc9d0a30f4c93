using System.Reflection;
using Aspire.Hosting.ApplicationModel;
using Microsoft.Extensions.Configuration;

namespace AppHost;

/// <summary>
/// Starts a project resource from the assembly the AppHost build produced (<c>dotnet Worker.dll</c>) instead of
/// Aspire's default <c>dotnet run --project … --no-build</c>. The default re-evaluates the project with MSBuild on
/// every start and every restart from the dashboard: about 1.5 s each time on the build machine
/// (see <c>bench/apphost-start.sh</c>).
/// </summary>
/// <remarks>
/// The assembly paths come from the AppHost build itself (the <c>EmbedProjectResourceAssemblyPaths</c> target in
/// AppHost.csproj asks each referenced project for its target path), so they follow the configuration and any
/// output-path customisation. Aspire's default stays in place where it is the better choice: publish mode (the
/// project becomes an image), an IDE debug session (the IDE launches the project itself), <c>dotnet watch</c>, and
/// when the assembly is missing.
/// </remarks>
internal static class BuildOutputLaunch
{
    private const string MetadataPrefix = "projectresourceassembly:";

    public static IResourceBuilder<ProjectResource> RunFromBuildOutput(this IResourceBuilder<ProjectResource> project)
    {
        ArgumentNullException.ThrowIfNull(project);
        var builder = project.ApplicationBuilder;
        if (!builder.ExecutionContext.IsRunMode || LaunchedByIdeOrWatch(builder.Configuration))
        {
            return project;
        }
        var projectPath = project.Resource.GetProjectMetadata().ProjectPath;
        if (BuiltAssemblyOf(projectPath) is not { } assembly)
        {
            return project;
        }
        return project
            .WithAnnotation(new ExecutableAnnotation { Command = "dotnet", WorkingDirectory = Path.GetDirectoryName(projectPath)! },
                ResourceAnnotationMutationBehavior.Replace)
            // Inserted, not added: the assembly precedes the program's own arguments whatever order WithArgs calls run in.
            .WithArgs(context => context.Args.Insert(0, assembly));
    }

    /// <summary>The path the AppHost build recorded for the project, when that file exists.</summary>
    public static string? BuiltAssemblyOf(string projectPath)
    {
        var path = typeof(BuildOutputLaunch).Assembly.GetCustomAttributes<AssemblyMetadataAttribute>()
            .FirstOrDefault(a => string.Equals(a.Key, MetadataPrefix + Path.GetFullPath(projectPath), StringComparison.Ordinal))?.Value;
        return path is not null && File.Exists(path) ? path : null;
    }

    private static bool LaunchedByIdeOrWatch(ConfigurationManager configuration) =>
        !string.IsNullOrEmpty(configuration["DEBUG_SESSION_PORT"])
        || string.Equals(configuration["DOTNET_WATCH"], "1", StringComparison.Ordinal)
        || string.Equals(configuration["DOTNET_WATCH"], "true", StringComparison.OrdinalIgnoreCase);
}

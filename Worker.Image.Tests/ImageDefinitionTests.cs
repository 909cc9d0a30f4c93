namespace Worker.Image.Tests;

/// <summary>
/// Worker.csproj (PublishContainer) and Worker/Dockerfile describe one image: base, user, port, environment,
/// working directory, entry point. The SDK has no health check setting (an OCI image config has none; Docker's
/// format has HEALTHCHECK), so the csproj states it in a comment and the deployment artifacts carry it; the
/// Dockerfile's must be the worker's own probe: the entry point plus HealthCheckCommand's flag.
/// </summary>
public sealed class ImageDefinitionTests
{
    private static readonly Dockerfile File = Dockerfile.Load(Repository.PathOf("Worker/Dockerfile"));

    [Fact]
    public async Task Dockerfile_and_csproj_describe_the_same_image()
    {
        var project = await ProjectContainerConfig.ReadAsync(Repository.PathOf("Worker/Worker.csproj"));

        // Literal, as Dependabot reads FROM lines (no ARG): its update of the Dockerfile fails here until the csproj follows.
        Assert.Equal(project.BaseImage, File.FinalStage[0].Arguments);
        Assert.DoesNotContain(File.Instructions, i => i.Keyword == "FROM" && i.Arguments.Contains('$', StringComparison.Ordinal));
        Assert.Equal(project.BaseImage, File.FinalBaseImage);
        Assert.Equal(project.User, File.Only("USER"));
        Assert.Equal(project.Ports, File.FinalStage.Where(i => i.Keyword == "EXPOSE")
            .SelectMany(i => i.Arguments.Split(' ')).Select(p => p.Contains('/', StringComparison.Ordinal) ? p : p + "/tcp"));
        Assert.Equal(project.Environment.OrderBy(e => e.Key), File.Environment.OrderBy(e => e.Key));
        Assert.Equal(project.WorkingDirectory.TrimEnd('/'), File.Only("WORKDIR").TrimEnd('/'));
        Assert.Equal(project.Entrypoint, File.Entrypoint);
        Assert.Null(File.FinalStage.FirstOrDefault(i => i.Keyword == "CMD"));
    }

    [Fact]
    public void Dockerfile_health_check_is_the_worker_probing_itself()
    {
        var (options, command) = File.HealthCheck;
        Assert.Equal([.. File.Entrypoint!, HealthCheckCommand.Flag], command);
        Assert.Equal(["interval", "retries", "start-period", "timeout"], options.Keys.Order());
    }

    [Fact]
    public void Build_image_is_the_SDK_of_the_runtime_base()
    {
        // mcr.microsoft.com/dotnet/aspnet:10.0.12-noble-chiseled => mcr.microsoft.com/dotnet/sdk:10.0.NNN-noble
        var runtime = File.FinalBaseImage;
        var build = File.BaseImageOf("build");
        var (runtimeVersion, runtimeDistro) = SplitTag(runtime);
        var (sdkVersion, sdkDistro) = SplitTag(build);
        Assert.StartsWith("mcr.microsoft.com/dotnet/sdk:", build, StringComparison.Ordinal);
        Assert.Equal(runtimeVersion.Major, sdkVersion.Major);
        Assert.Equal(runtimeVersion.Minor, sdkVersion.Minor);
        Assert.Equal(runtimeDistro.Replace("-chiseled", "", StringComparison.Ordinal), sdkDistro);
    }

    [Fact]
    public async Task Dockerfile_passes_the_linter()
    {
        var (exitCode, output) = await ProcessRunner.RunAsync(
            Validators.DockerfileLint, ["lint", Repository.PathOf("Worker/Dockerfile")], TimeSpan.FromMinutes(1));
        Assert.True(exitCode == 0 && output.Length == 0, output);
    }

    [Fact]
    public async Task Built_images_have_the_same_configuration()
    {
        var sdkImage = await InspectAsync(ContainerImages.WorkerBySdk);
        var dockerfileImage = await InspectAsync(ContainerImages.WorkerByDockerfile);
        var (sdk, dockerfile) = (sdkImage.GetProperty("Config"), dockerfileImage.GetProperty("Config"));
        foreach (var field in new[] { "User", "ExposedPorts", "Entrypoint", "Cmd" })
        {
            Assert.Equal(Text(sdk, field), Text(dockerfile, field));
        }
        Assert.Equal(Text(sdk, "WorkingDir").TrimEnd('/', '"'), Text(dockerfile, "WorkingDir").TrimEnd('/', '"'));
        Assert.Equal(Strings(sdk, "Env").Order(), Strings(dockerfile, "Env").Order());
        Assert.Equal(["CMD", .. File.Entrypoint!, HealthCheckCommand.Flag], Strings(dockerfileImage.GetProperty("Healthcheck"), "Test"));
        // The one difference: PublishContainer writes no health check (the SDK has no setting for it).
        Assert.False(sdkImage.TryGetProperty("Healthcheck", out var none) && none.ValueKind != JsonValueKind.Null,
            "The SDK's image now has a health check: compare it with the Dockerfile's.");
    }

    private static async Task<JsonElement> InspectAsync(string image)
    {
        var result = (await ProcessRunner.RunAsync(ContainerImages.Podman, ["image", "inspect", image], TimeSpan.FromMinutes(1)))
            .EnsureSuccess();
        return JsonDocument.Parse(result.StandardOutput).RootElement[0].Clone();
    }

    private static string Text(JsonElement config, string field) =>
        config.TryGetProperty(field, out var value) ? value.GetRawText() : "null";

    private static string[] Strings(JsonElement config, string field) =>
        config.TryGetProperty(field, out var value) && value.ValueKind == JsonValueKind.Array
            ? [.. value.EnumerateArray().Select(v => v.GetString()!)]
            : [];

    private static (Version Version, string Distro) SplitTag(string image)
    {
        var tag = image[(image.LastIndexOf(':') + 1)..].Split('-', 2);
        return (Version.Parse(tag[0]), tag.Length > 1 ? tag[1] : "");
    }
}

namespace Worker.Tests.Hosting;

/// <summary>
/// The image is built by the SDK (dotnet publish -t:PublishContainer), which cannot pull a base image on
/// machines without registry access; what it would build is checked through the SDK's own computation.
/// </summary>
public sealed class ContainerImageConfigurationTests
{
    [Fact]
    public async Task Image_is_chiseled_pinned_non_root_on_port_8080()
    {
        var config = await ComputeContainerConfigAsync();
        var properties = config.GetProperty("Properties");
        var items = config.GetProperty("Items");

        var baseImage = properties.GetProperty("ContainerBaseImage").GetString()!;
        Assert.Matches(@"^mcr\.microsoft\.com/dotnet/aspnet:\d+\.\d+\.\d+-[a-z]+-chiseled$", baseImage);
        Assert.Equal("1654", properties.GetProperty("ContainerUser").GetString());
        Assert.Equal("8080", Assert.Single(items.GetProperty("ContainerPort").EnumerateArray()).GetProperty("Identity").GetString());
        Assert.Contains(items.GetProperty("ContainerEnvironmentVariables").EnumerateArray(),
            e => e.GetProperty("Identity").GetString() == "ASPNETCORE_HTTP_PORTS" && e.GetProperty("Value").GetString() == "8080");
        var command = items.GetProperty("ContainerAppCommand").EnumerateArray().Select(e => e.GetProperty("Identity").GetString()).ToList();
        Assert.Equal(["dotnet", "/app/Worker.dll"], command);
    }

    private static async Task<JsonElement> ComputeContainerConfigAsync()
    {
        var result = await ProcessRunner.RunAsync("dotnet",
        [
            // An image is of one platform: with several RuntimeIdentifiers (the locked restore's) and none chosen, the
            // SDK leaves parts of the configuration (the app command) to each platform's inner build.
            "msbuild", Repository.PathOf("Worker", "Worker.csproj"), "-t:ComputeContainerConfig", "-nologo", "-p:RuntimeIdentifier=linux-x64",
            "-getProperty:ContainerBaseImage", "-getProperty:ContainerUser", "-getItem:ContainerPort",
            "-getItem:ContainerEnvironmentVariables", "-getItem:ContainerAppCommand",
        ], TimeSpan.FromMinutes(5));
        Assert.True(result.ExitCode == 0, $"msbuild failed: {result.Output}");
        return JsonDocument.Parse(result.StandardOutput).RootElement.Clone();
    }
}

namespace Worker.Image.Tests;

/// <summary>
/// Worker.csproj's container settings as the SDK computes them for PublishContainer: MSBuild runs the SDK's
/// ComputeContainerConfig target and prints the resulting properties and items
/// (<c>dotnet msbuild -t:ComputeContainerConfig -getProperty:... -getItem:...</c>).
/// </summary>
public sealed record ProjectContainerConfig(
    string BaseImage,
    string User,
    string WorkingDirectory,
    IReadOnlyList<string> Ports,
    IReadOnlyDictionary<string, string> Environment,
    IReadOnlyList<string> Entrypoint)
{
    public static async Task<ProjectContainerConfig> ReadAsync(string project)
    {
        var result = (await ProcessRunner.RunAsync("dotnet",
        [
            // An image is of one platform: with several RuntimeIdentifiers and none chosen, the SDK leaves parts of the
            // configuration (the working directory) to each platform's inner build.
            "msbuild", project, "-nologo", "-t:ComputeContainerConfig", "-p:Configuration=Release", "-p:RuntimeIdentifier=linux-x64",
            "-getProperty:ContainerBaseImage", "-getProperty:ContainerUser", "-getProperty:ContainerWorkingDirectory",
            "-getProperty:ContainerAppCommandInstruction",
            "-getItem:ContainerPort", "-getItem:ContainerEnvironmentVariable",
            "-getItem:ContainerAppCommand", "-getItem:ContainerAppCommandArgs",
            "-getItem:ContainerEntrypoint", "-getItem:ContainerEntrypointArgs",
        ], TimeSpan.FromMinutes(3))).EnsureSuccess();
        using var json = JsonDocument.Parse(result.StandardOutput);
        var properties = json.RootElement.GetProperty("Properties");
        var items = json.RootElement.GetProperty("Items");
        string Property(string name) => properties.GetProperty(name).GetString() ?? "";
        IEnumerable<JsonElement> Items(string name) =>
            items.TryGetProperty(name, out var list) ? list.EnumerateArray() : Enumerable.Empty<JsonElement>();
        string Identity(JsonElement item) => item.GetProperty("Identity").GetString()!;

        // Entrypoint is the SDK's default instruction for the app command; DefaultArgs would put it in CMD.
        var instruction = Property("ContainerAppCommandInstruction");
        if (instruction is not ("" or "Entrypoint"))
        {
            throw new NotSupportedException($"ContainerAppCommandInstruction {instruction}: compare its CMD too.");
        }
        return new ProjectContainerConfig(
            Property("ContainerBaseImage"),
            Property("ContainerUser"),
            Property("ContainerWorkingDirectory"),
            Items("ContainerPort").Select(p => $"{Identity(p)}/{(p.TryGetProperty("Type", out var t) ? t.GetString() : "tcp")}").ToList(),
            Items("ContainerEnvironmentVariable").ToDictionary(Identity, e => e.GetProperty("Value").GetString() ?? ""),
            [.. Items("ContainerEntrypoint").Select(Identity), .. Items("ContainerEntrypointArgs").Select(Identity),
             .. Items("ContainerAppCommand").Select(Identity), .. Items("ContainerAppCommandArgs").Select(Identity)]);
    }
}

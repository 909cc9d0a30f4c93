namespace TestSupport;

/// <summary>
/// The worker images the test command (test.sh, through scripts/container-images.sh) builds both ways, and the
/// podman that runs them. Like <see cref="TestSettings"/>, a missing one fails the test and says how to get it.
/// </summary>
public static class ContainerImages
{
    private const string HowToGetIt =
        "Run the tests through ./test.sh, which builds the images and sets it, or first run "
        + "`source scripts/container-images.sh && build_test_images` in the shell that runs them.";

    /// <summary>podman with runc, this machine's containers.conf and the cached storage (<c>PODMAN</c>, a wrapper script).</summary>
    public static string Podman
    {
        get
        {
            var path = TestSettings.Required("PODMAN", HowToGetIt);
            return File.Exists(path)
                ? path
                : throw new InvalidOperationException($"PODMAN is {path}, which does not exist (a removed cache?). {HowToGetIt}");
        }
    }

    /// <summary>The image <c>dotnet publish -t:PublishContainer</c> made from Worker.csproj (<c>WORKER_IMAGE_SDK</c>).</summary>
    public static string WorkerBySdk => TestSettings.Required("WORKER_IMAGE_SDK", HowToGetIt);

    /// <summary>The image <c>podman build -f Worker/Dockerfile .</c> made (<c>WORKER_IMAGE_DOCKERFILE</c>).</summary>
    public static string WorkerByDockerfile => TestSettings.Required("WORKER_IMAGE_DOCKERFILE", HowToGetIt);

    /// <summary>The worker image built one way: <c>sdk</c> or <c>dockerfile</c>.</summary>
    public static string Worker(string buildPath) => buildPath switch
    {
        "sdk" => WorkerBySdk,
        "dockerfile" => WorkerByDockerfile,
        _ => throw new ArgumentOutOfRangeException(nameof(buildPath), buildPath, "sdk or dockerfile"),
    };
}

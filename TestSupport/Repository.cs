namespace TestSupport;

/// <summary>The checkout a test or benchmark was built from, found upwards from its output folder.</summary>
public static class Repository
{
    /// <summary>The folder that holds <c>Aspire.sln</c>.</summary>
    public static string Root { get; } = Find();

    /// <summary>A path below <see cref="Root"/>.</summary>
    public static string PathOf(params string[] parts) => Path.Combine([Root, .. parts]);

    private static string Find()
    {
        for (var directory = new DirectoryInfo(AppContext.BaseDirectory); directory is not null; directory = directory.Parent)
        {
            if (File.Exists(Path.Combine(directory.FullName, "Aspire.sln")))
            {
                return directory.FullName;
            }
        }
        throw new InvalidOperationException($"No Aspire.sln above {AppContext.BaseDirectory}.");
    }
}

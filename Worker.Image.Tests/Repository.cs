namespace Worker.Image.Tests;

/// <summary>Paths in the repository the tests run from.</summary>
public static class Repository
{
    /// <summary>The folder holding Aspire.sln, found upwards from the test binaries.</summary>
    public static string Root { get; } = FindRoot();

    public static string PathOf(string relative) => Path.Combine(Root, relative);

    private static string FindRoot()
    {
        for (var dir = new DirectoryInfo(AppContext.BaseDirectory); dir is not null; dir = dir.Parent)
        {
            if (File.Exists(Path.Combine(dir.FullName, "Aspire.sln")))
            {
                return dir.FullName;
            }
        }
        throw new InvalidOperationException($"No Aspire.sln above {AppContext.BaseDirectory}.");
    }
}

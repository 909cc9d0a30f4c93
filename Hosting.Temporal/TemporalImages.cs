namespace Aspire.Hosting.Temporal;

/// <summary>The pinned images of the Temporal stack, in one place (never <c>latest</c>).</summary>
internal static class TemporalImages
{
    public const string Server = "temporalio/server";
    public const string AdminTools = "temporalio/admin-tools";
    public const string Ui = "temporalio/ui";

    /// <summary>Server and admin-tools are released together.</summary>
    public const string ServerTag = "1.31.2";

    public const string UiTag = "2.49.1";

    /// <summary>The images' non-root user ("temporal").</summary>
    public const long User = 1000;
}

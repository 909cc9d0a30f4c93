namespace TestSupport;

/// <summary>How a process that ran to its end ended: exit code and everything it wrote.</summary>
public sealed class ProcessResult
{
    internal ProcessResult(string command, int exitCode, string standardOutput, string standardError)
    {
        Command = command;
        ExitCode = exitCode;
        StandardOutput = standardOutput;
        StandardError = standardError;
    }

    /// <summary>The program and its arguments, as failure messages name them.</summary>
    public string Command { get; }

    /// <summary>The process's exit code.</summary>
    public int ExitCode { get; }

    /// <summary>Standard output, one <c>\n</c>-terminated line per line written.</summary>
    public string StandardOutput { get; }

    /// <summary>Standard error, one <c>\n</c>-terminated line per line written.</summary>
    public string StandardError { get; }

    /// <summary>Standard output, then standard error: what an assertion message should show.</summary>
    public string Output => StandardOutput + StandardError;

    /// <summary>Lets a test write <c>var (exitCode, output) = await ProcessRunner.RunAsync(...)</c>.</summary>
    public void Deconstruct(out int exitCode, out string output)
    {
        exitCode = ExitCode;
        output = Output;
    }

    /// <summary>This result when the exit code is 0; otherwise an exception naming the command and its output.</summary>
    /// <exception cref="InvalidOperationException">The process exited with a code other than 0.</exception>
    public ProcessResult EnsureSuccess() =>
        ExitCode == 0 ? this : throw new InvalidOperationException($"{Command} failed ({ExitCode}): {Output}");
}

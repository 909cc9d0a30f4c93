using System.Diagnostics;
using System.Runtime.InteropServices;
using System.Text;

namespace TestSupport;

/// <summary>
/// A child process of a test or benchmark: started with its arguments, environment and working directory, its
/// standard output and error captured line by line while it runs, waited for with a timeout, stopped with SIGTERM
/// as a container runtime stops it, and killed with everything it started when disposed, so that no test leaves a
/// process behind.
/// </summary>
/// <remarks>Unsealed so that a runner of one program (the worker, say) can add what only that program has.</remarks>
public class ProcessRunner : IDisposable
{
    private const int SigInt = 2;
    private const int SigTerm = 15;

    private readonly Process process;
    private readonly string command;
    private readonly List<string> outputLines = [];
    private readonly List<string> errorLines = [];
    private bool disposed;
    private readonly TaskCompletionSource<string?> firstOutputLine = new(TaskCreationOptions.RunContinuationsAsynchronously);

    /// <summary>Starts <paramref name="program"/>; see <see cref="Start"/>.</summary>
    protected ProcessRunner(
        string program, IEnumerable<string> arguments, IReadOnlyDictionary<string, string?>? environment = null, string? workingDirectory = null)
    {
        ArgumentNullException.ThrowIfNull(arguments);
        var info = new ProcessStartInfo(program)
        {
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            UseShellExecute = false,
            WorkingDirectory = workingDirectory ?? "",
        };
        foreach (var argument in arguments)
        {
            info.ArgumentList.Add(argument);
        }
        foreach (var (key, value) in environment ?? new Dictionary<string, string?>())
        {
            if (value is null)
            {
                info.Environment.Remove(key);
            }
            else
            {
                info.Environment[key] = value;
            }
        }
        command = string.Join(' ', [program, .. info.ArgumentList]);
        process = new Process { StartInfo = info };
        process.OutputDataReceived += (_, e) =>
        {
            Append(outputLines, e.Data);
            // null marks the end of the stream: a process that never wrote a line has no first line.
            firstOutputLine.TrySetResult(e.Data);
        };
        process.ErrorDataReceived += (_, e) => Append(errorLines, e.Data);
        process.Start();
        process.BeginOutputReadLine();
        process.BeginErrorReadLine();
    }

    /// <summary>Whether the process has exited.</summary>
    public bool HasExited => process.HasExited;

    /// <summary>The exit code; only once <see cref="HasExited"/>.</summary>
    public int ExitCode => process.ExitCode;

    /// <summary>Standard output so far, one <c>\n</c>-terminated line per line written.</summary>
    public string StandardOutput => Join(outputLines);

    /// <summary>Standard error so far, one <c>\n</c>-terminated line per line written.</summary>
    public string StandardError => Join(errorLines);

    /// <summary>Starts <paramref name="program"/>.</summary>
    /// <param name="program">A path, or a name looked up on PATH.</param>
    /// <param name="arguments">Passed one by one, never through a shell.</param>
    /// <param name="environment">
    /// Set on top of what this process inherits; a null value removes an inherited variable, so that a test can
    /// show what the program does without it.
    /// </param>
    /// <param name="workingDirectory">This process's working directory when null.</param>
    public static ProcessRunner Start(
        string program, IEnumerable<string> arguments, IReadOnlyDictionary<string, string?>? environment = null, string? workingDirectory = null) =>
        new(program, arguments, environment, workingDirectory);

    /// <summary>Runs <paramref name="program"/> to its end; see <see cref="Start"/> for the parameters.</summary>
    /// <exception cref="TimeoutException">It did not exit within <paramref name="timeout"/> (it is killed then).</exception>
    public static async Task<ProcessResult> RunAsync(
        string program, IEnumerable<string> arguments, TimeSpan timeout,
        IReadOnlyDictionary<string, string?>? environment = null, string? workingDirectory = null)
    {
        using var runner = Start(program, arguments, environment, workingDirectory);
        var exitCode = await runner.WaitForExitAsync(timeout);
        return new ProcessResult(runner.command, exitCode, runner.StandardOutput, runner.StandardError);
    }

    /// <summary>Waits until the process has exited and its output is read to the end; returns its exit code.</summary>
    /// <exception cref="TimeoutException">It did not exit within <paramref name="timeout"/>; the message holds its output.</exception>
    public async Task<int> WaitForExitAsync(TimeSpan timeout)
    {
        using var cancellation = new CancellationTokenSource(timeout);
        try
        {
            await process.WaitForExitAsync(cancellation.Token);
        }
        catch (OperationCanceledException)
        {
            throw new TimeoutException($"{command} did not exit within {timeout}: {StandardOutput}{StandardError}");
        }
        return process.ExitCode;
    }

    /// <summary>
    /// Waits until the standard output contains the text (a line logged just before a state a test saw may still be on
    /// its way through the logger and the pipe); false after the timeout.
    /// </summary>
    public async Task<bool> OutputContainsAsync(string text, TimeSpan timeout)
    {
        var deadline = DateTime.UtcNow + timeout;
        while (!StandardOutput.Contains(text, StringComparison.Ordinal))
        {
            if (DateTime.UtcNow >= deadline)
            {
                return false;
            }
            await Task.Delay(50);
        }
        return true;
    }

    /// <summary>The first line of standard output, or null when the output ended without one.</summary>
    /// <exception cref="TimeoutException">No line and no end of output within <paramref name="timeout"/>.</exception>
    public Task<string?> FirstOutputLineAsync(TimeSpan timeout) => firstOutputLine.Task.WaitAsync(timeout);

    /// <summary>Sends SIGTERM, as Kubernetes and Docker do on stop; the process decides how to end.</summary>
    public void Terminate()
    {
        // The system call rather than the kill program: one less package a fresh machine must have (procps).
        if (!process.HasExited && Kill(process.Id, SigTerm) != 0 && !process.HasExited)
        {
            throw new InvalidOperationException($"SIGTERM to {command} failed: errno {Marshal.GetLastPInvokeError()}");
        }
    }

    /// <summary>
    /// Sends SIGINT to the process's group, as Ctrl+C in a terminal does to the command in the foreground. The
    /// process must lead a group of its own (start it through <c>setsid</c>), so that the test never signals itself.
    /// </summary>
    public void InterruptGroup()
    {
        if (process.HasExited)
        {
            return;
        }
        if (GetProcessGroup(process.Id) != process.Id)
        {
            throw new InvalidOperationException($"{command} does not lead a process group: start it through setsid.");
        }
        if (Kill(-process.Id, SigInt) != 0 && !process.HasExited)
        {
            throw new InvalidOperationException($"SIGINT to the group of {command} failed: errno {Marshal.GetLastPInvokeError()}");
        }
    }

    /// <summary>Kills the process and every process it started, if it is still running.</summary>
    public void Dispose()
    {
        Dispose(disposing: true);
        GC.SuppressFinalize(this);
    }

    /// <summary>Kills the process tree when <paramref name="disposing"/>; a subclass adds its own clean-up.</summary>
    protected virtual void Dispose(bool disposing)
    {
        // Idempotent: a test may dispose a runner that a fixture owning all its processes disposes again.
        if (!disposing || disposed)
        {
            return;
        }
        disposed = true;
        if (!process.HasExited)
        {
            process.Kill(entireProcessTree: true);
            process.WaitForExit();
        }
        process.Dispose();
    }

    private static void Append(List<string> lines, string? line)
    {
        if (line is not null)
        {
            lock (lines)
            {
                lines.Add(line);
            }
        }
    }

    private static string Join(List<string> lines)
    {
        lock (lines)
        {
            var text = new StringBuilder();
            foreach (var line in lines)
            {
                text.Append(line).Append('\n');
            }
            return text.ToString();
        }
    }

    [DllImport("libc", EntryPoint = "kill", SetLastError = true)]
    private static extern int Kill(int pid, int signal);

    [DllImport("libc", EntryPoint = "getpgid", SetLastError = true)]
    private static extern int GetProcessGroup(int pid);
}

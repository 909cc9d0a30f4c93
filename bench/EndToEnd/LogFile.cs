using Microsoft.Extensions.Logging;

namespace Bench;

/// <summary>
/// Where the in-process worker's log goes during a measurement: a file, whose path the run prints, so the terminal
/// shows only progress and the table. One line per entry: time, level, category, message, and the exception's text.
/// </summary>
internal sealed class LogFile : ILoggerProvider
{
    private readonly StreamWriter writer;
    private readonly Lock gate = new();

    private LogFile(string path)
    {
        Path = path;
        writer = new StreamWriter(path, append: false) { AutoFlush = true };
    }

    public string Path { get; }

    /// <summary>A new file under the temporary directory, named after the measurement.</summary>
    public static LogFile Create(string name) =>
        new(System.IO.Path.Combine(System.IO.Path.GetTempPath(), $"bench-{name}-{DateTime.UtcNow:yyyyMMdd'T'HHmmss}-worker.log"));

    public ILogger CreateLogger(string categoryName) => new FileLogger(this, categoryName);

    public void Dispose() => writer.Dispose();

    private void Write(string line)
    {
        lock (gate)
        {
            writer.WriteLine(line);
        }
    }

    private sealed class FileLogger(LogFile file, string category) : ILogger
    {
        public IDisposable? BeginScope<TState>(TState state) where TState : notnull => null;

        public bool IsEnabled(LogLevel logLevel) => logLevel != LogLevel.None;

        public void Log<TState>(LogLevel logLevel, EventId eventId, TState state, Exception? exception, Func<TState, Exception?, string> formatter) =>
            file.Write($"{DateTime.UtcNow:O} {logLevel} {category}: {formatter(state, exception)}{(exception is null ? "" : $" {exception}")}");
    }
}

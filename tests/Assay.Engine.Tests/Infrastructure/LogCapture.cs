using System.Collections.Concurrent;
using Microsoft.Extensions.Logging;

namespace Assay.Engine.Tests.Infrastructure;

/// <summary>Collects what an in-process engine logs (EngineOptions.ConfigureLogging), to assert that a loop stayed quiet.</summary>
public sealed class LogCapture : ILoggerProvider
{
    public ConcurrentQueue<(LogLevel Level, string Category, string Message)> Entries { get; } = new();

    public void Attach(ILoggingBuilder logging) => logging.AddProvider(this);

    public IEnumerable<string> AtLeast(LogLevel level) => Entries.Where(e => e.Level >= level).Select(e => $"{e.Category}: {e.Message}");

    public ILogger CreateLogger(string categoryName) => new Logger(this, categoryName);

    public void Dispose() { }

    sealed class Logger(LogCapture owner, string category) : ILogger
    {
        public IDisposable? BeginScope<TState>(TState state) where TState : notnull => null;
        public bool IsEnabled(LogLevel logLevel) => true;

        public void Log<TState>(LogLevel logLevel, EventId eventId, TState state, Exception? exception, Func<TState, Exception?, string> formatter) =>
            owner.Entries.Enqueue((logLevel, category, formatter(state, exception) + (exception is null ? "" : " | " + exception.GetType().Name + ": " + exception.Message)));
    }
}

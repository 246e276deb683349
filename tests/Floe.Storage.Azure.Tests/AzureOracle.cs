using System.Text.Json;
using Floe.Tests.Shared;

namespace Floe.Storage.Azure.Tests;

/// <summary>Microsoft's azure-storage-blob for Python (azure_oracle.py): a Blob client not written here.</summary>
internal static class AzureOracle
{
    private static readonly Lazy<string> Script = new(() => File.ReadAllText(Path.Combine(AppContext.BaseDirectory, "azure_oracle.py")));

    public static string Run(string connectionString, params string[] arguments) =>
        OraclePython.Run(Script.Value, [connectionString, .. arguments]).Trim();

    public static JsonElement RunJson(string connectionString, params string[] arguments)
    {
        using var document = JsonDocument.Parse(Run(connectionString, arguments));
        return document.RootElement.Clone();
    }
}

/// <summary>Log lines an <see cref="Microsoft.Extensions.Logging.ILogger"/> was given, for tests that check what is logged.</summary>
internal sealed class ListLogger : Microsoft.Extensions.Logging.ILogger
{
    private readonly List<string> _lines = [];

    public IReadOnlyList<string> Lines
    {
        get
        {
            lock (_lines)
            {
                return [.. _lines];
            }
        }
    }

    public IDisposable? BeginScope<TState>(TState state)
        where TState : notnull => null;

    public bool IsEnabled(Microsoft.Extensions.Logging.LogLevel logLevel) => true;

    public void Log<TState>(Microsoft.Extensions.Logging.LogLevel logLevel, Microsoft.Extensions.Logging.EventId eventId, TState state, Exception? exception,
        Func<TState, Exception?, string> formatter)
    {
        lock (_lines)
        {
            _lines.Add($"{logLevel}: {formatter(state, exception)}");
        }
    }
}

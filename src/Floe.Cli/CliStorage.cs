using Floe.Storage;
using Floe.Storage.Azure;
using Floe.Store;
using Microsoft.Extensions.Logging;

namespace Floe.Cli;

/// <summary>
/// The store --repo names (a directory or an Azure Blob container, az://CONTAINER/PREFIX, with
/// $AZURE_STORAGE_CONNECTION_STRING) and the sources chunk references are read from (local files, HTTP, and Azure
/// blobs with the credentials of $FLOE_SOURCE_CREDENTIALS). Retries of Azure calls are logged to stderr.
/// </summary>
internal static class CliStorage
{
    private static readonly Lazy<ILoggerFactory> Logs = new(() => LoggerFactory.Create(b => b
        .AddConsole(o => o.LogToStandardErrorThreshold = LogLevel.Trace)
        .AddSimpleConsole(o => o.SingleLine = true)
        .SetMinimumLevel(LogLevel.Warning)));

    private static readonly Lazy<ByteRangeSources> SharedSources = new(() => new AzureBlobSource(
        SourceCredentials.FromEnvironment(),
        Environment.GetEnvironmentVariable(ObjectStoreLocation.ConnectionStringVariable),
        logger: Logs.Value.CreateLogger("Floe.Storage.Azure")).WithDefaults());

    /// <summary>The store of a --repo value.</summary>
    public static IObjectStore OpenStore(string repo) => ObjectStoreLocation.Open(repo, logger: Logs.Value.CreateLogger("Floe.Storage.Azure"));

    /// <summary>The sources repositories opened by the CLI read virtual chunks from.</summary>
    public static ByteRangeSources Sources => SharedSources.Value;

    /// <summary>Repository options with the CLI's sources.</summary>
    public static RepositoryOptions Options(RepositoryOptions? options = null) => (options ?? new RepositoryOptions()) with { Sources = Sources };

    /// <summary>A short name for a --repo value: the last segment of its path or URL.</summary>
    public static string NameOf(string repo) =>
        repo.TrimEnd('/', Path.DirectorySeparatorChar).Split('/', Path.DirectorySeparatorChar).LastOrDefault(s => s.Length > 0 && !s.EndsWith(':')) ?? repo;
}

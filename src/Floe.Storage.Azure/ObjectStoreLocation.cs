using Microsoft.Extensions.Logging;

namespace Floe.Storage.Azure;

/// <summary>
/// Opens the object store a location names: a directory (the embedded filesystem store), <c>az://CONTAINER[/PREFIX]</c>
/// on the account of a connection string, or <c>https://ACCOUNT.blob.core.windows.net/CONTAINER[/PREFIX]</c>.
/// </summary>
public static class ObjectStoreLocation
{
    /// <summary>The environment variable Azure's own tools read the connection string from.</summary>
    public const string ConnectionStringVariable = "AZURE_STORAGE_CONNECTION_STRING";

    /// <summary>True when the location names an Azure Blob container rather than a directory.</summary>
    public static bool IsAzure(string location)
    {
        ArgumentNullException.ThrowIfNull(location);
        return location.StartsWith("az://", StringComparison.OrdinalIgnoreCase)
            || Uri.TryCreate(location, UriKind.Absolute, out var uri) && uri.Scheme is "http" or "https";
    }

    /// <summary>
    /// Opens the store. For Azure, <paramref name="connectionString"/> (or else $AZURE_STORAGE_CONNECTION_STRING)
    /// gives the account and its credentials; an https:// location without one is read anonymously.
    /// </summary>
    public static IObjectStore Open(string location, string? connectionString = null, ILogger? logger = null, AzureRetryOptions? retry = null, HttpClient? http = null)
    {
        ArgumentException.ThrowIfNullOrWhiteSpace(location);
        if (!IsAzure(location))
        {
            return new FileSystemObjectStore(Path.GetFullPath(location.StartsWith("file://", StringComparison.OrdinalIgnoreCase) ? new Uri(location).LocalPath : location));
        }

        connectionString = string.IsNullOrWhiteSpace(connectionString) ? Environment.GetEnvironmentVariable(ConnectionStringVariable) : connectionString;
        var (account, container, prefix) = Resolve(location, connectionString);
        if (prefix.Length > 0 && !ObjectKeys.IsValid(prefix))
        {
            throw new ArgumentException($"{location}: \"{prefix}\" is not a valid key prefix for a store");
        }

        return new AzureBlobObjectStore(new AzureBlobClient(account, http, retry, logger), container, prefix.Length == 0 ? "" : prefix + "/");
    }

    private static (AzureConnectionString Account, string Container, string Prefix) Resolve(string location, string? connectionString)
    {
        string path;
        AzureConnectionString account;
        if (location.StartsWith("az://", StringComparison.OrdinalIgnoreCase))
        {
            if (string.IsNullOrWhiteSpace(connectionString))
            {
                throw new ArgumentException($"{location}: no connection string for the storage account; set {ConnectionStringVariable} (or Floe:StoreConnectionString for the server)");
            }

            account = AzureConnectionString.Parse(connectionString, ConnectionStringVariable);
            path = location["az://".Length..];
        }
        else
        {
            var given = string.IsNullOrWhiteSpace(connectionString) ? null : AzureConnectionString.Parse(connectionString, ConnectionStringVariable);
            (var endpoint, path) = AzureConnectionString.SplitUrl(new Uri(location));
            if (given is not null && given.BlobEndpoint != endpoint)
            {
                throw new ArgumentException($"{location}: the connection string is for {given.BlobEndpoint}, not {endpoint}");
            }

            account = given ?? AzureConnectionString.Anonymous(endpoint);
        }

        path = Uri.UnescapeDataString(path.Trim('/'));
        var slash = path.IndexOf('/', StringComparison.Ordinal);
        var container = slash < 0 ? path : path[..slash];
        if (!AzureBlobClient.IsValidContainerName(container))
        {
            throw new ArgumentException($"{location}: \"{container}\" is not an Azure container name (3-63 characters of a-z 0-9 -, starting with a letter or digit)");
        }

        return (account, container, slash < 0 ? "" : path[(slash + 1)..].Trim('/'));
    }
}

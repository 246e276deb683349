using System.Collections.Concurrent;
using System.Net;
using Microsoft.Extensions.Logging;

namespace Floe.Storage.Azure;

/// <summary>A location prefix and the connection string of the account that serves it (never stored in a repository).</summary>
public sealed record SourceCredential(string Prefix, string ConnectionString);

/// <summary>
/// Reads byte ranges of source files kept as Azure blobs: <c>az://CONTAINER/BLOB</c> (the account is the one whose
/// credential prefix matches) and <c>https://ACCOUNT.blob.core.windows.net/CONTAINER/BLOB</c> (signed with the
/// matching credential, anonymous when none matches). Credentials are configured per location prefix, the longest
/// matching prefix wins; chunk references keep only the location.
/// </summary>
public sealed class AzureBlobSource : IByteRangeSource
{
    private readonly List<(string Prefix, AzureBlobClient Client)> _credentials;
    private readonly AzureBlobClient? _default;
    private readonly HttpClient? _http;
    private readonly AzureRetryOptions? _retry;
    private readonly ILogger? _logger;
    private readonly ConcurrentDictionary<Uri, AzureBlobClient> _anonymous = new();

    /// <param name="credentials">Prefixes (az://CONTAINER/…, https://ACCOUNT.blob.core.windows.net/CONTAINER/…) and their connection strings.</param>
    /// <param name="defaultConnectionString">The account for az:// locations no prefix matches (such as $AZURE_STORAGE_CONNECTION_STRING), or null.</param>
    public AzureBlobSource(IEnumerable<SourceCredential> credentials, string? defaultConnectionString = null, HttpClient? http = null,
        AzureRetryOptions? retry = null, ILogger? logger = null)
    {
        ArgumentNullException.ThrowIfNull(credentials);
        _http = http;
        _retry = retry;
        _logger = logger;
        _credentials = [];
        var index = 0;
        foreach (var credential in credentials)
        {
            var where = $"source credential {index++} ({credential.Prefix})";
            if (string.IsNullOrWhiteSpace(credential.Prefix) || !(credential.Prefix.StartsWith("az://", StringComparison.OrdinalIgnoreCase) || IsHttp(credential.Prefix)))
            {
                throw new ArgumentException($"{where}: the prefix must start with az://, http:// or https://");
            }

            _credentials.Add((credential.Prefix, new AzureBlobClient(AzureConnectionString.Parse(credential.ConnectionString ?? "", where), http, retry, logger)));
        }

        // Longest first, so the most specific prefix wins.
        _credentials.Sort((a, b) => b.Prefix.Length.CompareTo(a.Prefix.Length));
        _default = string.IsNullOrWhiteSpace(defaultConnectionString)
            ? null
            : new AzureBlobClient(AzureConnectionString.Parse(defaultConnectionString, "default Azure connection string"), http, retry, logger);
    }

    /// <summary>The configured prefixes, longest first.</summary>
    public IReadOnlyList<string> Prefixes => [.. _credentials.Select(c => c.Prefix)];

    /// <summary>A registry that tries this source first, then local files and plain HTTP(S).</summary>
    public ByteRangeSources WithDefaults(HttpClient? http = null) => new([this, .. ByteRangeSources.CreateDefault(http ?? _http).Sources]);

    public bool CanRead(string location)
    {
        ArgumentNullException.ThrowIfNull(location);
        return location.StartsWith("az://", StringComparison.OrdinalIgnoreCase)
            || IsHttp(location) && (Uri.TryCreate(location, UriKind.Absolute, out var uri) && uri.Host.EndsWith(".blob.core.windows.net", StringComparison.OrdinalIgnoreCase)
                || _credentials.Any(c => location.StartsWith(c.Prefix, StringComparison.Ordinal)));
    }

    public async ValueTask<SourceInfo> StatAsync(string location, CancellationToken cancellationToken = default)
    {
        var (client, container, blob) = Resolve(location);
        var properties = await Call(location, () => client.GetPropertiesAsync(container, blob, cancellationToken)).ConfigureAwait(false)
            ?? throw new SourceNotFoundException(location);
        return Info(properties, properties.Length);
    }

    public async ValueTask<SourceRead> ReadAsync(string location, long offset, int length, CancellationToken cancellationToken = default)
    {
        ArgumentOutOfRangeException.ThrowIfNegative(offset);
        ArgumentOutOfRangeException.ThrowIfNegative(length);
        var read = await ReadUpToAsync(location, offset, length, cancellationToken).ConfigureAwait(false);
        return read.Data.Length == length
            ? read
            : throw new SourceReadException(location, $"range {offset}+{length} is past the end of the file ({read.Info.Length} bytes)");
    }

    public async ValueTask<SourceRead> ReadUpToAsync(string location, long offset, int maxLength, CancellationToken cancellationToken = default)
    {
        ArgumentOutOfRangeException.ThrowIfNegative(offset);
        ArgumentOutOfRangeException.ThrowIfNegative(maxLength);
        var (client, container, blob) = Resolve(location);
        if (maxLength > 0)
        {
            BlobRead? read;
            try
            {
                read = await Call(location, () => client.GetAsync(container, blob, offset, maxLength, cancellationToken)).ConfigureAwait(false);
            }
            catch (SourceReadException e) when (e.InnerException is AzureBlobException { Status: HttpStatusCode.RequestedRangeNotSatisfiable })
            {
                // At or past the end: the length decides which.
                var properties = await Call(location, () => client.GetPropertiesAsync(container, blob, cancellationToken)).ConfigureAwait(false)
                    ?? throw new SourceNotFoundException(location);
                return offset == properties.Length
                    ? new SourceRead(ReadOnlyMemory<byte>.Empty, Info(properties, properties.Length))
                    : throw new SourceReadException(location, $"offset {offset} is past the end of the file ({properties.Length} bytes)");
            }

            return read is null ? throw new SourceNotFoundException(location) : new SourceRead(read.Data, Info(read.Properties, read.TotalLength));
        }

        var info = await StatAsync(location, cancellationToken).ConfigureAwait(false);
        return offset <= info.Length
            ? new SourceRead(ReadOnlyMemory<byte>.Empty, info)
            : throw new SourceReadException(location, $"offset {offset} is past the end of the file ({info.Length} bytes)");
    }

    /// <summary>The account, container and blob a location names.</summary>
    public (AzureBlobClient Client, string Container, string Blob) Resolve(string location)
    {
        ArgumentNullException.ThrowIfNull(location);
        var match = _credentials.FirstOrDefault(c => location.StartsWith(c.Prefix, StringComparison.Ordinal)).Client;
        string path;
        AzureBlobClient client;
        if (location.StartsWith("az://", StringComparison.OrdinalIgnoreCase))
        {
            client = match ?? _default ?? throw new SourceReadException(location,
                "no credentials for this location: add a source credential whose prefix it starts with (Floe:Sources:Credentials, or the file $FLOE_SOURCE_CREDENTIALS names), or set AZURE_STORAGE_CONNECTION_STRING");
            path = location["az://".Length..];
        }
        else if (match is not null)
        {
            var endpoint = match.Account.BlobEndpoint.ToString();
            if (!location.StartsWith(endpoint, StringComparison.OrdinalIgnoreCase))
            {
                throw new SourceReadException(location, $"the credential for this prefix is for the account at {endpoint}");
            }

            client = match;
            path = location[endpoint.Length..];
        }
        else
        {
            (var endpoint, path) = AzureConnectionString.SplitUrl(new Uri(location));
            client = _anonymous.GetOrAdd(endpoint, e => new AzureBlobClient(AzureConnectionString.Anonymous(e), _http, _retry, _logger));
        }

        path = Uri.UnescapeDataString(path.Split('?', 2)[0]);
        var slash = path.IndexOf('/', StringComparison.Ordinal);
        if (slash <= 0 || slash == path.Length - 1)
        {
            throw new SourceReadException(location, "expected CONTAINER/BLOB after the account");
        }

        return (client, path[..slash], path[(slash + 1)..]);
    }

    private static bool IsHttp(string location) =>
        location.StartsWith("http://", StringComparison.OrdinalIgnoreCase) || location.StartsWith("https://", StringComparison.OrdinalIgnoreCase);

    private static SourceInfo Info(BlobProperties properties, long length) => new(length, properties.ETag, properties.LastModified);

    private static async Task<T> Call<T>(string location, Func<Task<T>> call)
    {
        try
        {
            return await call().ConfigureAwait(false);
        }
        catch (AzureBlobException e)
        {
            throw new SourceReadException(location, e.Message[(e.Resource.Length + 2)..], e);
        }
    }
}

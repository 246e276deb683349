using System.Net;

namespace Floe.Storage.Azure;

/// <summary>
/// An <see cref="IObjectStore"/> on an Azure Blob container (under an optional name prefix): key "a/b" is the block
/// blob "PREFIX/a/b". Put-if-absent is a Put Blob with <c>If-None-Match: *</c>, put-if-match one with
/// <c>If-Match: ETAG</c>; etags are the service's. The container is created on the first write.
/// </summary>
/// <remarks>
/// Conditional writes carry a random write id in the blob's metadata (<c>x-ms-meta-floewrite</c>). When a write was
/// retried after a try whose outcome is unknown (a dropped connection, a timeout, a 500) and the retry finds the
/// condition failed, the blob's write id tells whether the earlier try was this writer's own: then the write
/// succeeded; otherwise another writer's object is there and the write reports the conflict.
/// </remarks>
public sealed class AzureBlobObjectStore : IObjectStore
{
    /// <summary>The metadata name of the write id.</summary>
    public const string WriteIdMetadata = "floewrite";

    private readonly string _prefix;

    /// <param name="client">The account.</param>
    /// <param name="container">A container name (3–63 of a-z 0-9 '-').</param>
    /// <param name="prefix">A key prefix ending in '/' (such as "stores/prod/"), or empty.</param>
    public AzureBlobObjectStore(AzureBlobClient client, string container, string prefix = "")
    {
        Client = client ?? throw new ArgumentNullException(nameof(client));
        ArgumentNullException.ThrowIfNull(container);
        ArgumentNullException.ThrowIfNull(prefix);
        if (!AzureBlobClient.IsValidContainerName(container))
        {
            throw new ArgumentException($"\"{container}\" is not an Azure container name (3-63 characters of a-z 0-9 -, starting with a letter or digit)", nameof(container));
        }

        if (prefix.Length > 0 && (!prefix.EndsWith('/') || !ObjectKeys.IsValid(prefix[..^1])))
        {
            throw new ArgumentException($"Invalid store prefix \"{prefix}\": expected a valid key followed by '/'.", nameof(prefix));
        }

        Container = container;
        _prefix = prefix;
    }

    public AzureBlobClient Client { get; }

    public string Container { get; }

    public string Prefix => _prefix;

    public string Description => $"az://{Container}/{_prefix} ({Client.Account.BlobEndpoint}, {Client.Account.AuthKind})";

    public async ValueTask<StoredObject?> GetAsync(string key, CancellationToken cancellationToken = default)
    {
        ObjectKeys.Validate(key);
        var read = await Client.GetAsync(Container, _prefix + key, cancellationToken: cancellationToken).ConfigureAwait(false);
        return read is null ? null : new StoredObject(read.Data, read.Properties.ETag);
    }

    public async ValueTask<StoredObject?> GetRangeAsync(string key, long offset, int length, CancellationToken cancellationToken = default)
    {
        ObjectKeys.Validate(key);
        ArgumentOutOfRangeException.ThrowIfNegative(offset);
        ArgumentOutOfRangeException.ThrowIfNegative(length);
        if (length == 0)
        {
            var properties = await Client.GetPropertiesAsync(Container, _prefix + key, cancellationToken).ConfigureAwait(false);
            if (properties is null)
            {
                return null;
            }

            return offset <= properties.Length ? new StoredObject(ReadOnlyMemory<byte>.Empty, properties.ETag) : throw PastEnd(key, offset, length, properties.Length);
        }

        BlobRead? read;
        try
        {
            read = await Client.GetAsync(Container, _prefix + key, offset, length, cancellationToken).ConfigureAwait(false);
        }
        catch (AzureBlobException e) when (e.Status == HttpStatusCode.RequestedRangeNotSatisfiable)
        {
            throw PastEnd(key, offset, length, null);
        }

        if (read is null)
        {
            return null;
        }

        return read.Data.Length == length ? new StoredObject(read.Data, read.Properties.ETag) : throw PastEnd(key, offset, length, read.TotalLength);
    }

    public async ValueTask<string> PutAsync(string key, ReadOnlyMemory<byte> data, CancellationToken cancellationToken = default)
    {
        ObjectKeys.Validate(key);
        var write = await Client.PutAsync(Container, _prefix + key, data, BlobCondition.None, cancellationToken: cancellationToken).ConfigureAwait(false);
        return write.ETag!;
    }

    public ValueTask<string?> PutIfAbsentAsync(string key, ReadOnlyMemory<byte> data, CancellationToken cancellationToken = default)
    {
        ObjectKeys.Validate(key);
        return PutConditionallyAsync(key, data, BlobCondition.IfAbsent, cancellationToken);
    }

    public ValueTask<string?> PutIfMatchAsync(string key, ReadOnlyMemory<byte> data, string expectedEtag, CancellationToken cancellationToken = default)
    {
        ObjectKeys.Validate(key);
        ArgumentNullException.ThrowIfNull(expectedEtag);
        return PutConditionallyAsync(key, data, BlobCondition.IfEtag(expectedEtag), cancellationToken);
    }

    public async ValueTask<ListPage> ListAsync(string prefix, string? continuationToken = null, int pageSize = 1000, CancellationToken cancellationToken = default)
    {
        ObjectKeys.ValidatePrefix(prefix);
        ArgumentOutOfRangeException.ThrowIfLessThan(pageSize, 1);
        var marker = continuationToken;
        while (true)
        {
            var page = await Client.ListAsync(Container, _prefix + prefix, marker, pageSize, cancellationToken).ConfigureAwait(false);
            // The service may answer a page with no names but a marker (a scan that ran out of time): go on.
            if (page.Names.Count > 0 || page.NextMarker is null)
            {
                return new ListPage([.. page.Names.Select(n => n[_prefix.Length..])], page.NextMarker);
            }

            marker = page.NextMarker;
        }
    }

    public ValueTask<bool> DeleteAsync(string key, CancellationToken cancellationToken = default)
    {
        ObjectKeys.Validate(key);
        return new ValueTask<bool>(Client.DeleteAsync(Container, _prefix + key, cancellationToken));
    }

    private async ValueTask<string?> PutConditionallyAsync(string key, ReadOnlyMemory<byte> data, BlobCondition condition, CancellationToken cancellationToken)
    {
        var writeId = Guid.NewGuid().ToString("N");
        var blob = _prefix + key;
        var write = await Client.PutAsync(Container, blob, data, condition, new Dictionary<string, string> { [WriteIdMetadata] = writeId }, cancellationToken)
            .ConfigureAwait(false);
        if (!write.ConditionFailed)
        {
            return write.ETag;
        }

        if (write.Ambiguous)
        {
            var current = await Client.GetPropertiesAsync(Container, blob, cancellationToken).ConfigureAwait(false);
            if (current is not null && current.Metadata.TryGetValue(WriteIdMetadata, out var id) && id == writeId)
            {
                return current.ETag;
            }
        }

        return null;
    }

    private ObjectStoreException PastEnd(string key, long offset, int length, long? size) =>
        new($"{Description}: range {offset}+{length} of \"{key}\" is past the end of the object{(size is >= 0 ? $" ({size} bytes)" : "")}");
}

namespace Floe.Storage;

/// <summary>
/// An in-process object store for tests and scratch repositories. Etags are a store-wide write counter, so a
/// deleted and re-created object never gets an etag it had before. Bytes are copied in and out.
/// </summary>
public sealed class MemoryObjectStore : IObjectStore
{
    private readonly Lock _lock = new();
    private readonly Dictionary<string, Entry> _objects = new(StringComparer.Ordinal);
    private long _version;

    public string Description => "memory";

    /// <summary>The number of objects stored.</summary>
    public int Count
    {
        get
        {
            lock (_lock)
            {
                return _objects.Count;
            }
        }
    }

    public ValueTask<StoredObject?> GetAsync(string key, CancellationToken cancellationToken = default)
    {
        ObjectKeys.Validate(key);
        cancellationToken.ThrowIfCancellationRequested();
        lock (_lock)
        {
            return ValueTask.FromResult(_objects.TryGetValue(key, out var entry)
                ? new StoredObject(entry.Data.ToArray(), entry.Etag)
                : null);
        }
    }

    public ValueTask<StoredObject?> GetRangeAsync(string key, long offset, int length, CancellationToken cancellationToken = default)
    {
        ObjectKeys.Validate(key);
        ArgumentOutOfRangeException.ThrowIfNegative(offset);
        ArgumentOutOfRangeException.ThrowIfNegative(length);
        cancellationToken.ThrowIfCancellationRequested();
        lock (_lock)
        {
            if (!_objects.TryGetValue(key, out var entry))
            {
                return ValueTask.FromResult<StoredObject?>(null);
            }

            if (offset > entry.Data.Length - length)
            {
                throw new ObjectStoreException(
                    $"memory: range {offset}+{length} of \"{key}\" is past the end of the object ({entry.Data.Length} bytes).");
            }

            return ValueTask.FromResult<StoredObject?>(
                new StoredObject(entry.Data.AsSpan((int)offset, length).ToArray(), entry.Etag));
        }
    }

    public ValueTask<string> PutAsync(string key, ReadOnlyMemory<byte> data, CancellationToken cancellationToken = default)
    {
        ObjectKeys.Validate(key);
        cancellationToken.ThrowIfCancellationRequested();
        var copy = data.ToArray();
        lock (_lock)
        {
            return ValueTask.FromResult(Store(key, copy));
        }
    }

    public ValueTask<string?> PutIfAbsentAsync(string key, ReadOnlyMemory<byte> data, CancellationToken cancellationToken = default)
    {
        ObjectKeys.Validate(key);
        cancellationToken.ThrowIfCancellationRequested();
        var copy = data.ToArray();
        lock (_lock)
        {
            return ValueTask.FromResult(_objects.ContainsKey(key) ? null : Store(key, copy));
        }
    }

    public ValueTask<string?> PutIfMatchAsync(string key, ReadOnlyMemory<byte> data, string expectedEtag, CancellationToken cancellationToken = default)
    {
        ObjectKeys.Validate(key);
        ArgumentNullException.ThrowIfNull(expectedEtag);
        cancellationToken.ThrowIfCancellationRequested();
        var copy = data.ToArray();
        lock (_lock)
        {
            return ValueTask.FromResult(
                _objects.TryGetValue(key, out var entry) && string.Equals(entry.Etag, expectedEtag, StringComparison.Ordinal)
                    ? Store(key, copy)
                    : null);
        }
    }

    public ValueTask<ListPage> ListAsync(string prefix, string? continuationToken = null, int pageSize = 1000, CancellationToken cancellationToken = default)
    {
        ObjectKeys.ValidatePrefix(prefix);
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(pageSize);
        cancellationToken.ThrowIfCancellationRequested();
        List<string> matching;
        lock (_lock)
        {
            matching = [.. _objects.Keys.Where(k =>
                k.StartsWith(prefix, StringComparison.Ordinal)
                && (continuationToken is null || string.CompareOrdinal(k, continuationToken) > 0))];
        }

        matching.Sort(StringComparer.Ordinal);
        if (matching.Count <= pageSize)
        {
            return ValueTask.FromResult(new ListPage(matching, null));
        }

        var page = matching.GetRange(0, pageSize);
        return ValueTask.FromResult(new ListPage(page, page[^1]));
    }

    public ValueTask<bool> DeleteAsync(string key, CancellationToken cancellationToken = default)
    {
        ObjectKeys.Validate(key);
        cancellationToken.ThrowIfCancellationRequested();
        lock (_lock)
        {
            return ValueTask.FromResult(_objects.Remove(key));
        }
    }

    // Caller holds _lock.
    private string Store(string key, byte[] data)
    {
        var etag = (++_version).ToString(System.Globalization.CultureInfo.InvariantCulture);
        _objects[key] = new Entry(data, etag);
        return etag;
    }

    private sealed record Entry(byte[] Data, string Etag);
}

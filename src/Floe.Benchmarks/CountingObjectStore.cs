using Floe.Storage;

namespace Floe.Benchmarks;

/// <summary>Wraps an object store and counts requests and bytes read, per key prefix, for benchmark figures.</summary>
public sealed class CountingObjectStore(IObjectStore inner) : IObjectStore
{
    private long _gets;
    private long _bytesRead;
    private long _manifestBytesRead;

    public string Description => inner.Description;

    public long Gets => Interlocked.Read(ref _gets);

    public long BytesRead => Interlocked.Read(ref _bytesRead);

    public long ManifestBytesRead => Interlocked.Read(ref _manifestBytesRead);

    public void Reset()
    {
        Interlocked.Exchange(ref _gets, 0);
        Interlocked.Exchange(ref _bytesRead, 0);
        Interlocked.Exchange(ref _manifestBytesRead, 0);
    }

    public async ValueTask<StoredObject?> GetAsync(string key, CancellationToken cancellationToken = default) =>
        Count(key, await inner.GetAsync(key, cancellationToken));

    public async ValueTask<StoredObject?> GetRangeAsync(string key, long offset, int length, CancellationToken cancellationToken = default) =>
        Count(key, await inner.GetRangeAsync(key, offset, length, cancellationToken));

    public ValueTask<string> PutAsync(string key, ReadOnlyMemory<byte> data, CancellationToken cancellationToken = default) =>
        inner.PutAsync(key, data, cancellationToken);

    public ValueTask<string?> PutIfAbsentAsync(string key, ReadOnlyMemory<byte> data, CancellationToken cancellationToken = default) =>
        inner.PutIfAbsentAsync(key, data, cancellationToken);

    public ValueTask<string?> PutIfMatchAsync(string key, ReadOnlyMemory<byte> data, string expectedEtag, CancellationToken cancellationToken = default) =>
        inner.PutIfMatchAsync(key, data, expectedEtag, cancellationToken);

    public ValueTask<ListPage> ListAsync(string prefix, string? continuationToken = null, int pageSize = 1000, CancellationToken cancellationToken = default) =>
        inner.ListAsync(prefix, continuationToken, pageSize, cancellationToken);

    public ValueTask<bool> DeleteAsync(string key, CancellationToken cancellationToken = default) => inner.DeleteAsync(key, cancellationToken);

    private StoredObject? Count(string key, StoredObject? result)
    {
        Interlocked.Increment(ref _gets);
        if (result is not null)
        {
            Interlocked.Add(ref _bytesRead, result.Data.Length);
            if (key.StartsWith("manifests/", StringComparison.Ordinal))
            {
                Interlocked.Add(ref _manifestBytesRead, result.Data.Length);
            }
        }

        return result;
    }
}

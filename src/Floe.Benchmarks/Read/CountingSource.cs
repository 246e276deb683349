using Floe.Storage;

namespace Floe.Benchmarks.Read;

/// <summary>Wraps the byte-range sources of virtual chunks and counts the reads and bytes, for benchmark figures.</summary>
public sealed class CountingSource(IByteRangeSource inner) : IByteRangeSource
{
    private long _reads;
    private long _bytes;

    public long Reads => Interlocked.Read(ref _reads);

    public long Bytes => Interlocked.Read(ref _bytes);

    public void Reset()
    {
        Interlocked.Exchange(ref _reads, 0);
        Interlocked.Exchange(ref _bytes, 0);
    }

    public bool CanRead(string location) => inner.CanRead(location);

    public ValueTask<SourceInfo> StatAsync(string location, CancellationToken cancellationToken = default) => inner.StatAsync(location, cancellationToken);

    public async ValueTask<SourceRead> ReadAsync(string location, long offset, int length, CancellationToken cancellationToken = default)
    {
        var read = await inner.ReadAsync(location, offset, length, cancellationToken);
        Interlocked.Increment(ref _reads);
        Interlocked.Add(ref _bytes, length);
        return read;
    }

    public async ValueTask<SourceRead> ReadUpToAsync(string location, long offset, int maxLength, CancellationToken cancellationToken = default)
    {
        var read = await inner.ReadUpToAsync(location, offset, maxLength, cancellationToken);
        Interlocked.Increment(ref _reads);
        Interlocked.Add(ref _bytes, read.Data.Length);
        return read;
    }
}

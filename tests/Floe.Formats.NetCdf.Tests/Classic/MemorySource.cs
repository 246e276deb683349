using Floe.Storage;

namespace Floe.Formats.NetCdf.Tests.Classic;

/// <summary>An in-memory file served as a byte-range source; counts requests.</summary>
internal sealed class MemorySource(byte[] data, bool reportLength = true) : IByteRangeSource
{
    public int Requests { get; private set; }

    private SourceInfo Info => new(reportLength ? data.Length : -1, "\"mem\"", null);

    public bool CanRead(string location) => true;

    public ValueTask<SourceInfo> StatAsync(string location, CancellationToken cancellationToken = default)
    {
        Requests++;
        return ValueTask.FromResult(new SourceInfo(data.Length, "\"mem\"", null));
    }

    public ValueTask<SourceRead> ReadAsync(string location, long offset, int length, CancellationToken cancellationToken = default)
    {
        Requests++;
        if (offset < 0 || length < 0 || offset > data.Length - length)
        {
            throw new SourceReadException(location, $"range {offset}+{length} is past the end of the file ({data.Length} bytes)");
        }

        return ValueTask.FromResult(new SourceRead(data.AsMemory((int)offset, length).ToArray(), Info));
    }

    public ValueTask<SourceRead> ReadUpToAsync(string location, long offset, int maxLength, CancellationToken cancellationToken = default)
    {
        Requests++;
        if (offset < 0 || offset > data.Length)
        {
            throw new SourceReadException(location, $"offset {offset} is past the end of the file ({data.Length} bytes)");
        }

        var length = (int)Math.Min(maxLength, data.Length - offset);
        return ValueTask.FromResult(new SourceRead(data.AsMemory((int)offset, length).ToArray(), Info));
    }
}

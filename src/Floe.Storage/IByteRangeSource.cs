namespace Floe.Storage;

/// <summary>
/// Reads byte ranges of a file addressed by location (a local path, file://, http:// or https:// URL).
/// Virtual chunk references are resolved through this, so one code path serves local files and remote objects.
/// </summary>
public interface IByteRangeSource
{
    /// <summary>True when this source can read the location (by its scheme).</summary>
    bool CanRead(string location);

    /// <summary>Size and version of the file. Throws <see cref="SourceNotFoundException"/> when it does not exist.</summary>
    ValueTask<SourceInfo> StatAsync(string location, CancellationToken cancellationToken = default);

    /// <summary>
    /// Reads exactly <paramref name="length"/> bytes at <paramref name="offset"/> together with the file's version.
    /// Throws <see cref="SourceNotFoundException"/> when the file is missing and <see cref="SourceReadException"/>
    /// when it is shorter than the range or cannot be read; never returns fewer bytes.
    /// </summary>
    ValueTask<SourceRead> ReadAsync(string location, long offset, int length, CancellationToken cancellationToken = default);

    /// <summary>
    /// Reads up to <paramref name="maxLength"/> bytes at <paramref name="offset"/>: fewer only where the file ends
    /// first, none when <paramref name="offset"/> is its length. One request that also tells the file's size, so a
    /// reader can fetch a file's head without asking for its length first. An offset past the end throws
    /// <see cref="SourceReadException"/>.
    /// </summary>
    ValueTask<SourceRead> ReadUpToAsync(string location, long offset, int maxLength, CancellationToken cancellationToken = default);

    /// <summary>
    /// Reads several ranges of one file, each exactly as <see cref="ReadAsync"/> would, with as few requests as the
    /// source allows (over HTTP, one multi-range GET where the server supports it). The default sends one read per
    /// range, all at once, so the caller waits one round trip either way.
    /// </summary>
    async ValueTask<SourceMultiRead> ReadManyAsync(string location, IReadOnlyList<(long Offset, int Length)> ranges, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(ranges);
        ArgumentOutOfRangeException.ThrowIfZero(ranges.Count, nameof(ranges));
        var reads = await Task.WhenAll(ranges.Select(r => ReadAsync(location, r.Offset, r.Length, cancellationToken).AsTask()));
        return new SourceMultiRead([.. reads.Select(r => r.Data)], reads[0].Info, reads.Length);
    }
}

/// <summary>A file's size and the version markers a reader can check: an etag and/or a last-modified time.</summary>
public sealed record SourceInfo(long Length, string? Etag, DateTimeOffset? LastModified);

/// <summary>Bytes read from a source and the version they were read from.</summary>
public sealed record SourceRead(ReadOnlyMemory<byte> Data, SourceInfo Info);

/// <summary>Bytes of several ranges, in the order asked for, the version they were read from and the requests it took.</summary>
public sealed record SourceMultiRead(IReadOnlyList<ReadOnlyMemory<byte>> Data, SourceInfo Info, int Requests);

/// <summary>A byte-range read failed; the message names the location.</summary>
public class SourceReadException(string location, string message, Exception? inner = null)
    : Exception($"{location}: {message}", inner)
{
    public string Location { get; } = location;
}

/// <summary>The location does not exist.</summary>
public sealed class SourceNotFoundException(string location, Exception? inner = null)
    : SourceReadException(location, "not found", inner);

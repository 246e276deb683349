namespace Floe.Storage;

/// <summary>How a <see cref="CachingRangeReader"/> turns small metadata reads into few large requests.</summary>
public sealed record CachingRangeReaderOptions
{
    /// <summary>The first request fetches this much of the file's start (or the whole file when smaller). Default 256 KiB.</summary>
    public int HeadBytes { get; init; } = 256 << 10;

    /// <summary>A read that misses the cache fetches at least this much, aligned to it. Default 64 KiB.</summary>
    public int BlockBytes { get; init; } = 64 << 10;

    /// <summary>Ranges asked for together are fetched in one request when the gaps between them are at most this. Default 256 KiB.</summary>
    public int MergeGapBytes { get; init; } = 256 << 10;

    /// <summary>Fetched bytes kept at most; past it the cache starts over. Default 64 MiB.</summary>
    public long MaxCachedBytes { get; init; } = 64L << 20;
}

/// <summary>
/// Reads one file's metadata through a byte-range source with few requests: the first read fetches the file's
/// head, a miss fetches an aligned block, ranges asked for together are merged across small gaps, and everything
/// fetched is kept, so neighbouring small reads cost nothing. Ranges too far apart to merge are fetched together
/// (<see cref="IByteRangeSource.ReadManyAsync"/>). Counts requests, round trips and bytes.
/// </summary>
/// <remarks>Serves one parse at a time: calls must not overlap.</remarks>
public sealed class CachingRangeReader
{
    private readonly IByteRangeSource _source;
    private readonly CachingRangeReaderOptions _options;

    // Disjoint, non-adjacent fetched spans ordered by start.
    private readonly List<Span> _spans = [];
    private long _cachedBytes;

    public CachingRangeReader(IByteRangeSource source, string location, CachingRangeReaderOptions? options = null)
    {
        _source = source ?? throw new ArgumentNullException(nameof(source));
        Location = location ?? throw new ArgumentNullException(nameof(location));
        _options = options ?? new CachingRangeReaderOptions();
        ArgumentOutOfRangeException.ThrowIfLessThan(_options.HeadBytes, 1, nameof(options));
        ArgumentOutOfRangeException.ThrowIfLessThan(_options.BlockBytes, 1, nameof(options));
        ArgumentOutOfRangeException.ThrowIfNegative(_options.MergeGapBytes, nameof(options));
    }

    public string Location { get; }

    /// <summary>The source the bytes come from.</summary>
    public IByteRangeSource Source => _source;

    /// <summary>The options in effect.</summary>
    public CachingRangeReaderOptions Options => _options;

    /// <summary>The file's size and version as of the first request; null before it.</summary>
    public SourceInfo? Info { get; private set; }

    /// <summary>Requests sent to the source.</summary>
    public int RequestCount { get; private set; }

    /// <summary>Times the reader waited on the source; ranges fetched together count once however many requests they took.</summary>
    public int RoundTrips { get; private set; }

    /// <summary>Bytes fetched from the source.</summary>
    public long BytesFetched { get; private set; }

    /// <summary>The file's length, fetching its head when nothing was read yet.</summary>
    public async ValueTask<long> GetLengthAsync(CancellationToken cancellationToken = default)
    {
        if (Info is null)
        {
            await FetchHeadAsync(cancellationToken);
        }

        return Info!.Length;
    }

    /// <summary>Exactly <paramref name="length"/> bytes at <paramref name="offset"/>; a range past the end throws <see cref="SourceReadException"/>.</summary>
    public async ValueTask<ReadOnlyMemory<byte>> ReadAsync(long offset, int length, CancellationToken cancellationToken = default)
    {
        ArgumentOutOfRangeException.ThrowIfNegative(offset);
        ArgumentOutOfRangeException.ThrowIfNegative(length);
        if (TryGet(offset, length, out var cached))
        {
            return cached;
        }

        await FetchAsync([(offset, length)], cancellationToken);
        return TryGet(offset, length, out cached)
            ? cached
            : throw new SourceReadException(Location, $"range {offset}+{length} is past the end of the file ({Info!.Length} bytes)");
    }

    /// <summary>
    /// Fetches the ranges not yet cached, merging those closer than <see cref="CachingRangeReaderOptions.MergeGapBytes"/>
    /// into one request each. Use it before reading many known ranges, such as the child nodes of a tree.
    /// </summary>
    public async ValueTask PrefetchAsync(IEnumerable<(long Offset, int Length)> ranges, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(ranges);
        var missing = ranges.Where(r => r.Length > 0 && !TryGet(r.Offset, r.Length, out _)).ToList();
        if (missing.Count > 0)
        {
            await FetchAsync(missing, cancellationToken);
        }
    }

    private bool TryGet(long offset, int length, out ReadOnlyMemory<byte> data)
    {
        var index = FindSpan(offset);
        if (index >= 0)
        {
            var span = _spans[index];
            if (offset + length <= span.End)
            {
                data = span.Data.AsMemory((int)(offset - span.Start), length);
                return true;
            }
        }

        data = default;
        return false;
    }

    // Index of the span holding offset, or -1.
    private int FindSpan(long offset)
    {
        int lo = 0, hi = _spans.Count - 1;
        while (lo <= hi)
        {
            var mid = (lo + hi) >>> 1;
            var span = _spans[mid];
            if (offset < span.Start)
            {
                hi = mid - 1;
            }
            else if (offset >= span.End)
            {
                lo = mid + 1;
            }
            else
            {
                return mid;
            }
        }

        return -1;
    }

    private async ValueTask FetchHeadAsync(CancellationToken cancellationToken)
    {
        var read = await _source.ReadUpToAsync(Location, 0, _options.HeadBytes, cancellationToken);
        RoundTrips++;
        Count(read);
        if (read.Data.Length > 0)
        {
            Insert(0, Owned(read.Data));
        }
    }

    // Sources return fresh arrays; keep them rather than copy.
    private static byte[] Owned(ReadOnlyMemory<byte> data) =>
        System.Runtime.InteropServices.MemoryMarshal.TryGetArray(data, out var segment) && segment.Offset == 0 && segment.Count == segment.Array!.Length
            ? segment.Array
            : data.ToArray();

    private async ValueTask FetchAsync(List<(long Offset, int Length)> ranges, CancellationToken cancellationToken)
    {
        if (Info is null)
        {
            await FetchHeadAsync(cancellationToken);
            ranges = ranges.Where(r => !TryGet(r.Offset, r.Length, out _)).ToList();
        }

        var fileLength = Info!.Length;
        var block = _options.BlockBytes;
        var wanted = new List<(long Start, long End)>();
        foreach (var (offset, length) in ranges.OrderBy(r => r.Offset))
        {
            var start = offset / block * block;
            var end = Math.Max(offset + length, start + block);
            if (fileLength >= 0)
            {
                end = Math.Min(end, Math.Max(fileLength, offset + length));
            }

            if (wanted.Count > 0 && start - wanted[^1].End <= _options.MergeGapBytes)
            {
                wanted[^1] = (wanted[^1].Start, Math.Max(wanted[^1].End, end));
            }
            else
            {
                wanted.Add((start, end));
            }
        }

        var fetches = new List<(long Offset, int Length)>();
        foreach (var (start, wantedEnd) in wanted)
        {
            // A cached prefix is not fetched again; what remains still fetches at least to the next block boundary.
            var from = start;
            var end = wantedEnd;
            var head = FindSpan(from);
            if (head >= 0)
            {
                from = _spans[head].End;
                end = Math.Max(end, ((from / block) + 1) * block);
                if (fileLength >= 0)
                {
                    end = Math.Min(end, Math.Max(fileLength, wantedEnd));
                }
            }

            if (from >= end || (fileLength >= 0 && from >= fileLength))
            {
                continue;
            }

            var length = checked((int)(end - from));
            fetches.Add((from, fileLength >= 0 ? (int)Math.Min(length, fileLength - from) : length));
        }

        if (fetches.Count == 0)
        {
            return;
        }

        RoundTrips++;
        if (fetches.Count > 1 && fileLength >= 0)
        {
            // Far-apart ranges go out together: one multi-range request where the source supports it.
            var many = await _source.ReadManyAsync(Location, fetches, cancellationToken);
            RequestCount += many.Requests;
            for (var i = 0; i < fetches.Count; i++)
            {
                BytesFetched += many.Data[i].Length;
                Insert(fetches[i].Offset, Owned(many.Data[i]));
            }

            return;
        }

        foreach (var (from, length) in fetches)
        {
            var read = fileLength >= 0
                ? await _source.ReadAsync(Location, from, length, cancellationToken)
                : await _source.ReadUpToAsync(Location, from, length, cancellationToken);
            Count(read);
            if (read.Data.Length > 0)
            {
                Insert(from, Owned(read.Data));
            }
        }
    }

    private void Count(SourceRead read)
    {
        RequestCount++;
        BytesFetched += read.Data.Length;
        Info ??= read.Info;
    }

    // Adds fetched bytes and merges them with every span they touch, keeping spans disjoint and ordered.
    private void Insert(long start, byte[] data)
    {
        if (_cachedBytes + data.Length > _options.MaxCachedBytes && _spans.Count > 0)
        {
            _spans.Clear();
            _cachedBytes = 0;
        }

        var merged = new Span(start, data);
        var first = _spans.Count;
        var count = 0;
        for (var i = 0; i < _spans.Count; i++)
        {
            var span = _spans[i];
            if (span.End < merged.Start || span.Start > merged.End)
            {
                continue;
            }

            first = Math.Min(first, i);
            count++;
            merged = Combine(merged, span);
        }

        if (count > 0)
        {
            foreach (var span in _spans.GetRange(first, count))
            {
                _cachedBytes -= span.Data.Length;
            }

            _spans.RemoveRange(first, count);
        }

        var at = _spans.FindIndex(s => s.Start > merged.Start);
        _spans.Insert(at < 0 ? _spans.Count : at, merged);
        _cachedBytes += merged.Data.Length;
    }

    private static Span Combine(Span a, Span b)
    {
        var start = Math.Min(a.Start, b.Start);
        var end = Math.Max(a.End, b.End);
        var data = new byte[checked((int)(end - start))];
        b.Data.CopyTo(data, (int)(b.Start - start));
        a.Data.CopyTo(data, (int)(a.Start - start));
        return new Span(start, data);
    }

    private readonly record struct Span(long Start, byte[] Data)
    {
        public long End => Start + Data.Length;
    }
}

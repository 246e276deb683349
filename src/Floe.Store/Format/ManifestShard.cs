namespace Floe.Store.Format;

/// <summary>
/// The references of one array that fall in one shard box, sorted by position (row-major index inside the box).
/// Encoded column by column (spec: Manifest shard) so that zstd sees runs of similar bytes.
/// </summary>
public sealed class ManifestShard
{
    private const byte KindInline = 1;
    private const byte KindNative = 2;
    private const byte KindVirtual = 3;

    private const byte TagPositions = 1;
    private const byte TagKinds = 2;
    private const byte TagLocations = 3;
    private const byte TagVirtualLocations = 4;
    private const byte TagVirtualOffsets = 5;
    private const byte TagVirtualLengths = 6;
    private const byte TagNativeIds = 7;
    private const byte TagNativeLengths = 8;
    private const byte TagInlineLengths = 9;
    private const byte TagInlineData = 10;
    private const byte TagCodecTable = 11;
    private const byte TagCodecIndexes = 12;

    private readonly ChunkRef[]? _refs;
    private readonly DecodedColumns? _columns;

    /// <summary>A shard built from references, ready to encode.</summary>
    public ManifestShard(long[] origin, long[] shape, long[] positions, ChunkRef[] refs)
    {
        if (positions.Length != refs.Length)
        {
            throw new ArgumentException("positions and refs differ in length");
        }

        Origin = origin;
        Shape = shape;
        Positions = positions;
        _refs = refs;
    }

    private ManifestShard(long[] origin, long[] shape, long[] positions, DecodedColumns columns)
    {
        Origin = origin;
        Shape = shape;
        Positions = positions;
        _columns = columns;
    }

    /// <summary>Chunk coordinates of the box's first corner.</summary>
    public long[] Origin { get; }

    /// <summary>Chunks per shard along each dimension.</summary>
    public long[] Shape { get; }

    /// <summary>Strictly increasing row-major positions inside the box.</summary>
    public long[] Positions { get; }

    /// <summary>All references, built anew on each call (a decoded shard keeps columns, not objects).</summary>
    public ChunkRef[] Refs => _refs is not null ? (ChunkRef[])_refs.Clone() : Enumerable.Range(0, Count).Select(RefAt).ToArray();

    public int Count => Positions.Length;

    public ChunkRef RefAt(int index) => _refs is not null ? _refs[index] : _columns!.RefAt(index);

    public static string KeyOf(ObjectId id) => $"manifests/{id}";

    /// <summary>A rough count of the bytes this decoded shard keeps alive, for the cache's budget.</summary>
    public long EstimatedMemory() => 64 + (Positions.Length * 8L) + (_columns?.EstimatedMemory() ?? (_refs!.Length * 64L));

    public ChunkRef? Find(long position)
    {
        var i = Array.BinarySearch(Positions, position);
        return i >= 0 ? RefAt(i) : null;
    }

    public long PositionOf(ReadOnlySpan<long> chunkCoords)
    {
        long position = 0;
        for (var d = 0; d < Shape.Length; d++)
        {
            position = (position * Shape[d]) + (chunkCoords[d] - Origin[d]);
        }

        return position;
    }

    public void CoordsOf(long position, Span<long> chunkCoords) => ShardLayout.CoordsAt(position, Origin, Shape, chunkCoords);

    public byte[] Encode(int zstdLevel = 3)
    {
        var n = Positions.Length;
        var w = new PayloadWriter(64 + (n * 6));
        w.WriteVarint((ulong)Shape.Length);
        w.WriteCoords(Origin);
        w.WriteCoords(Shape);
        w.WriteVarint((ulong)n);

        var deltas = new ulong[n];
        var kinds = new byte[n];
        var virtualLocations = new List<ulong>();
        var virtualOffsets = new List<ulong>();
        var virtualLengths = new List<ulong>();
        var nativeIds = new PayloadWriter();
        var nativeLengths = new List<ulong>();
        var inlineLengths = new List<ulong>();
        var inlineData = new PayloadWriter();
        var locations = new Dictionary<(string, string?, long), int>();
        var locationList = new List<(string Location, string? Etag, long LastModified)>();
        var locationEnds = new List<long>();
        var previousLocation = 0L;
        var codecIndexes = new ulong[n];
        var codecTable = new Dictionary<ChunkCodecs, int>();
        for (var i = 0; i < n; i++)
        {
            deltas[i] = (ulong)(i == 0 ? Positions[0] : Positions[i] - Positions[i - 1]);
            if (RefAt(i).Codecs is { } codecs)
            {
                if (!codecTable.TryGetValue(codecs, out var entry))
                {
                    entry = codecTable.Count;
                    codecTable.Add(codecs, entry);
                }

                codecIndexes[i] = (ulong)entry + 1;
            }

            switch (RefAt(i))
            {
                case InlineChunkRef inline:
                    kinds[i] = KindInline;
                    inlineLengths.Add((ulong)inline.Data.Length);
                    inlineData.WriteRaw(inline.Data.Span);
                    break;
                case NativeChunkRef native:
                    kinds[i] = KindNative;
                    nativeIds.WriteId(native.Id);
                    nativeLengths.Add((ulong)native.Length);
                    break;
                case VirtualChunkRef v:
                    kinds[i] = KindVirtual;
                    var lastModified = v.LastModified?.ToUnixTimeMilliseconds() ?? 0;
                    var key = (v.Location, v.Etag, lastModified);
                    if (!locations.TryGetValue(key, out var index))
                    {
                        index = locationList.Count;
                        locations.Add(key, index);
                        locationList.Add(key);
                        locationEnds.Add(0);
                    }

                    virtualLocations.Add(PayloadWriter.ZigZag(index - previousLocation));
                    previousLocation = index;
                    virtualOffsets.Add(PayloadWriter.ZigZag(v.Offset - locationEnds[index]));
                    locationEnds[index] = v.Offset + v.Length;
                    virtualLengths.Add((ulong)v.Length);
                    break;
                default:
                    throw new ArgumentException($"unknown chunk reference type {RefAt(i).GetType().Name}");
            }
        }

        var column = new PayloadWriter();
        void Flush(byte tag)
        {
            w.WriteByte(tag);
            w.WriteBytes(column.WrittenSpan);
            column = new PayloadWriter();
        }

        column.WriteUIntColumn(deltas);
        Flush(TagPositions);
        column.WriteRaw(kinds);
        Flush(TagKinds);
        if (virtualLengths.Count > 0)
        {
            column.WriteVarint((ulong)locationList.Count);
            var previous = "";
            foreach (var (location, etag, lastModified) in locationList)
            {
                var shared = CommonPrefixLength(previous, location);
                column.WriteVarint((ulong)shared);
                column.WriteString(location[shared..]);
                column.WriteString(etag ?? "");
                column.WriteVarint(lastModified);
                previous = location;
            }

            Flush(TagLocations);
            column.WriteUIntColumn(virtualLocations.ToArray());
            Flush(TagVirtualLocations);
            column.WriteUIntColumn(virtualOffsets.ToArray());
            Flush(TagVirtualOffsets);
            column.WriteUIntColumn(virtualLengths.ToArray());
            Flush(TagVirtualLengths);
        }

        if (nativeLengths.Count > 0)
        {
            column.WriteRaw(nativeIds.WrittenSpan);
            Flush(TagNativeIds);
            column.WriteUIntColumn(nativeLengths.ToArray());
            Flush(TagNativeLengths);
        }

        if (inlineLengths.Count > 0)
        {
            column.WriteUIntColumn(inlineLengths.ToArray());
            Flush(TagInlineLengths);
            column.WriteRaw(inlineData.WrittenSpan);
            Flush(TagInlineData);
        }

        if (codecTable.Count > 0)
        {
            column.WriteVarint((ulong)codecTable.Count);
            foreach (var codecs in codecTable.OrderBy(e => e.Value).Select(e => e.Key))
            {
                column.WriteString(codecs.Json);
            }

            Flush(TagCodecTable);
            column.WriteUIntColumn(codecIndexes);
            Flush(TagCodecIndexes);
        }

        return Envelope.Seal(ObjectType.ManifestShard, w.WrittenSpan, compress: true, zstdLevel);
    }

    public static ManifestShard Decode(string key, ReadOnlySpan<byte> data)
    {
        var payload = Envelope.Open(key, ObjectType.ManifestShard, data);
        var r = new PayloadReader(payload, key);
        var rank = (int)r.ReadLength("rank", 64);
        var origin = r.ReadCoords(rank);
        var shape = r.ReadCoords(rank);
        long boxSize = 1;
        foreach (var s in shape)
        {
            if (s < 1)
            {
                throw r.Corrupt("shard shape has a zero dimension");
            }

            if (s > int.MaxValue / boxSize)
            {
                throw r.Corrupt($"shard shape [{string.Join(", ", shape)}] holds more than {int.MaxValue} chunks");
            }

            boxSize *= s;
        }

        // Each reference takes at least its byte in the kinds column, so a count beyond the payload is corrupt.
        var n = (int)r.ReadLength("reference count", Math.Min(boxSize, r.Remaining));
        ulong[]? deltas = null, virtualLocations = null, virtualOffsets = null, virtualLengths = null, nativeLengths = null, inlineLengths = null, codecIndexes = null;
        ChunkCodecs[]? codecTable = null;
        ReadOnlySpan<byte> kinds = default, nativeIds = default, inlineData = default;
        List<(string Location, string? Etag, DateTimeOffset? LastModified)>? locations = null;
        int seenKinds = 0, virtualCount = 0, nativeCount = 0, inlineCount = 0;
        var lastTag = 0;
        while (r.Remaining > 0)
        {
            var tag = r.ReadByte();
            if (tag <= lastTag)
            {
                throw r.Corrupt($"column tag {tag} out of order or repeated");
            }

            lastTag = tag;
            var column = new PayloadReader(r.ReadBytes(), key);
            switch (tag)
            {
                case TagPositions:
                    deltas = column.ReadUIntColumn(n);
                    break;
                case TagKinds:
                    kinds = column.ReadRaw(n);
                    seenKinds = 1;
                    foreach (var k in kinds)
                    {
                        switch (k)
                        {
                            case KindInline: inlineCount++; break;
                            case KindNative: nativeCount++; break;
                            case KindVirtual: virtualCount++; break;
                            default: throw column.Corrupt($"unknown reference kind {k}");
                        }
                    }

                    break;
                case TagLocations:
                    var count = column.ReadCount("location count", 4);
                    locations = new(count);
                    var previous = "";
                    for (var i = 0; i < count; i++)
                    {
                        var shared = (int)column.ReadLength("shared prefix", previous.Length);
                        var location = string.Concat(previous.AsSpan(0, shared), column.ReadString());
                        var etag = column.ReadString();
                        var lastModified = column.ReadLength("last modified", 253402300799999);
                        locations.Add((location, etag.Length == 0 ? null : etag, lastModified == 0 ? null : DateTimeOffset.FromUnixTimeMilliseconds(lastModified)));
                        previous = location;
                    }

                    break;
                case TagVirtualLocations:
                    virtualLocations = column.ReadUIntColumn(virtualCount);
                    break;
                case TagVirtualOffsets:
                    virtualOffsets = column.ReadUIntColumn(virtualCount);
                    break;
                case TagVirtualLengths:
                    virtualLengths = column.ReadUIntColumn(virtualCount);
                    break;
                case TagNativeIds:
                    nativeIds = column.ReadRaw(nativeCount * ObjectId.ByteLength);
                    break;
                case TagNativeLengths:
                    nativeLengths = column.ReadUIntColumn(nativeCount);
                    break;
                case TagInlineLengths:
                    inlineLengths = column.ReadUIntColumn(inlineCount);
                    break;
                case TagInlineData:
                    inlineData = column.ReadRaw(column.Remaining);
                    break;
                case TagCodecTable:
                    codecTable = new ChunkCodecs[column.ReadCount("codec list count", 1)];
                    for (var i = 0; i < codecTable.Length; i++)
                    {
                        try
                        {
                            codecTable[i] = ChunkCodecs.Parse(column.ReadString());
                        }
                        catch (FormatException ex)
                        {
                            throw column.Corrupt($"codec list {i}: {ex.Message}");
                        }
                    }

                    break;
                case TagCodecIndexes:
                    codecIndexes = column.ReadUIntColumn(n);
                    break;
                default:
                    throw r.Corrupt($"unknown column tag {tag}");
            }

            column.ExpectEnd();
        }

        if (deltas is null || seenKinds == 0)
        {
            throw r.Corrupt("missing the positions or kinds column");
        }

        if (virtualCount > 0 && (locations is null || virtualLocations is null || virtualOffsets is null || virtualLengths is null))
        {
            throw r.Corrupt("missing a virtual reference column");
        }

        if ((nativeCount > 0 && (nativeLengths is null || nativeIds.Length != nativeCount * ObjectId.ByteLength)) ||
            (inlineCount > 0 && inlineLengths is null))
        {
            throw r.Corrupt("missing a native or inline reference column");
        }

        if ((codecTable is null) != (codecIndexes is null))
        {
            throw r.Corrupt("has a codec table without codec indexes or the reverse");
        }

        int[]? chunkCodecs = null;
        if (codecIndexes is not null)
        {
            chunkCodecs = new int[n];
            for (var i = 0; i < n; i++)
            {
                chunkCodecs[i] = codecIndexes[i] <= (ulong)codecTable!.Length
                    ? (int)codecIndexes[i]
                    : throw r.Corrupt($"reference {i} names codec list {codecIndexes[i]} of {codecTable.Length}");
            }
        }

        var positions = new long[n];
        var slots = new int[n];
        var columns = new DecodedColumns(kinds.ToArray(), slots, locations?.ToArray() ?? [], virtualCount, nativeCount, inlineCount)
        {
            CodecTable = codecTable ?? [],
            ChunkCodecs = chunkCodecs,
        };
        long position = -1;
        var locationEnds = locations is null ? [] : new long[locations.Count];
        long locationIndex = 0;
        int vi = 0, ni = 0, ii = 0, inlineOffset = 0;
        for (var i = 0; i < n; i++)
        {
            if (i > 0 && deltas[i] == 0)
            {
                throw r.Corrupt($"position of reference {i} does not increase");
            }

            position = i == 0 ? (long)deltas[0] : position + (long)deltas[i];
            if (position < 0 || position >= boxSize)
            {
                throw r.Corrupt($"position {position} is outside the shard box of {boxSize} chunks");
            }

            positions[i] = position;
            switch (kinds[i])
            {
                case KindVirtual:
                    locationIndex += UnZigZag(virtualLocations![vi]);
                    if (locationIndex < 0 || locationIndex >= locations!.Count)
                    {
                        throw r.Corrupt($"location index {locationIndex} outside the table of {locations!.Count}");
                    }

                    var offset = locationEnds[locationIndex] + UnZigZag(virtualOffsets![vi]);
                    var length = (long)virtualLengths![vi];
                    if (offset < 0 || length < 0)
                    {
                        throw r.Corrupt($"virtual reference {i} has offset {offset}, length {length}");
                    }

                    locationEnds[locationIndex] = offset + length;
                    columns.VirtualLocations[vi] = (int)locationIndex;
                    columns.VirtualOffsets[vi] = offset;
                    columns.VirtualLengths[vi] = length;
                    slots[i] = vi++;
                    break;
                case KindNative:
                    columns.NativeIds[ni] = ObjectId.FromBytes(nativeIds.Slice(ni * ObjectId.ByteLength, ObjectId.ByteLength));
                    columns.NativeLengths[ni] = (long)nativeLengths![ni];
                    slots[i] = ni++;
                    break;
                default:
                    var inlineLength = inlineLengths![ii];
                    if (inlineLength > (ulong)(inlineData.Length - inlineOffset))
                    {
                        throw r.Corrupt("inline data is shorter than its lengths say");
                    }

                    columns.InlineOffsets[ii] = inlineOffset;
                    inlineOffset += (int)inlineLength;
                    slots[i] = ii++;
                    break;
            }
        }

        if (inlineOffset != inlineData.Length)
        {
            throw r.Corrupt("inline data is longer than its lengths say");
        }

        columns.InlineOffsets[inlineCount] = inlineOffset;
        columns.InlineData = inlineData.ToArray();
        return new ManifestShard(origin, shape, positions, columns);
    }

    private static long UnZigZag(ulong v) => (long)(v >> 1) ^ -(long)(v & 1);

    private static int CommonPrefixLength(string a, string b)
    {
        var max = Math.Min(a.Length, b.Length);
        var i = 0;
        while (i < max && a[i] == b[i])
        {
            i++;
        }

        // Never split a surrogate pair, so the suffix stays valid UTF-16 and therefore valid UTF-8.
        if (i > 0 && i < b.Length && char.IsLowSurrogate(b[i]))
        {
            i--;
        }

        return i;
    }

    /// <summary>
    /// A decoded shard's references kept as columns (about 30 bytes a reference instead of an object each), so
    /// a cached shard costs little memory and decoding allocates a handful of arrays.
    /// </summary>
    private sealed class DecodedColumns(byte[] kinds, int[] slots, (string Location, string? Etag, DateTimeOffset? LastModified)[] locations,
        int virtualCount, int nativeCount, int inlineCount)
    {
        public int[] VirtualLocations { get; } = new int[virtualCount];

        public long[] VirtualOffsets { get; } = new long[virtualCount];

        public long[] VirtualLengths { get; } = new long[virtualCount];

        public ObjectId[] NativeIds { get; } = new ObjectId[nativeCount];

        public long[] NativeLengths { get; } = new long[nativeCount];

        public int[] InlineOffsets { get; } = new int[inlineCount + 1];

        public byte[] InlineData { get; set; } = [];

        public ChunkCodecs[] CodecTable { get; init; } = [];

        // Per reference: 0 for the array's codecs, k for CodecTable[k - 1]; null when no reference has its own.
        public int[]? ChunkCodecs { get; init; }

        public ChunkRef RefAt(int index)
        {
            var chunkRef = RefWithoutCodecs(index);
            return ChunkCodecs is { } codecs && codecs[index] > 0 ? chunkRef with { Codecs = CodecTable[codecs[index] - 1] } : chunkRef;
        }

        private ChunkRef RefWithoutCodecs(int index)
        {
            var slot = slots[index];
            switch (kinds[index])
            {
                case KindVirtual:
                    var (location, etag, lastModified) = locations[VirtualLocations[slot]];
                    return new VirtualChunkRef(location, VirtualOffsets[slot], VirtualLengths[slot], etag, lastModified);
                case KindNative:
                    return new NativeChunkRef(NativeIds[slot], NativeLengths[slot]);
                default:
                    return new InlineChunkRef(InlineData.AsMemory(InlineOffsets[slot], InlineOffsets[slot + 1] - InlineOffsets[slot]));
            }
        }

        public long EstimatedMemory() =>
            (kinds.Length * (ChunkCodecs is null ? 5L : 9L)) + (VirtualOffsets.Length * 20L) + (NativeIds.Length * 20L) + (InlineOffsets.Length * 4L) + InlineData.Length +
            locations.Sum(l => 64L + (l.Location.Length * 2L) + ((l.Etag?.Length ?? 0) * 2L));
    }
}

using Floe.Storage;

namespace Floe.Formats.NetCdf;

/// <summary>
/// Reads NetCDF-3 files (classic CDF-1, 64-bit offset CDF-2, 64-bit data CDF-5): the header through a
/// <see cref="CachingRangeReader"/> (usually one request for the file's head), then the bytes of tiny variables, so that
/// <see cref="NetCdf3Mapping.ToVirtualDataset"/> can turn the file into virtual arrays without further reads.
/// </summary>
public static class NetCdf3Reader
{
    /// <summary>Variables with at most this many bytes of data are read, so their chunks can be stored inline.</summary>
    public const int InlineThreshold = 512;

    /// <summary>Longest header this reader accepts (real headers are kilobytes to a few megabytes).</summary>
    public const int MaxHeaderBytes = 256 << 20;

    /// <summary>
    /// Reads the file's header and the bytes of its tiny variables. A file that is not NetCDF-3 or is damaged
    /// (truncated, impossible counts or sizes, names that are not UTF-8, data outside the file) throws
    /// <see cref="NetCdfFormatException"/> naming the file, the object and the byte offset.
    /// </summary>
    public static Task<NetCdf3File> ReadAsync(
        IByteRangeSource source, string location, CachingRangeReaderOptions? options = null, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(source);
        ArgumentNullException.ThrowIfNull(location);
        return ReadAsync(new CachingRangeReader(source, location, options), cancellationToken);
    }

    /// <summary>Reads through a reader that may already hold the file's head (as when the format was detected from it).</summary>
    public static async Task<NetCdf3File> ReadAsync(CachingRangeReader reader, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(reader);
        var source = reader.Source;
        var location = reader.Location;
        var options = reader.Options;
        var fileLength = await reader.GetLengthAsync(cancellationToken);
        var info = reader.Info!;
        var extraRequests = 0;
        if (fileLength < 0)
        {
            // The server did not say how long the file is; validation and streaming files need it.
            info = await source.StatAsync(location, cancellationToken);
            extraRequests++;
            fileLength = info.Length >= 0 ? info.Length : throw new SourceReadException(location, "the file's size is unknown");
        }

        var headBytes = options.HeadBytes;
        var available = (int)Math.Min(fileLength, Math.Min(headBytes, MaxHeaderBytes));
        var buffer = new byte[available];
        if (available > 0)
        {
            (await reader.ReadAsync(0, available, cancellationToken)).Span.CopyTo(buffer);
        }

        ParsedHeader header;
        while (true)
        {
            try
            {
                header = new NetCdf3HeaderParser(buffer, available, fileLength, MaxHeaderBytes, location).Parse();
                break;
            }
            catch (NetCdf3HeaderParser.MoreBytesNeeded more)
            {
                // Headers longer than the head are rare; grow geometrically so a long one costs few requests.
                var wanted = (int)Math.Min(Math.Min(fileLength, MaxHeaderBytes), Math.Max(more.Length, 2L * available));
                Array.Resize(ref buffer, wanted);
                (await reader.ReadAsync(available, wanted - available, cancellationToken)).Span.CopyTo(buffer.AsSpan(available));
                available = wanted;
            }
        }

        var layout = Layout(header, location, fileLength);
        var inline = await ReadTinyVariablesAsync(reader, layout.Variables, cancellationToken);
        var variables = layout.Variables.Select(v => inline.TryGetValue(v.Id, out var data) ? WithData(v, data) : v).ToList();

        return new NetCdf3File
        {
            Location = location,
            Source = info,
            Version = header.Version,
            RecordCount = layout.RecordCount,
            IsStreaming = header.NumRecords < 0,
            RecordSize = layout.RecordSize,
            HeaderLength = header.Length,
            Dimensions = layout.Dimensions,
            Attributes = header.Attributes,
            Variables = variables,
            Requests = reader.RequestCount + extraRequests,
            BytesRead = reader.BytesFetched,
            RoundTrips = reader.RoundTrips + extraRequests,
        };
    }

    /// <summary>Reads the file and maps it to virtual arrays (<see cref="NetCdf3Mapping.ToVirtualDataset"/>).</summary>
    public static async Task<VirtualDataset> ReadVirtualAsync(
        IByteRangeSource source, string location, CachingRangeReaderOptions? options = null, CancellationToken cancellationToken = default) =>
        NetCdf3Mapping.ToVirtualDataset(await ReadAsync(source, location, options, cancellationToken));

    private sealed record FileLayout(List<NetCdf3Dimension> Dimensions, List<NetCdf3Variable> Variables, long RecordCount, long RecordSize);

    // Shapes, sizes, the record size and count, and checks that every variable's data lies after the header, inside
    // the file, and does not overlap another's.
    private static FileLayout Layout(ParsedHeader header, string location, long fileLength)
    {
        NetCdfFormatException Error(string what, long offset, string message) => new(location, what, offset, message);

        var shapes = new List<(ParsedVariable Parsed, bool IsRecord, long Slab)>();
        foreach (var parsed in header.Variables)
        {
            var what = $"variable \"{parsed.Name}\"";
            if (parsed.Begin > fileLength)
            {
                throw Error(what, parsed.BeginOffset, $"its data offset {parsed.Begin} is past the end of the file ({fileLength} bytes)");
            }

            var size = NetCdf3Types.SizeOf(parsed.Type);
            var isRecord = parsed.DimensionIds.Length > 0 && header.Dimensions[parsed.DimensionIds[0]].Length == 0;
            long slab = size;
            for (var d = 0; d < parsed.DimensionIds.Length; d++)
            {
                var dimension = header.Dimensions[parsed.DimensionIds[d]];
                if (dimension.Length == 0)
                {
                    if (d > 0)
                    {
                        throw Error(what, parsed.Offset,
                            $"the record dimension \"{dimension.Name}\" is its dimension {d}; it may only be the first");
                    }

                    continue;
                }

                // Past this the variable could not fit in any file; the offset checks below name the real problem.
                if (dimension.Length > long.MaxValue / 8 / slab)
                {
                    throw Error(what, parsed.Offset, $"its size overflows 64 bits ({string.Join(" × ", parsed.DimensionIds.Select(i => header.Dimensions[i].Length))} values)");
                }

                slab *= dimension.Length;
            }

            shapes.Add((parsed, isRecord, slab));
        }

        var records = shapes.Where(s => s.IsRecord).ToList();
        long recordSize = 0;
        foreach (var record in records)
        {
            recordSize += Pad4(record.Slab);
            if (recordSize < 0)
            {
                throw Error($"variable \"{record.Parsed.Name}\"", record.Parsed.Offset, "the record size overflows 64 bits");
            }
        }

        // With exactly one record variable, records are not padded.
        if (records.Count == 1)
        {
            recordSize = records[0].Slab;
        }

        // Data inside the file: checked first, so that a wrong offset is blamed on its own variable.
        var recordBegin = records.Count > 0 ? records[0].Parsed.Begin : 0;
        foreach (var (parsed, isRecord, slab) in shapes)
        {
            // A streaming file's record count comes from its size, so its records are inside it.
            if (!isRecord || header.NumRecords >= 0)
            {
                CheckInsideFile(parsed, slab, isRecord ? header.NumRecords : 1, isRecord);
            }
        }

        // Fixed data in header order, after the header, each after the previous one's end; then the record slabs,
        // in header order, each inside one record.
        var end = header.Length;
        string? previous = null;
        long extent = 0;
        foreach (var (parsed, isRecord, slab) in shapes.Where(s => !s.IsRecord).Concat(records))
        {
            if (parsed.Begin < end)
            {
                throw Error($"variable \"{parsed.Name}\"", parsed.BeginOffset, previous is null || parsed.Begin < header.Length
                    ? $"its data starts at byte {parsed.Begin}, inside the header (which ends at byte {header.Length})"
                    : $"its data starts at byte {parsed.Begin}, inside the data of variable \"{previous}\" (which ends at byte {end})");
            }

            if (isRecord && slab > recordSize - (parsed.Begin - recordBegin))
            {
                throw Error($"variable \"{parsed.Name}\"", parsed.BeginOffset,
                    $"its record slab ({slab} bytes at byte {parsed.Begin}) does not fit in the record of {recordSize} bytes starting at byte {recordBegin}");
            }

            end = parsed.Begin + slab;
            extent = isRecord ? end - recordBegin : 0;
            previous = parsed.Name;
        }

        // STREAMING: as many complete records as the file holds.
        var recordCount = header.NumRecords >= 0 ? header.NumRecords
            : records.Count == 0 || fileLength - recordBegin < extent ? 0
            : ((fileLength - recordBegin - extent) / recordSize) + 1;

        var dimensions = header.Dimensions
            .Select((d, i) => new NetCdf3Dimension(i, d.Name, d.Length == 0 ? recordCount : d.Length, d.Length == 0))
            .ToList();
        var variables = new List<NetCdf3Variable>();
        for (var i = 0; i < shapes.Count; i++)
        {
            var (parsed, isRecord, slab) = shapes[i];
            var variableDimensions = parsed.DimensionIds.Select(id => dimensions[id]).ToList();
            variables.Add(new NetCdf3Variable
            {
                Id = i,
                Name = parsed.Name,
                Type = parsed.Type,
                Dimensions = variableDimensions,
                Attributes = parsed.Attributes,
                Shape = [.. variableDimensions.Select(d => d.Length)],
                IsRecord = isRecord,
                Begin = parsed.Begin,
                HeaderVsize = parsed.Vsize,
                HeaderOffset = parsed.Offset,
                SlabBytes = slab,
                RecordStride = isRecord ? recordSize : 0,
            });
        }

        return new FileLayout(dimensions, variables, recordCount, recordSize);

        // The variable's data (every record of it) ends inside the file.
        void CheckInsideFile(ParsedVariable parsed, long slab, long count, bool isRecord)
        {
            if (count > 0 && (slab > fileLength - parsed.Begin || (count > 1 && count - 1 > (fileLength - parsed.Begin - slab) / recordSize)))
            {
                throw Error($"variable \"{parsed.Name}\"", parsed.BeginOffset, isRecord
                    ? $"its data ({count} records of {slab} bytes every {recordSize} bytes from byte {parsed.Begin}) extends past the end of the file ({fileLength} bytes)"
                    : $"its data ({slab} bytes at byte {parsed.Begin}) extends past the end of the file ({fileLength} bytes)");
            }
        }
    }

    // The stored bytes of every fixed numeric variable with at most InlineThreshold bytes of data, fetched together.
    // Record variables stay references: their records lie a record apart, so inlining would cost a request each.
    private static async Task<Dictionary<int, byte[]>> ReadTinyVariablesAsync(
        CachingRangeReader reader, List<NetCdf3Variable> variables, CancellationToken cancellationToken)
    {
        var tiny = variables.Where(v => v.Type != NetCdf3Type.Char && !v.IsRecord && v.DataBytes is > 0 and <= InlineThreshold).ToList();
        var result = new Dictionary<int, byte[]>();
        if (tiny.Count == 0)
        {
            return result;
        }

        await reader.PrefetchAsync(tiny.SelectMany(v => v.Extents()).Select(e => (e.Offset, (int)e.Length)), cancellationToken);
        foreach (var variable in tiny)
        {
            var data = new byte[variable.DataBytes];
            var at = 0;
            foreach (var (offset, length) in variable.Extents())
            {
                (await reader.ReadAsync(offset, (int)length, cancellationToken)).Span.CopyTo(data.AsSpan(at));
                at += (int)length;
            }

            result[variable.Id] = data;
        }

        return result;
    }

    private static NetCdf3Variable WithData(NetCdf3Variable v, byte[] data) => new()
    {
        Id = v.Id,
        Name = v.Name,
        Type = v.Type,
        Dimensions = v.Dimensions,
        Attributes = v.Attributes,
        Shape = v.Shape,
        IsRecord = v.IsRecord,
        Begin = v.Begin,
        HeaderVsize = v.HeaderVsize,
        HeaderOffset = v.HeaderOffset,
        SlabBytes = v.SlabBytes,
        RecordStride = v.RecordStride,
        InlineData = data,
    };

    private static long Pad4(long n) => (n + 3) & ~3L;
}

using System.Buffers;
using System.Numerics;
using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;
using System.Text;

namespace Floe.Parquet.Internal;

/// <summary>One encoded column chunk: its pages, and metadata whose page offsets are relative to the chunk's start.</summary>
internal sealed class EncodedChunk(ByteBuffer data, ColumnMetaData meta, int dictionaryEntries) : IDisposable
{
    public ByteBuffer Data { get; } = data;

    public ColumnMetaData Meta { get; } = meta;

    /// <summary>Entries of the chunk's dictionary, or 0 when it is PLAIN.</summary>
    public int DictionaryEntries { get; } = dictionaryEntries;

    public void Dispose() => Data.Dispose();
}

/// <summary>Encodes one column chunk: dictionary or PLAIN pages (data page v1), definition levels, statistics, compression.</summary>
internal sealed class ChunkEncoder : IDisposable
{
    private readonly ParquetField _field;
    private readonly ParquetWriterOptions _options;
    private readonly PageCompressor _compressor;
    private readonly ByteBuffer _out;
    private readonly CompactWriter _headers;
    private readonly ByteBuffer _page = new(1 << 16);
    private readonly ByteBuffer _compressed = new(1 << 16);
    private long _uncompressedTotal;
    private long _compressedTotal;
    private long _dictionaryOffset = -1;
    private long _dataOffset = -1;
    private int _dataPages;
    private int _dictionaryEntries;
    private int _sizeHint;

    private ChunkEncoder(ParquetField field, ParquetWriterOptions options, PageCompressor compressor, int expectedBytes)
    {
        _field = field;
        _options = options;
        _compressor = compressor;
        _out = new ByteBuffer(Math.Max(expectedBytes, 1 << 12));
        _headers = new CompactWriter(_out);
    }

    /// <summary>Encodes a column chunk; <paramref name="dictionaryHint"/> is the dictionary size of the column's previous chunk (0 if none), to size hash tables.</summary>
    public static EncodedChunk Encode(ParquetField field, ParquetColumnData data, ParquetWriterOptions options, PageCompressor compressor, int dictionaryHint = 0)
    {
        using var encoder = new ChunkEncoder(field, options, compressor, EstimateBytes(data)) { _sizeHint = dictionaryHint };
        try
        {
            return encoder.Run(data);
        }
        catch
        {
            encoder._out.Dispose();
            throw;
        }
    }

    private static int EstimateBytes(ParquetColumnData data) => data.Type switch
    {
        ParquetType.Int32 or ParquetType.Float => data.Count,
        ParquetType.Int64 or ParquetType.Double => data.Count * 2,
        _ => data.Count / 4,
    };

    private EncodedChunk Run(ParquetColumnData data)
    {
        var meta = new ColumnMetaData
        {
            Path = [_field.Name],
            Codec = _compressor.Kind,
            NumValues = data.Count,
        };

        StatisticsData stats;
        EncodingKind valueEncoding;
        switch (data.Type)
        {
            case ParquetType.Int32:
                meta.Type = PhysicalType.Int32;
                stats = _field.IsUnsignedInteger
                    ? EncodeFixed<uint, UnsignedInt32Order>(MemoryMarshal.Cast<int, uint>(data.Int32Values.Span), data.Defined.Span, out valueEncoding)
                    : EncodeFixed<uint, SignedInt32Order>(MemoryMarshal.Cast<int, uint>(data.Int32Values.Span), data.Defined.Span, out valueEncoding);
                break;
            case ParquetType.Int64:
                meta.Type = PhysicalType.Int64;
                stats = _field.IsUnsignedInteger
                    ? EncodeFixed<ulong, UnsignedInt64Order>(MemoryMarshal.Cast<long, ulong>(data.Int64Values.Span), data.Defined.Span, out valueEncoding)
                    : EncodeFixed<ulong, SignedInt64Order>(MemoryMarshal.Cast<long, ulong>(data.Int64Values.Span), data.Defined.Span, out valueEncoding);
                break;
            case ParquetType.Float:
                meta.Type = PhysicalType.Float;
                stats = EncodeFixed<uint, FloatOrder>(MemoryMarshal.Cast<float, uint>(data.FloatValues.Span), data.Defined.Span, out valueEncoding);
                break;
            case ParquetType.Double:
                meta.Type = PhysicalType.Double;
                stats = EncodeFixed<ulong, DoubleOrder>(MemoryMarshal.Cast<double, ulong>(data.DoubleValues.Span), data.Defined.Span, out valueEncoding);
                break;
            case ParquetType.Boolean:
                meta.Type = PhysicalType.Boolean;
                stats = EncodeBooleans(data.BooleanValues.Span, data.Defined.Span);
                valueEncoding = EncodingKind.Plain;
                break;
            default:
                meta.Type = PhysicalType.ByteArray;
                stats = EncodeBinary(data, out valueEncoding);
                break;
        }

        meta.Encodings = valueEncoding == EncodingKind.RleDictionary
            ? [EncodingKind.Plain, EncodingKind.Rle, EncodingKind.RleDictionary]
            : _field.Nullable ? [EncodingKind.Plain, EncodingKind.Rle] : [EncodingKind.Plain];
        if (_dictionaryOffset >= 0)
        {
            meta.DictionaryPageOffset = _dictionaryOffset;
            meta.EncodingStats.Add((PageKind.DictionaryPage, EncodingKind.Plain, 1));
        }

        meta.EncodingStats.Add((PageKind.DataPage, valueEncoding, _dataPages));
        meta.DataPageOffset = _dataOffset;
        meta.TotalCompressedSize = _compressedTotal;
        meta.TotalUncompressedSize = _uncompressedTotal;
        meta.Statistics = _options.Statistics ? stats : null;
        return new EncodedChunk(_out, meta, _dictionaryEntries);
    }

    // ---- fixed-width values (INT32, INT64, FLOAT, DOUBLE as raw bits) ----

    private StatisticsData EncodeFixed<TKey, TOrder>(ReadOnlySpan<TKey> values, ReadOnlySpan<bool> defined, out EncodingKind encoding)
        where TKey : unmanaged, IBinaryInteger<TKey>
        where TOrder : struct, IKeyOrder<TKey>
    {
        var rows = values.Length;
        var nonNull = CountDefined(defined, rows);
        var size = Unsafe.SizeOf<TKey>();
        var stats = new StatisticsData { NullCount = rows - nonNull };

        FixedDictionary<TKey>? dictionary = null;
        var indices = nonNull > 0 && _options.Dictionary ? ArrayPool<int>.Shared.Rent(nonNull) : null;
        try
        {
            if (indices is not null)
            {
                var maxEntries = Math.Max(1, _options.DictionaryPageBytes / size);
                dictionary = new FixedDictionary<TKey>(Math.Clamp(_sizeHint + (_sizeHint / 8), 1024, maxEntries));
                if (!dictionary.Build(values, defined, indices.AsSpan(0, nonNull), maxEntries) || !DictionaryPolicy.Pays(dictionary.Count, (long)dictionary.Count * size, nonNull, (long)nonNull * size))
                {
                    dictionary.Dispose();
                    dictionary = null;
                }
            }

            // Statistics: over the distinct values when there is a dictionary, else over all values.
            var found = dictionary is not null
                ? MinMax.Compute<TKey, TOrder>(dictionary.Keys, default, out var min, out var max)
                : MinMax.Compute<TKey, TOrder>(values, defined, out min, out max);
            if (found)
            {
                CheckRange(min, max);
                stats.MinValue = ToBytes(TOrder.Canonical(min, isMin: true));
                stats.MaxValue = ToBytes(TOrder.Canonical(max, isMin: false));
            }

            if (dictionary is not null)
            {
                stats.DistinctCount = _dictionaryEntries = dictionary.Count;
                encoding = EncodingKind.RleDictionary;
                WriteDictionaryPage(MemoryMarshal.AsBytes(dictionary.Keys), dictionary.Count);
                WriteIndexPages(indices!, nonNull, dictionary.Count, defined, rows);
            }
            else
            {
                encoding = EncodingKind.Plain;
                WritePlainFixedPages(values, defined, rows);
            }
        }
        finally
        {
            dictionary?.Dispose();
            if (indices is not null)
            {
                ArrayPool<int>.Shared.Return(indices);
            }
        }

        return stats;
    }

    private void CheckRange<TKey>(TKey min, TKey max)
        where TKey : unmanaged, IBinaryInteger<TKey>
    {
        if (_field.Logical != ParquetLogicalType.Integer || _field.IntegerBits is not (8 or 16))
        {
            return;
        }

        long low, high;
        if (_field.IsSigned)
        {
            low = int.CreateTruncating(min);
            high = int.CreateTruncating(max);
        }
        else
        {
            low = uint.CreateTruncating(min);
            high = uint.CreateTruncating(max);
        }

        var bits = _field.IntegerBits.Value;
        var (lowest, highest) = _field.IsSigned ? (-(1L << (bits - 1)), (1L << (bits - 1)) - 1) : (0L, (1L << bits) - 1);
        if (low < lowest || high > highest)
        {
            var bad = low < lowest ? low : high;
            throw new ArgumentException(
                $"Parquet column '{_field.Name}' ({_field.Describe()}) holds {bad}, outside [{lowest}, {highest}].");
        }
    }

    private static byte[] ToBytes<TKey>(TKey key)
        where TKey : unmanaged
    {
        var bytes = new byte[Unsafe.SizeOf<TKey>()];
        MemoryMarshal.Write(bytes, in key);
        return bytes;
    }

    private void WritePlainFixedPages<TKey>(ReadOnlySpan<TKey> values, ReadOnlySpan<bool> defined, int rows)
        where TKey : unmanaged
    {
        var size = Unsafe.SizeOf<TKey>();
        var rowsPerPage = Math.Max(1, _options.DataPageBytes / size);
        var start = 0;
        do
        {
            var count = Math.Min(rowsPerPage, rows - start);
            var slice = values.Slice(start, count);
            if (!_field.Nullable)
            {
                // Required: the page is exactly the values' bytes; compress them in place.
                WriteDataPage(count, EncodingKind.Plain, MemoryMarshal.AsBytes(slice));
            }
            else
            {
                _page.Clear();
                var mask = defined.IsEmpty ? default : defined.Slice(start, count);
                WriteLevels(mask, count);
                if (mask.IsEmpty)
                {
                    _page.Write(MemoryMarshal.AsBytes(slice));
                }
                else
                {
                    var target = MemoryMarshal.Cast<byte, TKey>(_page.GetSpan(count * size)[..(count * size)]);
                    var n = 0;
                    for (var i = 0; i < count; i++)
                    {
                        if (mask[i])
                        {
                            target[n++] = slice[i];
                        }
                    }

                    _page.Advance(n * size);
                }

                WriteDataPage(count, EncodingKind.Plain, _page.WrittenSpan);
            }

            start += count;
        }
        while (start < rows);
    }

    // ---- dictionary pages (shared by fixed-width and binary) ----

    private void WriteDictionaryPage(ReadOnlySpan<byte> plain, int entries) =>
        WritePage(PageKind.DictionaryPage, entries, EncodingKind.Plain, plain);

    private void WriteIndexPages(int[] indices, int nonNull, int entries, ReadOnlySpan<bool> defined, int rows)
    {
        var bitWidth = Math.Max(1, RleHybrid.BitWidth((uint)(entries - 1)));
        var rowsPerPage = (int)Math.Clamp((long)_options.DataPageBytes * 8 / bitWidth, 1, int.MaxValue);
        var start = 0;
        var next = 0;
        do
        {
            var count = Math.Min(rowsPerPage, rows - start);
            var mask = defined.IsEmpty ? default : defined.Slice(start, count);
            var present = mask.IsEmpty ? count : CountDefined(mask, count);
            _page.Clear();
            if (_field.Nullable)
            {
                WriteLevels(mask, count);
            }

            _page.WriteByte((byte)bitWidth);
            RleHybrid.Encode(indices.AsSpan(next, present), bitWidth, _page);
            WriteDataPage(count, EncodingKind.RleDictionary, _page.WrittenSpan);
            next += present;
            start += count;
        }
        while (start < rows);

        if (next != nonNull)
        {
            throw new InvalidOperationException($"internal error: {next} dictionary indices written of {nonNull}");
        }
    }

    // ---- BOOLEAN ----

    private StatisticsData EncodeBooleans(ReadOnlySpan<bool> values, ReadOnlySpan<bool> defined)
    {
        var rows = values.Length;
        var nonNull = CountDefined(defined, rows);
        var stats = new StatisticsData { NullCount = rows - nonNull };
        bool anyTrue = false, anyFalse = false;
        for (var i = 0; i < rows && !(anyTrue && anyFalse); i++)
        {
            if (defined.IsEmpty || defined[i])
            {
                anyTrue |= values[i];
                anyFalse |= !values[i];
            }
        }

        if (anyTrue || anyFalse)
        {
            stats.MinValue = [anyFalse ? (byte)0 : (byte)1];
            stats.MaxValue = [anyTrue ? (byte)1 : (byte)0];
        }

        var rowsPerPage = (int)Math.Clamp((long)_options.DataPageBytes * 8, 8, int.MaxValue);
        var scratch = defined.IsEmpty ? null : ArrayPool<bool>.Shared.Rent(Math.Min(rowsPerPage, rows));
        try
        {
            var start = 0;
            do
            {
                var count = Math.Min(rowsPerPage, rows - start);
                var slice = values.Slice(start, count);
                var mask = defined.IsEmpty ? default : defined.Slice(start, count);
                _page.Clear();
                if (_field.Nullable)
                {
                    WriteLevels(mask, count);
                }

                var present = slice;
                if (!mask.IsEmpty)
                {
                    var n = 0;
                    for (var i = 0; i < count; i++)
                    {
                        if (mask[i])
                        {
                            scratch![n++] = slice[i];
                        }
                    }

                    present = scratch.AsSpan(0, n);
                }

                var bytes = (present.Length + 7) / 8;
                BitPacking.PackBooleans(present, _page.GetSpan(bytes));
                _page.Advance(bytes);
                WriteDataPage(count, EncodingKind.Plain, _page.WrittenSpan);
                start += count;
            }
            while (start < rows);
        }
        finally
        {
            if (scratch is not null)
            {
                ArrayPool<bool>.Shared.Return(scratch);
            }
        }

        return stats;
    }

    // ---- BYTE_ARRAY ----

    private StatisticsData EncodeBinary(ParquetColumnData data, out EncodingKind encoding)
    {
        var rows = data.Count;
        var offsets = ArrayPool<int>.Shared.Rent(rows + 1);
        var defined = ArrayPool<bool>.Shared.Rent(Math.Max(rows, 1));
        var bytes = new ByteBuffer(Math.Max(rows * 8, 256));
        int[]? indices = null;
        BinaryDictionary? dictionary = null;
        try
        {
            var nonNull = Flatten(data, bytes, offsets, defined);
            var mask = defined.AsSpan(0, rows);
            var valueBytes = bytes.WrittenSpan;
            var offs = offsets.AsSpan(0, rows + 1);
            var stats = new StatisticsData { NullCount = rows - nonNull };

            if (nonNull > 0 && _options.Dictionary)
            {
                indices = ArrayPool<int>.Shared.Rent(nonNull);
                dictionary = new BinaryDictionary();
                var plainBytes = (long)(offs[rows] - offs[0]) + (4L * nonNull);
                if (!dictionary.Build(valueBytes, offs, mask, indices.AsSpan(0, nonNull), _options.DictionaryPageBytes)
                    || !DictionaryPolicy.Pays(dictionary.Count, dictionary.PlainBytes, nonNull, plainBytes))
                {
                    dictionary.Dispose();
                    dictionary = null;
                }
            }

            // Statistics: unsigned byte-wise order, over the distinct values when there is a dictionary.
            int minStart = -1, minLength = 0, maxStart = -1, maxLength = 0;
            if (dictionary is not null)
            {
                for (var e = 0; e < dictionary.Count; e++)
                {
                    Consider(valueBytes, dictionary.Offset(e), dictionary.Length(e), ref minStart, ref minLength, ref maxStart, ref maxLength);
                }
            }
            else
            {
                for (var i = 0; i < rows; i++)
                {
                    if (mask[i])
                    {
                        Consider(valueBytes, offs[i], offs[i + 1] - offs[i], ref minStart, ref minLength, ref maxStart, ref maxLength);
                    }
                }
            }

            if (minStart >= 0)
            {
                stats.MinValue = valueBytes.Slice(minStart, minLength).ToArray();
                stats.MaxValue = valueBytes.Slice(maxStart, maxLength).ToArray();
            }

            var pageMask = _field.Nullable ? mask : default;
            if (dictionary is not null)
            {
                stats.DistinctCount = _dictionaryEntries = dictionary.Count;
                encoding = EncodingKind.RleDictionary;
                var plain = new ByteBuffer(checked((int)dictionary.PlainBytes));
                try
                {
                    for (var e = 0; e < dictionary.Count; e++)
                    {
                        plain.WriteInt32LittleEndian(dictionary.Length(e));
                        plain.Write(valueBytes.Slice(dictionary.Offset(e), dictionary.Length(e)));
                    }

                    WriteDictionaryPage(plain.WrittenSpan, dictionary.Count);
                }
                finally
                {
                    plain.Dispose();
                }

                WriteIndexPages(indices!, nonNull, dictionary.Count, pageMask.IsEmpty || nonNull == rows ? default : pageMask, rows);
            }
            else
            {
                encoding = EncodingKind.Plain;
                WritePlainBinaryPages(valueBytes, offs, mask, rows);
            }

            return stats;
        }
        finally
        {
            dictionary?.Dispose();
            if (indices is not null)
            {
                ArrayPool<int>.Shared.Return(indices);
            }

            ArrayPool<int>.Shared.Return(offsets);
            ArrayPool<bool>.Shared.Return(defined);
            bytes.Dispose();
        }
    }

    private static void Consider(ReadOnlySpan<byte> data, int start, int length, ref int minStart, ref int minLength, ref int maxStart, ref int maxLength)
    {
        var value = data.Slice(start, length);
        if (minStart < 0)
        {
            minStart = maxStart = start;
            minLength = maxLength = length;
            return;
        }

        if (value.SequenceCompareTo(data.Slice(minStart, minLength)) < 0)
        {
            minStart = start;
            minLength = length;
        }
        else if (value.SequenceCompareTo(data.Slice(maxStart, maxLength)) > 0)
        {
            maxStart = start;
            maxLength = length;
        }
    }

    /// <summary>Lays the values out back to back (UTF-8 for strings); returns the number of non-null values.</summary>
    private int Flatten(ParquetColumnData data, ByteBuffer bytes, int[] offsets, bool[] defined)
    {
        var rows = data.Count;
        var nonNull = 0;
        offsets[0] = 0;
        if (data.StringValues is { } strings)
        {
            for (var i = 0; i < rows; i++)
            {
                var s = strings[i];
                if (s is null)
                {
                    defined[i] = false;
                }
                else
                {
                    var span = bytes.GetSpan(Encoding.UTF8.GetMaxByteCount(s.Length));
                    bytes.Advance(Encoding.UTF8.GetBytes(s, span));
                    defined[i] = true;
                    nonNull++;
                }

                offsets[i + 1] = bytes.Length;
            }
        }
        else
        {
            var binaries = data.BinaryValues!;
            for (var i = 0; i < rows; i++)
            {
                var b = binaries[i];
                if (b is null)
                {
                    defined[i] = false;
                }
                else
                {
                    bytes.Write(b);
                    defined[i] = true;
                    nonNull++;
                }

                offsets[i + 1] = bytes.Length;
            }
        }

        if (nonNull < rows && !_field.Nullable)
        {
            var row = Array.IndexOf(defined, false, 0, rows);
            throw new ArgumentException($"Parquet column '{_field.Name}' is required (not nullable) but row {row} is null.");
        }

        return nonNull;
    }

    private void WritePlainBinaryPages(ReadOnlySpan<byte> data, ReadOnlySpan<int> offsets, ReadOnlySpan<bool> defined, int rows)
    {
        var start = 0;
        do
        {
            // Take rows until the page reaches its target size.
            var end = start;
            long bytes = 0;
            while (end < rows && (bytes < _options.DataPageBytes || end == start))
            {
                if (defined[end])
                {
                    bytes += 4 + offsets[end + 1] - offsets[end];
                }

                end++;
            }

            var count = end - start;
            _page.Clear();
            if (_field.Nullable)
            {
                WriteLevels(defined.Slice(start, count), count);
            }

            var target = _page.GetSpan(checked((int)bytes));
            var o = 0;
            for (var i = start; i < end; i++)
            {
                if (!defined[i])
                {
                    continue;
                }

                var length = offsets[i + 1] - offsets[i];
                MemoryMarshal.Write(target[o..], in length);
                data.Slice(offsets[i], length).CopyTo(target[(o + 4)..]);
                o += 4 + length;
            }

            _page.Advance(o);
            WriteDataPage(count, EncodingKind.Plain, _page.WrittenSpan);
            start = end;
        }
        while (start < rows);
    }

    // ---- levels, pages ----

    private int CountDefined(ReadOnlySpan<bool> defined, int rows)
    {
        if (defined.IsEmpty)
        {
            return rows;
        }

        var nulls = defined.Count(false);
        if (nulls > 0 && !_field.Nullable)
        {
            throw new ArgumentException($"Parquet column '{_field.Name}' is required (not nullable) but row {defined.IndexOf(false)} is null.");
        }

        return rows - nulls;
    }

    /// <summary>Appends the definition levels of a page (4-byte length, then RLE): all 1 when <paramref name="mask"/> is empty.</summary>
    private void WriteLevels(ReadOnlySpan<bool> mask, int count)
    {
        var at = _page.Reserve(4);
        var before = _page.Length;
        if (mask.IsEmpty)
        {
            // One RLE run of 1s.
            _page.WriteVarint((ulong)(uint)count << 1);
            _page.WriteByte(1);
        }
        else
        {
            RleHybrid.EncodeBooleans(mask, _page);
        }

        MemoryMarshal.Write(_page.WrittenSpan[at..], _page.Length - before);
    }

    private void WriteDataPage(int values, EncodingKind encoding, ReadOnlySpan<byte> content)
    {
        WritePage(PageKind.DataPage, values, encoding, content);
        _dataPages++;
    }

    private void WritePage(PageKind kind, int values, EncodingKind encoding, ReadOnlySpan<byte> content)
    {
        ReadOnlySpan<byte> stored;
        if (_compressor.Kind == CodecKind.Uncompressed)
        {
            stored = content;
        }
        else
        {
            _compressed.Clear();
            _compressor.Compress(content, _compressed);
            stored = _compressed.WrittenSpan;
        }

        var header = new PageHeader
        {
            Type = kind,
            UncompressedSize = content.Length,
            CompressedSize = stored.Length,
            NumValues = values,
            Encoding = encoding,
            DefinitionLevelEncoding = EncodingKind.Rle,
            RepetitionLevelEncoding = EncodingKind.Rle,
        };
        var start = _out.Length;
        if (kind == PageKind.DictionaryPage)
        {
            _dictionaryOffset = start;
        }
        else if (_dataOffset < 0)
        {
            _dataOffset = start;
        }

        header.Write(_headers);
        var headerBytes = _out.Length - start;
        _out.Write(stored);
        _uncompressedTotal += headerBytes + content.Length;
        _compressedTotal += headerBytes + stored.Length;
    }

    public void Dispose()
    {
        _page.Dispose();
        _compressed.Dispose();
    }
}

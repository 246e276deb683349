using System.Buffers;
using System.Buffers.Binary;
using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;

namespace Floe.Parquet.Internal;

/// <summary>
/// Decodes one column chunk (all its pages) of a flat column into per-row arrays. Malformed data throws
/// <see cref="InvalidDataException"/>, unsupported features <see cref="NotSupportedException"/>; the reader adds the context.
/// </summary>
internal sealed class ChunkDecoder : IDisposable
{
    private readonly ColumnLayout _layout;
    private readonly CodecKind _codec;
    private readonly int _rows;
    private readonly int _width;
    private byte[] _buffer = [];
    private int[] _ints = [];
    private readonly bool[]? _defined;
    private bool _anyNull;
    private int _done;

    private Array? _values;
    private Array? _dictionary;

    // BYTE_ARRAY / FIXED_LEN_BYTE_ARRAY state: the dictionary, and either per-row entry indices or flat bytes.
    private byte[]? _dictData;
    private int[]? _dictOffsets;
    private int _dictCount = -1;
    private int[]? _rowIndex;
    private ByteBuffer? _flat;
    private int[]? _flatOffsets;

    private ChunkDecoder(ColumnLayout layout, CodecKind codec, int rows)
    {
        _layout = layout;
        _codec = codec;
        _rows = rows;
        _width = layout.Physical switch
        {
            PhysicalType.Int32 or PhysicalType.Float => 4,
            PhysicalType.Int64 or PhysicalType.Double => 8,
            PhysicalType.Int96 => 12,
            PhysicalType.FixedLenByteArray => layout.TypeLength,
            _ => 0,
        };
        if (layout.MaxDefinitionLevel > 0)
        {
            _defined = ArrayPool<bool>.Shared.Rent(Math.Max(rows, 1));
        }
    }

    public static ParquetColumnValues Decode(ReadOnlySpan<byte> chunk, ColumnLayout layout, CodecKind codec, int rows)
    {
        using var decoder = new ChunkDecoder(layout, codec, rows);
        return decoder.Run(chunk);
    }

    private ParquetColumnValues Run(ReadOnlySpan<byte> chunk)
    {
        var pos = 0;
        while (_done < _rows)
        {
            if (pos >= chunk.Length)
            {
                throw new InvalidDataException($"the column chunk ends after {_done} of its {_rows} values");
            }

            int headerLength;
            PageHeader header;
            try
            {
                headerLength = PageHeader.Read(chunk[pos..], out header);
            }
            catch (ThriftException ex)
            {
                throw new InvalidDataException($"corrupt page header at chunk byte {pos}: {ex.Message}", ex);
            }

            pos += headerLength;
            if (header.CompressedSize < 0 || header.CompressedSize > chunk.Length - pos || header.UncompressedSize < 0)
            {
                throw new InvalidDataException(
                    $"page at chunk byte {pos - headerLength} declares {header.CompressedSize} bytes ({header.UncompressedSize} uncompressed) but the chunk has {chunk.Length - pos} left");
            }

            var raw = chunk.Slice(pos, header.CompressedSize);
            pos += header.CompressedSize;
            switch (header.Type)
            {
                case PageKind.DictionaryPage:
                    ReadDictionary(header, raw);
                    break;
                case PageKind.DataPage:
                    ReadDataPage(header, raw);
                    break;
                case PageKind.DataPageV2:
                    ReadDataPageV2(header, raw);
                    break;
                default:
                    break;
            }
        }

        return Result();
    }

    private ParquetColumnValues Result()
    {
        var defined = _anyNull ? _defined.AsSpan(0, _rows).ToArray() : null;
        var field = _layout.Field;
        if (field.Type == ParquetType.ByteArray)
        {
            BinaryValues binary;
            if (_rowIndex is not null)
            {
                binary = new BinaryValues(_dictData!, _dictOffsets!, _dictCount, _rowIndex);
            }
            else
            {
                EnsureFlat();
                binary = new BinaryValues(_flat!.WrittenSpan.ToArray(), _flatOffsets!, 0, null);
            }

            return new ParquetColumnValues(field, _rows, defined, binary);
        }

        _values ??= field.Type switch
        {
            ParquetType.Boolean => new bool[_rows],
            ParquetType.Int32 => new int[_rows],
            ParquetType.Int64 => new long[_rows],
            ParquetType.Float => new float[_rows],
            _ => new double[_rows],
        };
        return new ParquetColumnValues(field, _rows, defined, _values);
    }

    // ---- pages ----

    private void ReadDataPage(in PageHeader header, ReadOnlySpan<byte> raw)
    {
        var count = CheckCount(header);
        var page = Decompress(raw, header.UncompressedSize);
        var offset = 0;
        var present = count;
        if (_layout.MaxDefinitionLevel > 0)
        {
            if (header.DefinitionLevelEncoding == EncodingKind.BitPacked)
            {
                // Deprecated BIT_PACKED levels: most significant bit first, no length prefix.
                var bytes = (count + 7) / 8;
                Need(page, bytes, "definition levels");
                var defined = _defined.AsSpan(_done, count);
                for (var i = 0; i < count; i++)
                {
                    defined[i] = ((page[i >> 3] >> (7 - (i & 7))) & 1) != 0;
                }

                present = CountPresent(defined);
                offset = bytes;
            }
            else if (header.DefinitionLevelEncoding == EncodingKind.Rle)
            {
                Need(page, 4, "definition levels length");
                var length = BinaryPrimitives.ReadInt32LittleEndian(page);
                if (length < 0 || length > page.Length - 4)
                {
                    throw new InvalidDataException($"definition levels declare {length} bytes, the page has {page.Length - 4}");
                }

                present = DecodeLevels(page.Slice(4, length), count);
                offset = 4 + length;
            }
            else
            {
                throw new NotSupportedException($"definition levels encoded {Names.Of(header.DefinitionLevelEncoding)}");
            }
        }

        DecodeValues(header.Encoding, page[offset..], count, present);
        _done += count;
    }

    private void ReadDataPageV2(in PageHeader header, ReadOnlySpan<byte> raw)
    {
        var count = CheckCount(header);
        var repetition = header.RepetitionLevelsByteLength;
        var definition = header.DefinitionLevelsByteLength;
        if (repetition < 0 || definition < 0 || (long)repetition + definition > raw.Length)
        {
            throw new InvalidDataException($"data page v2 levels ({repetition} + {definition} bytes) exceed the page's {raw.Length} bytes");
        }

        var present = _layout.MaxDefinitionLevel > 0 ? DecodeLevels(raw.Slice(repetition, definition), count) : count;
        var stored = raw[(repetition + definition)..];
        var size = header.UncompressedSize - repetition - definition;
        if (size < 0)
        {
            throw new InvalidDataException($"data page v2 declares {header.UncompressedSize} uncompressed bytes, fewer than its levels");
        }

        var values = size == 0 ? default : header.IsCompressed ? Decompress(stored, size) : stored;
        DecodeValues(header.Encoding, values, count, present);
        _done += count;
    }

    private int CheckCount(in PageHeader header)
    {
        if (!header.HasTypeHeader)
        {
            throw new InvalidDataException("data page without its data page header");
        }

        var count = header.NumValues;
        if (count < 0 || count > _rows - _done)
        {
            throw new InvalidDataException($"page holds {count} values but only {_rows - _done} of the chunk's {_rows} remain");
        }

        return count;
    }

    private ReadOnlySpan<byte> Decompress(ReadOnlySpan<byte> raw, int size)
    {
        if (_codec == CodecKind.Uncompressed)
        {
            if (raw.Length != size)
            {
                throw new InvalidDataException($"uncompressed page holds {raw.Length} bytes but declares {size}");
            }

            return raw;
        }

        if (_buffer.Length < size)
        {
            if (_buffer.Length > 0)
            {
                ArrayPool<byte>.Shared.Return(_buffer);
            }

            _buffer = ArrayPool<byte>.Shared.Rent(size);
        }

        var output = _buffer.AsSpan(0, size);
        PageDecompressor.Decompress(_codec, raw, output);
        return output;
    }

    private int DecodeLevels(ReadOnlySpan<byte> data, int count)
    {
        var levels = Ints(count);
        RleHybrid.Decode(data, RleHybrid.BitWidth((uint)_layout.MaxDefinitionLevel), levels);
        var defined = _defined.AsSpan(_done, count);
        var max = _layout.MaxDefinitionLevel;
        for (var i = 0; i < count; i++)
        {
            var level = levels[i];
            if ((uint)level > (uint)max)
            {
                throw new InvalidDataException($"definition level {level} above the column's maximum {max}");
            }

            defined[i] = level == max;
        }

        return CountPresent(defined);
    }

    private int CountPresent(ReadOnlySpan<bool> defined)
    {
        var nulls = defined.Count(false);
        _anyNull |= nulls > 0;
        return defined.Length - nulls;
    }

    private Span<int> Ints(int count)
    {
        if (_ints.Length < count)
        {
            if (_ints.Length > 0)
            {
                ArrayPool<int>.Shared.Return(_ints);
            }

            _ints = ArrayPool<int>.Shared.Rent(count);
        }

        return _ints.AsSpan(0, count);
    }

    private static void Need(ReadOnlySpan<byte> data, long bytes, string what)
    {
        if (data.Length < bytes)
        {
            throw new InvalidDataException($"{what} need {bytes} bytes, the page has {data.Length}");
        }
    }

    // ---- dictionary ----

    private void ReadDictionary(in PageHeader header, ReadOnlySpan<byte> raw)
    {
        if (header.Encoding is not (EncodingKind.Plain or EncodingKind.PlainDictionary))
        {
            throw new NotSupportedException($"dictionary page encoded {Names.Of(header.Encoding)}");
        }

        var page = Decompress(raw, header.UncompressedSize);
        var n = header.NumValues;
        if (n < 0)
        {
            throw new InvalidDataException($"dictionary page declares {n} entries");
        }

        switch (_layout.Physical)
        {
            case PhysicalType.Int32:
                _dictionary = PlainArray<int>(page, n);
                break;
            case PhysicalType.Int64:
                _dictionary = PlainArray<long>(page, n);
                break;
            case PhysicalType.Float:
                _dictionary = PlainArray<float>(page, n);
                break;
            case PhysicalType.Double:
                _dictionary = PlainArray<double>(page, n);
                break;
            case PhysicalType.Int96:
                Need(page, 12L * n, "INT96 dictionary");
                var nanos = new long[n];
                for (var i = 0; i < n; i++)
                {
                    nanos[i] = ValueDecoders.Int96ToNanos(page.Slice(12 * i, 12));
                }

                _dictionary = nanos;
                break;
            case PhysicalType.ByteArray or PhysicalType.FixedLenByteArray:
                ReadBinaryDictionary(page, n);
                break;
            default:
                throw new NotSupportedException($"a dictionary for {Names.Of(_layout.Physical)} columns");
        }
    }

    private static T[] PlainArray<T>(ReadOnlySpan<byte> page, int n)
        where T : unmanaged
    {
        var size = Unsafe.SizeOf<T>();
        Need(page, (long)size * n, "dictionary");
        return MemoryMarshal.Cast<byte, T>(page[..(size * n)]).ToArray();
    }

    private void ReadBinaryDictionary(ReadOnlySpan<byte> page, int n)
    {
        var offsets = new int[n + 1];
        if (_layout.Physical == PhysicalType.FixedLenByteArray)
        {
            Need(page, (long)_width * n, "dictionary");
            for (var i = 0; i <= n; i++)
            {
                offsets[i] = i * _width;
            }

            _dictData = page[..(_width * n)].ToArray();
        }
        else
        {
            using var data = new ByteBuffer(page.Length);
            var pos = 0;
            for (var i = 0; i < n; i++)
            {
                var value = NextPlainBinary(page, ref pos);
                data.Write(value);
                offsets[i + 1] = data.Length;
            }

            _dictData = data.WrittenSpan.ToArray();
        }

        _dictOffsets = offsets;
        _dictCount = n;
    }

    private static ReadOnlySpan<byte> NextPlainBinary(ReadOnlySpan<byte> page, ref int pos)
    {
        if (page.Length - pos < 4)
        {
            throw new InvalidDataException("PLAIN byte array length past the end of the page");
        }

        var length = BinaryPrimitives.ReadInt32LittleEndian(page[pos..]);
        if (length < 0 || length > page.Length - pos - 4)
        {
            throw new InvalidDataException($"PLAIN byte array of {length} bytes runs past the end of the page");
        }

        var value = page.Slice(pos + 4, length);
        pos += 4 + length;
        return value;
    }

    /// <summary>Decodes RLE_DICTIONARY / PLAIN_DICTIONARY indices (bit width byte, then the hybrid runs), checked against the dictionary size.</summary>
    private Span<int> DictionaryIndices(ReadOnlySpan<byte> data, int present, int dictionarySize)
    {
        if (dictionarySize < 0)
        {
            throw new InvalidDataException("dictionary-encoded page but the chunk has no dictionary page");
        }

        Need(data, 1, "dictionary indices");
        var indices = Ints(present);
        RleHybrid.Decode(data[1..], data[0], indices);
        foreach (var index in indices)
        {
            if ((uint)index >= (uint)dictionarySize)
            {
                throw new InvalidDataException($"dictionary index {index} outside the dictionary's {dictionarySize} entries");
            }
        }

        return indices;
    }

    // ---- values ----

    private void DecodeValues(EncodingKind encoding, ReadOnlySpan<byte> data, int count, int present)
    {
        switch (_layout.Physical)
        {
            case PhysicalType.Int32:
                DecodeFixed<int>(encoding, data, count, present);
                break;
            case PhysicalType.Int64:
                DecodeFixed<long>(encoding, data, count, present);
                break;
            case PhysicalType.Float:
                DecodeFixed<float>(encoding, data, count, present);
                break;
            case PhysicalType.Double:
                DecodeFixed<double>(encoding, data, count, present);
                break;
            case PhysicalType.Int96:
                DecodeInt96(encoding, data, count, present);
                break;
            case PhysicalType.Boolean:
                DecodeBooleans(encoding, data, count, present);
                break;
            default:
                DecodeBinary(encoding, data, count, present);
                break;
        }
    }

    private T[] Output<T>()
        where T : unmanaged => (T[])(_values ??= GC.AllocateUninitializedArray<T>(_rows));

    private void DecodeFixed<T>(EncodingKind encoding, ReadOnlySpan<byte> data, int count, int present)
        where T : unmanaged
    {
        var output = Output<T>();
        var target = output.AsSpan(_done, present);
        if (present > 0)
        {
            switch (encoding)
            {
                case EncodingKind.Plain:
                    {
                        var bytes = present * Unsafe.SizeOf<T>();
                        Need(data, bytes, "PLAIN values");
                        MemoryMarshal.Cast<byte, T>(data[..bytes]).CopyTo(target);
                        break;
                    }

                case EncodingKind.RleDictionary or EncodingKind.PlainDictionary:
                    {
                        var dictionary = _dictionary as T[];
                        var indices = DictionaryIndices(data, present, dictionary?.Length ?? -1);
                        for (var i = 0; i < indices.Length; i++)
                        {
                            target[i] = dictionary![indices[i]];
                        }

                        break;
                    }

                case EncodingKind.DeltaBinaryPacked when typeof(T) == typeof(int) || typeof(T) == typeof(long):
                    {
                        var longs = ArrayPool<long>.Shared.Rent(present);
                        try
                        {
                            ValueDecoders.DeltaBinaryPacked(data, longs.AsSpan(0, present), out var produced);
                            if (produced != present)
                            {
                                throw new InvalidDataException($"DELTA_BINARY_PACKED holds {produced} values, the page needs {present}");
                            }

                            if (typeof(T) == typeof(int))
                            {
                                var ints = MemoryMarshal.Cast<T, int>(target);
                                for (var i = 0; i < present; i++)
                                {
                                    ints[i] = unchecked((int)longs[i]);
                                }
                            }
                            else
                            {
                                longs.AsSpan(0, present).CopyTo(MemoryMarshal.Cast<T, long>(target));
                            }
                        }
                        finally
                        {
                            ArrayPool<long>.Shared.Return(longs);
                        }

                        break;
                    }

                case EncodingKind.ByteStreamSplit:
                    ValueDecoders.ByteStreamSplit(data, Unsafe.SizeOf<T>(), present, MemoryMarshal.AsBytes(target));
                    break;
                default:
                    throw Unsupported(encoding);
            }
        }

        Expand(output, count, present);
    }

    private void DecodeInt96(EncodingKind encoding, ReadOnlySpan<byte> data, int count, int present)
    {
        var output = Output<long>();
        var target = output.AsSpan(_done, present);
        if (present > 0)
        {
            switch (encoding)
            {
                case EncodingKind.Plain:
                    Need(data, 12L * present, "INT96 values");
                    for (var i = 0; i < present; i++)
                    {
                        target[i] = ValueDecoders.Int96ToNanos(data.Slice(12 * i, 12));
                    }

                    break;
                case EncodingKind.RleDictionary or EncodingKind.PlainDictionary:
                    {
                        var dictionary = _dictionary as long[];
                        var indices = DictionaryIndices(data, present, dictionary?.Length ?? -1);
                        for (var i = 0; i < indices.Length; i++)
                        {
                            target[i] = dictionary![indices[i]];
                        }

                        break;
                    }

                default:
                    throw Unsupported(encoding);
            }
        }

        Expand(output, count, present);
    }

    private void DecodeBooleans(EncodingKind encoding, ReadOnlySpan<byte> data, int count, int present)
    {
        var output = Output<bool>();
        var target = output.AsSpan(_done, present);
        if (present > 0)
        {
            switch (encoding)
            {
                case EncodingKind.Plain:
                    BitPacking.UnpackBooleans(data, target);
                    break;
                case EncodingKind.Rle:
                    {
                        Need(data, 4, "RLE boolean length");
                        var length = BinaryPrimitives.ReadInt32LittleEndian(data);
                        if (length < 0 || length > data.Length - 4)
                        {
                            throw new InvalidDataException($"RLE booleans declare {length} bytes, the page has {data.Length - 4}");
                        }

                        var bits = Ints(present);
                        RleHybrid.Decode(data.Slice(4, length), 1, bits);
                        for (var i = 0; i < present; i++)
                        {
                            target[i] = bits[i] != 0;
                        }

                        break;
                    }

                default:
                    throw Unsupported(encoding);
            }
        }

        Expand(output, count, present);
    }

    /// <summary>Spreads the <paramref name="present"/> values decoded at the page's start over its rows, nulls getting default.</summary>
    private void Expand<T>(T[] output, int count, int present)
    {
        if (present == count)
        {
            return;
        }

        var defined = _defined.AsSpan(_done, count);
        var span = output.AsSpan(_done, count);
        var k = present - 1;
        for (var i = count - 1; i > k; i--)
        {
            if (defined[i])
            {
                span[i] = span[k--];
            }
            else
            {
                span[i] = default!;
            }
        }
    }

    private void DecodeBinary(EncodingKind encoding, ReadOnlySpan<byte> data, int count, int present)
    {
        var defined = _defined is null ? default : _defined.AsSpan(_done, count);
        if (encoding is EncodingKind.RleDictionary or EncodingKind.PlainDictionary)
        {
            var indices = present > 0 ? DictionaryIndices(data, present, _dictCount) : default;

            // Keep dictionary form (no copying of bytes) as long as every page so far is dictionary-encoded.
            if (_flat is null)
            {
                _rowIndex ??= new int[_rows];
                var rows = _rowIndex.AsSpan(_done, count);
                var k = 0;
                for (var i = 0; i < count; i++)
                {
                    rows[i] = defined.IsEmpty || defined[i] ? indices[k++] : -1;
                }
            }
            else
            {
                var k = 0;
                for (var i = 0; i < count; i++)
                {
                    if (defined.IsEmpty || defined[i])
                    {
                        var index = indices[k++];
                        _flat.Write(_dictData.AsSpan(_dictOffsets![index], _dictOffsets[index + 1] - _dictOffsets[index]));
                    }

                    _flatOffsets![_done + i + 1] = _flat.Length;
                }
            }

            return;
        }

        EnsureFlat();
        var flat = _flat!;
        var offsets = _flatOffsets!;
        switch (encoding)
        {
            case EncodingKind.Plain:
                {
                    var pos = 0;
                    for (var i = 0; i < count; i++)
                    {
                        if (defined.IsEmpty || defined[i])
                        {
                            if (_layout.Physical == PhysicalType.FixedLenByteArray)
                            {
                                Need(data[pos..], _width, "FIXED_LEN_BYTE_ARRAY value");
                                flat.Write(data.Slice(pos, _width));
                                pos += _width;
                            }
                            else
                            {
                                flat.Write(NextPlainBinary(data, ref pos));
                            }
                        }

                        offsets[_done + i + 1] = flat.Length;
                    }

                    break;
                }

            case EncodingKind.DeltaLengthByteArray:
                {
                    var lengths = ArrayPool<long>.Shared.Rent(Math.Max(present, 1));
                    try
                    {
                        var pos = DeltaLengths(data, lengths.AsSpan(0, present));
                        var k = 0;
                        for (var i = 0; i < count; i++)
                        {
                            if (defined.IsEmpty || defined[i])
                            {
                                var length = lengths[k++];
                                if (length < 0 || length > data.Length - pos)
                                {
                                    throw new InvalidDataException($"DELTA_LENGTH_BYTE_ARRAY value of {length} bytes runs past the end of the page");
                                }

                                flat.Write(data.Slice(pos, (int)length));
                                pos += (int)length;
                            }

                            offsets[_done + i + 1] = flat.Length;
                        }
                    }
                    finally
                    {
                        ArrayPool<long>.Shared.Return(lengths);
                    }

                    break;
                }

            case EncodingKind.DeltaByteArray:
                DecodeDeltaByteArray(data, count, present, defined);
                break;
            default:
                throw Unsupported(encoding);
        }
    }

    /// <summary>DELTA_BYTE_ARRAY: prefix lengths, then suffixes as DELTA_LENGTH_BYTE_ARRAY; each value extends the previous one's prefix.</summary>
    private void DecodeDeltaByteArray(ReadOnlySpan<byte> data, int count, int present, ReadOnlySpan<bool> defined)
    {
        var flat = _flat!;
        var offsets = _flatOffsets!;
        var prefixes = ArrayPool<long>.Shared.Rent(Math.Max(present, 1));
        var suffixes = ArrayPool<long>.Shared.Rent(Math.Max(present, 1));
        try
        {
            var pos = DeltaLengths(data, prefixes.AsSpan(0, present));
            pos += DeltaLengths(data[pos..], suffixes.AsSpan(0, present));
            var previousStart = -1;
            var previousLength = 0;
            var k = 0;
            for (var i = 0; i < count; i++)
            {
                if (defined.IsEmpty || defined[i])
                {
                    var prefix = prefixes[k];
                    var suffix = suffixes[k++];
                    if (prefix < 0 || prefix > previousLength || suffix < 0 || suffix > data.Length - pos)
                    {
                        throw new InvalidDataException($"DELTA_BYTE_ARRAY value (prefix {prefix}, suffix {suffix}) is inconsistent");
                    }

                    var start = flat.Length;
                    if (prefix > 0)
                    {
                        // Copy within the buffer: take the span after reserving so a reallocation cannot invalidate it.
                        var target = flat.GetSpan((int)prefix);
                        flat.WrittenSpan.Slice(previousStart, (int)prefix).CopyTo(target);
                        flat.Advance((int)prefix);
                    }

                    flat.Write(data.Slice(pos, (int)suffix));
                    pos += (int)suffix;
                    previousStart = start;
                    previousLength = flat.Length - start;
                }

                offsets[_done + i + 1] = flat.Length;
            }
        }
        finally
        {
            ArrayPool<long>.Shared.Return(prefixes);
            ArrayPool<long>.Shared.Return(suffixes);
        }
    }

    private static int DeltaLengths(ReadOnlySpan<byte> data, Span<long> lengths)
    {
        var pos = ValueDecoders.DeltaBinaryPacked(data, lengths, out var produced);
        if (produced != lengths.Length)
        {
            throw new InvalidDataException($"DELTA lengths hold {produced} values, the page needs {lengths.Length}");
        }

        return pos;
    }

    /// <summary>Switches byte-array output to the flat form, converting rows decoded in dictionary form so far.</summary>
    private void EnsureFlat()
    {
        if (_flat is not null)
        {
            return;
        }

        _flat = new ByteBuffer(4096);
        _flatOffsets = new int[_rows + 1];
        if (_rowIndex is { } rows)
        {
            for (var r = 0; r < _done; r++)
            {
                var index = rows[r];
                if (index >= 0)
                {
                    _flat.Write(_dictData.AsSpan(_dictOffsets![index], _dictOffsets[index + 1] - _dictOffsets[index]));
                }

                _flatOffsets[r + 1] = _flat.Length;
            }

            _rowIndex = null;
        }
    }

    private NotSupportedException Unsupported(EncodingKind encoding) =>
        new($"encoding {Names.Of(encoding)} for {Names.Of(_layout.Physical)} values");

    public void Dispose()
    {
        if (_buffer.Length > 0)
        {
            ArrayPool<byte>.Shared.Return(_buffer);
        }

        if (_ints.Length > 0)
        {
            ArrayPool<int>.Shared.Return(_ints);
        }

        if (_defined is not null)
        {
            ArrayPool<bool>.Shared.Return(_defined);
        }

        _flat?.Dispose();
    }
}

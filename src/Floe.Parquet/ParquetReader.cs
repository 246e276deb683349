using System.Buffers;
using System.Buffers.Binary;
using System.Text;
using Floe.Core;
using Floe.Parquet.Internal;
using Microsoft.Win32.SafeHandles;

namespace Floe.Parquet;

/// <summary>
/// Reads a Parquet file with a flat schema: the footer on open, then column chunks on demand (one ranged read each).
/// <see cref="ReadColumn(int, int)"/> may be called from several threads at once.
/// </summary>
public sealed class ParquetReader : IDisposable
{
    private static readonly byte[] Magic = "PAR1"u8.ToArray();

    private readonly SafeFileHandle? _handle;
    private readonly Stream? _stream;
    private readonly bool _leaveOpen;
    private readonly Lock _streamLock = new();
    private readonly string? _name;
    private readonly long _dataEnd;
    private readonly FileMetaData _metadata;
    private readonly ColumnLayout[] _layouts;
    private long _bytesRead;
    private bool _disposed;

    private ParquetReader(SafeFileHandle? handle, Stream? stream, bool leaveOpen, string? name)
    {
        _handle = handle;
        _stream = stream;
        _leaveOpen = leaveOpen;
        _name = name;

        var length = handle is not null ? RandomAccess.GetLength(handle) : stream!.Length;
        if (length < 12)
        {
            throw Error($"the file is {length} bytes, too short to be Parquet (at least 12)");
        }

        Span<byte> head = stackalloc byte[4];
        ReadAt(0, head);
        Span<byte> tail = stackalloc byte[8];
        ReadAt(length - 8, tail);
        if (head.SequenceEqual("PARE"u8) || tail[4..].SequenceEqual("PARE"u8))
        {
            throw Error("the file is encrypted (PARE), which is not supported");
        }

        if (!head.SequenceEqual(Magic))
        {
            throw Error($"wrong magic at the start ({Describe(head)}, expected \"PAR1\"): not a Parquet file");
        }

        if (!tail[4..].SequenceEqual(Magic))
        {
            throw Error($"wrong magic at the end ({Describe(tail[4..])}, expected \"PAR1\"): not a Parquet file, or truncated");
        }

        var footerLength = BinaryPrimitives.ReadInt32LittleEndian(tail);
        if (footerLength <= 0 || footerLength > length - 12)
        {
            throw Error($"corrupt footer length {footerLength} (the file has {length} bytes)");
        }

        var footer = new byte[footerLength];
        ReadAt(length - 8 - footerLength, footer);
        _dataEnd = length - 8 - footerLength;
        try
        {
            var reader = new CompactReader(footer);
            _metadata = FileMetaData.Read(ref reader);
        }
        catch (ThriftException ex)
        {
            throw Error($"corrupt footer ({footerLength} bytes): {ex.Message}", inner: ex);
        }
        catch (OverflowException ex)
        {
            throw Error($"corrupt footer ({footerLength} bytes): {ex.Message}", inner: ex);
        }

        _layouts = BuildSchema(out var schema);
        Schema = schema;
        RowGroups = BuildRowGroups();
        KeyValueMetadata = BuildKeyValues();
    }

    /// <summary>Opens the file at <paramref name="path"/>; format errors name the path.</summary>
    public static ParquetReader Open(string path)
    {
        ArgumentNullException.ThrowIfNull(path);
        var handle = File.OpenHandle(path, FileMode.Open, FileAccess.Read, FileShare.Read, FileOptions.RandomAccess);
        try
        {
            return new ParquetReader(handle, null, leaveOpen: false, path);
        }
        catch
        {
            handle.Dispose();
            throw;
        }
    }

    /// <summary>Reads from a seekable stream; <paramref name="name"/> (a path, a URL) is used in error messages.</summary>
    public static ParquetReader Open(Stream stream, bool leaveOpen = false, string? name = null)
    {
        ArgumentNullException.ThrowIfNull(stream);
        if (!stream.CanSeek || !stream.CanRead)
        {
            throw new ArgumentException($"Parquet {(name is null ? "" : $"'{name}' ")}needs a readable, seekable stream.", nameof(stream));
        }

        try
        {
            return new ParquetReader(null, stream, leaveOpen, name ?? (stream as FileStream)?.Name);
        }
        catch
        {
            if (!leaveOpen)
            {
                stream.Dispose();
            }

            throw;
        }
    }

    public ParquetSchema Schema { get; }

    public long RowCount => _metadata.NumRows;

    public string? CreatedBy => _metadata.CreatedBy;

    public IReadOnlyDictionary<string, string> KeyValueMetadata { get; }

    public IReadOnlyList<ParquetRowGroupInfo> RowGroups { get; }

    /// <summary>Bytes read from the file so far: the magic bytes and footer on open, then every column chunk read.</summary>
    public long BytesRead => Interlocked.Read(ref _bytesRead);

    /// <summary>The path or name the reader reports in errors.</summary>
    public string? Name => _name;

    public ParquetColumnValues ReadColumn(int rowGroup, string column)
    {
        ArgumentNullException.ThrowIfNull(column);
        var index = Schema.IndexOf(column);
        if (index < 0)
        {
            throw new ArgumentException(
                $"Parquet {Where()}has no column '{column}' (columns: {string.Join(", ", Schema.Fields.Select(f => f.Name))}).", nameof(column));
        }

        return ReadColumn(rowGroup, index);
    }

    public ParquetColumnValues ReadColumn(int rowGroup, int column)
    {
        ObjectDisposedException.ThrowIf(_disposed, this);
        if ((uint)rowGroup >= (uint)_metadata.RowGroups.Count)
        {
            throw new ArgumentOutOfRangeException(nameof(rowGroup), rowGroup, $"Parquet {Where()}has {_metadata.RowGroups.Count} row groups.");
        }

        if ((uint)column >= (uint)_layouts.Length)
        {
            throw new ArgumentOutOfRangeException(nameof(column), column, $"Parquet {Where()}has {_layouts.Length} columns.");
        }

        var layout = _layouts[column];
        var name = layout.Field.Name;
        var group = _metadata.RowGroups[rowGroup];
        var meta = Chunk(rowGroup, column);
        if (group.NumRows is < 0 or > int.MaxValue)
        {
            throw Error($"row group declares {group.NumRows} rows", rowGroup);
        }

        var rows = (int)group.NumRows;
        if (meta.NumValues != rows)
        {
            throw Error($"the chunk holds {meta.NumValues} values for the row group's {rows} rows", rowGroup, name);
        }

        var start = meta.DictionaryPageOffset is { } dictionary && dictionary > 0 && dictionary < meta.DataPageOffset ? dictionary : meta.DataPageOffset;
        var length = meta.TotalCompressedSize;
        if (start < Magic.Length || length < 0 || start + length > _dataEnd || length > Array.MaxLength)
        {
            throw Error($"the chunk's byte range [{start}, {start + length}) lies outside the file's data [4, {_dataEnd})", rowGroup, name);
        }

        var buffer = ArrayPool<byte>.Shared.Rent((int)Math.Max(length, 1));
        try
        {
            var span = buffer.AsSpan(0, (int)length);
            ReadAt(start, span);
            return ChunkDecoder.Decode(span, layout, meta.Codec, rows);
        }
        catch (Exception ex) when (ex is InvalidDataException or NotSupportedException or CodecException or ThriftException or OverflowException)
        {
            var problem = ex is NotSupportedException ? $"unsupported: {ex.Message}" : ex.Message;
            throw Error(problem, rowGroup, name, ex);
        }
        finally
        {
            ArrayPool<byte>.Shared.Return(buffer);
        }
    }

    public void Dispose()
    {
        if (_disposed)
        {
            return;
        }

        _disposed = true;
        _handle?.Dispose();
        if (!_leaveOpen)
        {
            _stream?.Dispose();
        }
    }

    private ColumnMetaData Chunk(int rowGroup, int column)
    {
        var columns = _metadata.RowGroups[rowGroup].Columns;
        var name = _layouts[column].Field.Name;
        if (columns.Count != _layouts.Length)
        {
            throw Error($"the row group has {columns.Count} column chunks for {_layouts.Length} columns", rowGroup);
        }

        var chunk = columns[column];
        if (chunk.FilePath is not null)
        {
            throw Error($"unsupported: the chunk lives in another file ('{chunk.FilePath}')", rowGroup, name);
        }

        return chunk.Meta ?? throw Error("the column chunk has no metadata", rowGroup, name);
    }

    private void ReadAt(long offset, Span<byte> destination)
    {
        int read;
        if (_handle is not null)
        {
            read = 0;
            while (read < destination.Length)
            {
                var n = RandomAccess.Read(_handle, destination[read..], offset + read);
                if (n == 0)
                {
                    break;
                }

                read += n;
            }
        }
        else
        {
            lock (_streamLock)
            {
                _stream!.Position = offset;
                read = _stream.ReadAtLeast(destination, destination.Length, throwOnEndOfStream: false);
            }
        }

        Interlocked.Add(ref _bytesRead, read);
        if (read < destination.Length)
        {
            throw Error($"unexpected end of file reading {destination.Length} bytes at offset {offset} (got {read}): truncated?");
        }
    }

    private ColumnLayout[] BuildSchema(out ParquetSchema schema)
    {
        var elements = _metadata.Schema;
        if (elements.Count < 2)
        {
            throw Error("the schema has no columns");
        }

        var root = elements[0];
        var children = root.NumChildren ?? 0;
        var layouts = new List<ColumnLayout>(children);
        var i = 1;
        for (var child = 0; child < children; child++)
        {
            if (i >= elements.Count)
            {
                throw Error($"the schema's root declares {children} children but only {layouts.Count} follow");
            }

            var element = elements[i];
            if (element.NumChildren is > 0 || element.Type is null)
            {
                throw Error($"column '{element.Name}' is a nested group ({DescribeGroup(element)}); only flat schemas of primitive columns are supported", column: element.Name);
            }

            if (element.Repetition == 2)
            {
                throw Error($"column '{element.Name}' is REPEATED (a list); only flat schemas of required or optional columns are supported", column: element.Name);
            }

            try
            {
                layouts.Add(SchemaMapping.FromElement(element));
            }
            catch (InvalidDataException ex)
            {
                throw Error(ex.Message, column: element.Name, inner: ex);
            }

            i++;
        }

        if (i != elements.Count)
        {
            throw Error($"the schema has {elements.Count - i} elements beyond the root's {children} children");
        }

        try
        {
            schema = new ParquetSchema(layouts.Select(l => l.Field).ToArray());
        }
        catch (ArgumentException ex)
        {
            throw Error($"invalid schema: {ex.Message}", inner: ex);
        }

        return [.. layouts];
    }

    private static string DescribeGroup(SchemaElement element) =>
        element.ConvertedType switch
        {
            ConvertedTypes.List => "a LIST",
            ConvertedTypes.Map or ConvertedTypes.MapKeyValue => "a MAP",
            _ => element.Logical?.Kind switch
            {
                LogicalTypeData.List => "a LIST",
                LogicalTypeData.Map => "a MAP",
                _ => $"a struct of {element.NumChildren ?? 0} fields",
            },
        };

    private List<ParquetRowGroupInfo> BuildRowGroups()
    {
        var result = new List<ParquetRowGroupInfo>(_metadata.RowGroups.Count);
        for (var g = 0; g < _metadata.RowGroups.Count; g++)
        {
            var group = _metadata.RowGroups[g];
            var columns = new List<ParquetColumnChunkInfo>(_layouts.Length);
            long total = 0;
            for (var c = 0; c < _layouts.Length; c++)
            {
                var layout = _layouts[c];
                var meta = Chunk(g, c);
                total += meta.TotalCompressedSize;
                columns.Add(new ParquetColumnChunkInfo
                {
                    Name = layout.Field.Name,
                    Type = layout.Field.Type,
                    Compression = meta.Codec switch
                    {
                        CodecKind.Uncompressed => ParquetCompression.Uncompressed,
                        CodecKind.Snappy => ParquetCompression.Snappy,
                        CodecKind.Gzip => ParquetCompression.Gzip,
                        CodecKind.Zstd => ParquetCompression.Zstd,
                        CodecKind.Brotli => ParquetCompression.Brotli,
                        CodecKind.Lzo => ParquetCompression.Lzo,
                        CodecKind.Lz4 => ParquetCompression.Lz4,
                        CodecKind.Lz4Raw => ParquetCompression.Lz4Raw,
                        _ => throw Error($"unknown compression codec {(int)meta.Codec}", g, layout.Field.Name),
                    },
                    ValueCount = meta.NumValues,
                    CompressedBytes = meta.TotalCompressedSize,
                    UncompressedBytes = meta.TotalUncompressedSize,
                    FileOffset = meta.DictionaryPageOffset is { } d && d > 0 && d < meta.DataPageOffset ? d : meta.DataPageOffset,
                    Encodings = meta.Encodings.Select(Names.Of).ToArray(),
                    Statistics = StatisticsMapping.Read(meta.Statistics, layout),
                });
            }

            result.Add(new ParquetRowGroupInfo { RowCount = group.NumRows, TotalBytes = total, Columns = columns });
        }

        return result;
    }

    private Dictionary<string, string> BuildKeyValues()
    {
        var result = new Dictionary<string, string>(StringComparer.Ordinal);
        foreach (var (key, value) in _metadata.KeyValues)
        {
            result[key] = value ?? "";
        }

        return result;
    }

    private string Where() => _name is null ? "" : $"'{_name}' ";

    private static string Describe(ReadOnlySpan<byte> bytes)
    {
        var builder = new StringBuilder("\"");
        foreach (var b in bytes)
        {
            builder.Append(b is >= 0x20 and < 0x7F ? ((char)b).ToString() : $"\\x{b:X2}");
        }

        return builder.Append('"').ToString();
    }

    private ParquetFormatException Error(string problem, int? rowGroup = null, string? column = null, Exception? inner = null) =>
        new(_name, rowGroup, column, problem, inner);
}

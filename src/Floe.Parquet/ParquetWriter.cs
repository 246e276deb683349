using Floe.Parquet.Internal;

namespace Floe.Parquet;

/// <summary>
/// Writes a Parquet file row group by row group: "PAR1", the column chunks of each row group (encoded in parallel,
/// written in schema order), then on <see cref="Finish"/> the footer. The caller owns the stream (except with
/// <see cref="Create"/>); offsets in the file count from where the stream was when the writer started. Not thread-safe.
/// </summary>
public sealed class ParquetWriter : IDisposable
{
    private static readonly byte[] Magic = "PAR1"u8.ToArray();

    private readonly Stream _output;
    private readonly bool _ownsStream;
    private readonly ParquetSchema _schema;
    private readonly ParquetWriterOptions _options;
    private readonly PageCompressor _compressor;
    private readonly List<RowGroupData> _rowGroups = [];
    private readonly int[] _dictionaryHints;
    private bool _finished;
    private bool _disposed;

    public ParquetWriter(Stream output, ParquetSchema schema, ParquetWriterOptions? options = null)
        : this(output, schema, options, ownsStream: false)
    {
    }

    private ParquetWriter(Stream output, ParquetSchema schema, ParquetWriterOptions? options, bool ownsStream)
    {
        ArgumentNullException.ThrowIfNull(output);
        ArgumentNullException.ThrowIfNull(schema);
        _options = options ?? new ParquetWriterOptions();
        Validate(schema, _options);
        if (!output.CanWrite)
        {
            throw new ArgumentException("The Parquet output stream is not writable.", nameof(output));
        }

        _output = output;
        _ownsStream = ownsStream;
        _schema = schema;
        _dictionaryHints = new int[schema.Fields.Count];
        _compressor = new PageCompressor(_options.Compression, _options.CompressionLevel);
        _output.Write(Magic);
        Position = Magic.Length;
    }

    /// <summary>Creates (or overwrites) the file at <paramref name="path"/>; the writer closes it when disposed.</summary>
    public static ParquetWriter Create(string path, ParquetSchema schema, ParquetWriterOptions? options = null)
    {
        var stream = new FileStream(path, FileMode.Create, FileAccess.Write, FileShare.None, 1 << 16);
        try
        {
            return new ParquetWriter(stream, schema, options, ownsStream: true);
        }
        catch
        {
            stream.Dispose();
            throw;
        }
    }

    public ParquetSchema Schema => _schema;

    /// <summary>Rows written so far.</summary>
    public long RowCount { get; private set; }

    /// <summary>Bytes written so far.</summary>
    public long Position { get; private set; }

    /// <summary>Row groups written so far.</summary>
    public int RowGroupCount => _rowGroups.Count;

    /// <summary>
    /// Writes one row group: one <see cref="ParquetColumnData"/> per schema field, in schema order, all with the
    /// same number of rows. An empty row group (0 rows) is skipped.
    /// </summary>
    public void WriteRowGroup(IReadOnlyList<ParquetColumnData> columns)
    {
        ObjectDisposedException.ThrowIf(_disposed, this);
        ArgumentNullException.ThrowIfNull(columns);
        if (_finished)
        {
            throw new InvalidOperationException("The Parquet file is finished; no more row groups can be written.");
        }

        var fields = _schema.Fields;
        if (columns.Count != fields.Count)
        {
            throw new ArgumentException($"A row group needs {fields.Count} columns ({string.Join(", ", fields.Select(f => f.Name))}), got {columns.Count}.", nameof(columns));
        }

        var rows = -1;
        for (var i = 0; i < fields.Count; i++)
        {
            var field = fields[i];
            var column = columns[i] ?? throw new ArgumentException($"Parquet column '{field.Name}' has no data (null).", nameof(columns));
            if (column.Type != field.Type)
            {
                throw new ArgumentException($"Parquet column '{field.Name}' is {field.Describe()} but was given {column.Kind}.", nameof(columns));
            }

            if (rows < 0)
            {
                rows = column.Count;
            }
            else if (column.Count != rows)
            {
                throw new ArgumentException(
                    $"Parquet column '{field.Name}' has {column.Count} rows but column '{fields[0].Name}' has {rows}; every column of a row group needs the same number.",
                    nameof(columns));
            }
        }

        if (rows == 0)
        {
            return;
        }

        var chunks = new EncodedChunk?[fields.Count];
        try
        {
            var parallelism = Math.Clamp(_options.Parallelism, 1, fields.Count);
            if (parallelism == 1)
            {
                for (var i = 0; i < fields.Count; i++)
                {
                    chunks[i] = ChunkEncoder.Encode(fields[i], columns[i], _options, _compressor, _dictionaryHints[i]);
                }
            }
            else
            {
                try
                {
                    Parallel.For(0, fields.Count, new ParallelOptions { MaxDegreeOfParallelism = parallelism }, i =>
                        chunks[i] = ChunkEncoder.Encode(fields[i], columns[i], _options, _compressor, _dictionaryHints[i]));
                }
                catch (AggregateException ex) when (ex.InnerExceptions.Count > 0)
                {
                    System.Runtime.ExceptionServices.ExceptionDispatchInfo.Capture(ex.InnerExceptions[0]).Throw();
                }
            }

            var group = new RowGroupData { NumRows = rows, FileOffset = Position, Ordinal = (short)Math.Min(_rowGroups.Count, short.MaxValue) };
            long uncompressed = 0, compressed = 0;
            for (var i = 0; i < chunks.Length; i++)
            {
                var chunk = chunks[i];
                _dictionaryHints[i] = chunk!.DictionaryEntries;
                var meta = chunk.Meta;
                var start = Position;
                meta.DataPageOffset += start;
                if (meta.DictionaryPageOffset is { } dictionary)
                {
                    meta.DictionaryPageOffset = dictionary + start;
                }

                _output.Write(chunk.Data.WrittenSpan);
                Position += chunk.Data.Length;
                uncompressed += meta.TotalUncompressedSize;
                compressed += meta.TotalCompressedSize;
                group.Columns.Add(new ColumnChunkData { FileOffset = meta.DictionaryPageOffset ?? meta.DataPageOffset, Meta = meta });
            }

            group.TotalByteSize = uncompressed;
            group.TotalCompressedSize = compressed;
            _rowGroups.Add(group);
            RowCount += rows;
        }
        finally
        {
            foreach (var chunk in chunks)
            {
                chunk?.Dispose();
            }
        }
    }

    /// <summary>Writes the footer and the closing "PAR1" and flushes. The writer accepts nothing more.</summary>
    public void Finish()
    {
        ObjectDisposedException.ThrowIf(_disposed, this);
        if (_finished)
        {
            return;
        }

        var metadata = new FileMetaData
        {
            Version = 1,
            NumRows = RowCount,
            RowGroups = _rowGroups,
            CreatedBy = _options.CreatedBy,
            ColumnOrders = _schema.Fields.Count,
        };
        metadata.Schema.Add(new SchemaElement { Name = "schema", NumChildren = _schema.Fields.Count });
        foreach (var field in _schema.Fields)
        {
            metadata.Schema.Add(SchemaMapping.ToElement(field));
        }

        if (_options.KeyValueMetadata is { } pairs)
        {
            foreach (var (key, value) in pairs.OrderBy(p => p.Key, StringComparer.Ordinal))
            {
                metadata.KeyValues.Add(new(key, value));
            }
        }

        using var footer = new ByteBuffer(1 << 12);
        metadata.Write(new CompactWriter(footer));
        footer.WriteInt32LittleEndian(footer.Length);
        footer.Write(Magic);
        _output.Write(footer.WrittenSpan);
        Position += footer.Length;
        _output.Flush();
        _finished = true;
    }

    public void Dispose()
    {
        if (_disposed)
        {
            return;
        }

        _disposed = true;
        _compressor.Dispose();
        if (_ownsStream)
        {
            _output.Dispose();
        }
    }

    private static void Validate(ParquetSchema schema, ParquetWriterOptions options)
    {
        foreach (var field in schema.Fields)
        {
            if (field.Logical == ParquetLogicalType.Other)
            {
                throw new ArgumentException($"Parquet column '{field.Name}': annotation {field.Annotation} can be read but not written.");
            }
        }

        if (options.DataPageBytes <= 0)
        {
            throw new ArgumentOutOfRangeException(nameof(options), options.DataPageBytes, "DataPageBytes must be positive.");
        }

        if (options.DictionaryPageBytes <= 0)
        {
            throw new ArgumentOutOfRangeException(nameof(options), options.DictionaryPageBytes, "DictionaryPageBytes must be positive.");
        }

        if (options.Compression == ParquetCompression.Zstd && options.CompressionLevel is < Floe.Core.Zstd.MinLevel or > Floe.Core.Zstd.MaxLevel)
        {
            throw new ArgumentOutOfRangeException(nameof(options), options.CompressionLevel, $"zstd levels run from {Floe.Core.Zstd.MinLevel} to {Floe.Core.Zstd.MaxLevel}.");
        }

        if (options.CreatedBy is null)
        {
            throw new ArgumentException("CreatedBy must not be null.", nameof(options));
        }
    }
}

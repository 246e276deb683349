namespace Floe.Parquet;

/// <summary>Column chunk statistics. Min and Max have the column's .NET type (int, long, float, double, bool, string or byte[]).</summary>
public sealed class ParquetStatistics
{
    internal ParquetStatistics(object? min, object? max, long? nullCount, long? distinctCount)
    {
        Min = min;
        Max = max;
        NullCount = nullCount;
        DistinctCount = distinctCount;
    }

    public object? Min { get; }

    public object? Max { get; }

    public long? NullCount { get; }

    public long? DistinctCount { get; }

    public override string ToString() => $"min={Min ?? "?"} max={Max ?? "?"} nulls={NullCount?.ToString() ?? "?"}";
}

public sealed class ParquetColumnChunkInfo
{
    internal ParquetColumnChunkInfo()
    {
    }

    public required string Name { get; init; }

    public required ParquetType Type { get; init; }

    public required ParquetCompression Compression { get; init; }

    /// <summary>Values in the chunk, nulls included (= the row group's rows for flat columns).</summary>
    public required long ValueCount { get; init; }

    /// <summary>Bytes the chunk occupies in the file (page headers included).</summary>
    public required long CompressedBytes { get; init; }

    public required long UncompressedBytes { get; init; }

    /// <summary>Offset of the chunk's first page (its dictionary page when it has one).</summary>
    public required long FileOffset { get; init; }

    /// <summary>Encodings as parquet.thrift names them: "PLAIN", "RLE", "RLE_DICTIONARY", ...</summary>
    public required IReadOnlyList<string> Encodings { get; init; }

    public required ParquetStatistics? Statistics { get; init; }
}

public sealed class ParquetRowGroupInfo
{
    internal ParquetRowGroupInfo()
    {
    }

    public required long RowCount { get; init; }

    /// <summary>Bytes of the row group's column chunks in the file.</summary>
    public required long TotalBytes { get; init; }

    public required IReadOnlyList<ParquetColumnChunkInfo> Columns { get; init; }

    public ParquetColumnChunkInfo Column(string name)
    {
        foreach (var column in Columns)
        {
            if (column.Name == name)
            {
                return column;
            }
        }

        throw new ArgumentException($"The row group has no column '{name}' (columns: {string.Join(", ", Columns.Select(c => c.Name))}).", nameof(name));
    }
}

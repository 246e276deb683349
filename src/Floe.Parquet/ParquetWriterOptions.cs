namespace Floe.Parquet;

public sealed class ParquetWriterOptions
{
    /// <summary>Page compression (Uncompressed, Snappy, Zstd or Gzip).</summary>
    public ParquetCompression Compression { get; init; } = ParquetCompression.Zstd;

    /// <summary>The zstd level (1 to 22; negative levels are faster); for Gzip, ≤ 3 is fastest, ≤ 6 optimal, more smallest.</summary>
    public int CompressionLevel { get; init; } = 3;

    /// <summary>Target uncompressed size of a data page; a row group's column chunk is split into pages of about this size.</summary>
    public int DataPageBytes { get; init; } = 1 << 20;

    /// <summary>Try dictionary encoding for each column chunk (not for booleans).</summary>
    public bool Dictionary { get; init; } = true;

    /// <summary>A column chunk whose dictionary would exceed this many bytes (PLAIN-encoded) is written PLAIN.</summary>
    public int DictionaryPageBytes { get; init; } = 1 << 20;

    /// <summary>Write min, max, null count (and distinct count for dictionary-encoded chunks) per column chunk.</summary>
    public bool Statistics { get; init; } = true;

    public IReadOnlyDictionary<string, string>? KeyValueMetadata { get; init; }

    public string CreatedBy { get; init; } = "floe";

    /// <summary>How many column chunks of one row group are encoded at once.</summary>
    public int Parallelism { get; init; } = Environment.ProcessorCount;
}

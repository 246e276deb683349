using Floe.Parquet;
using Floe.Store;

namespace Floe.Export;

/// <summary>The Parquet type of the value columns.</summary>
public enum ExportValueType
{
    /// <summary>FLOAT for float32 arrays and arrays packed from integers of 16 bits or fewer, else DOUBLE.</summary>
    Auto,
    Float32,
    Float64,
}

/// <summary>What <see cref="ParquetExporter"/> exports where (docs/export.md).</summary>
public sealed class ExportOptions
{
    /// <summary>Arrays sharing one grid; each becomes a value column named after it.</summary>
    public required IReadOnlyList<string> Arrays { get; init; }

    /// <summary>The export's root directory (Hive partitions date=YYYY-MM-DD below it).</summary>
    public required string OutputDirectory { get; init; }

    /// <summary>Branch, tag or snapshot id to export.</summary>
    public string Ref { get; init; } = Repository.MainBranch;

    /// <summary>First time exported (inclusive); default the array's first.</summary>
    public DateTimeOffset? Start { get; init; }

    /// <summary>End of the time range (exclusive); default after the array's last.</summary>
    public DateTimeOffset? End { get; init; }

    public GeoBox? Box { get; init; }

    /// <summary>H3 resolution 0..15; default from the grid spacing (5 for 0.25°, 6 for 0.1°).</summary>
    public int? Resolution { get; init; }

    /// <summary>Drop rows whose values are all zero.</summary>
    public bool DropZero { get; init; }

    /// <summary>Drop rows whose values are all missing (fill value, masked, NaN).</summary>
    public bool DropMissing { get; init; }

    /// <summary>Rows per row group (whole grid points, so a group may hold a few more).</summary>
    public int RowGroupRows { get; init; } = 131_072;

    public ParquetCompression Compression { get; init; } = ParquetCompression.Zstd;

    public int CompressionLevel { get; init; } = 3;

    public ExportValueType ValueType { get; init; } = ExportValueType.Auto;

    /// <summary>Add a millimetre column beside a precipitation array in metres.</summary>
    public bool Millimetres { get; init; } = true;

    /// <summary>Memory for a day's values and the row groups in flight; a day that needs more is split into several files.</summary>
    public long MemoryBytes { get; init; } = 2L << 30;

    /// <summary>Rewrite files the manifest lists as exported from the same snapshot.</summary>
    public bool Overwrite { get; init; }

    /// <summary>The repository's name, recorded in the files' metadata and the manifest.</summary>
    public string? RepositoryName { get; init; }

    /// <summary>Column chunks encoded at once.</summary>
    public int Parallelism { get; init; } = Environment.ProcessorCount;
}

/// <summary>How far an export has got.</summary>
public sealed record ExportProgress(int FilesDone, int FilesTotal, int FilesSkipped, long Rows, long Bytes, TimeSpan Elapsed, string? CurrentFile);

/// <summary>What an export wrote.</summary>
public sealed record ExportResult(
    string Snapshot,
    int Resolution,
    IReadOnlyList<ExportedFile> Files,
    int FilesWritten,
    int FilesSkipped,
    long Rows,
    long Bytes,
    TimeSpan Elapsed)
{
    public double RowsPerSecond => Elapsed.TotalSeconds > 0 ? Rows / Elapsed.TotalSeconds : 0;
}

namespace Floe.Parquet;

/// <summary>A malformed or unsupported Parquet file; the message names the file (when known), row group, column and the problem.</summary>
public sealed class ParquetFormatException : Exception
{
    public ParquetFormatException(string message, Exception? inner = null)
        : base(message, inner)
    {
    }

    internal ParquetFormatException(string? file, int? rowGroup, string? column, string problem, Exception? inner = null)
        : base(Compose(file, rowGroup, column, problem), inner)
    {
        FileName = file;
        RowGroup = rowGroup;
        Column = column;
    }

    /// <summary>The file's path or name, when known.</summary>
    public string? FileName { get; }

    public int? RowGroup { get; }

    public string? Column { get; }

    private static string Compose(string? file, int? rowGroup, string? column, string problem)
    {
        var where = new List<string>(3);
        if (file is not null)
        {
            where.Add($"'{file}'");
        }

        if (rowGroup is { } group)
        {
            where.Add($"row group {group}");
        }

        if (column is not null)
        {
            where.Add($"column '{column}'");
        }

        return where.Count == 0 ? $"Parquet: {problem}" : $"Parquet {string.Join(", ", where)}: {problem}";
    }
}

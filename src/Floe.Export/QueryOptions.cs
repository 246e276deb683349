using System.Globalization;

namespace Floe.Export;

/// <summary>A comparison operator of a value predicate.</summary>
public enum Comparison
{
    Less,
    LessOrEqual,
    Greater,
    GreaterOrEqual,
    Equal,
    NotEqual,
}

/// <summary>One comparison <c>column op number</c> of a <c>--where</c> clause.</summary>
public sealed record ValuePredicate(string Column, Comparison Op, double Value)
{
    private static readonly (string Text, Comparison Op)[] Operators =
    [
        (">=", Comparison.GreaterOrEqual), ("<=", Comparison.LessOrEqual), ("!=", Comparison.NotEqual), ("<>", Comparison.NotEqual),
        ("==", Comparison.Equal), (">", Comparison.Greater), ("<", Comparison.Less), ("=", Comparison.Equal),
    ];

    public bool Matches(double value) => Op switch
    {
        Comparison.Less => value < Value,
        Comparison.LessOrEqual => value <= Value,
        Comparison.Greater => value > Value,
        Comparison.GreaterOrEqual => value >= Value,
        Comparison.Equal => value == Value,
        _ => value != Value,
    };

    /// <summary>Whether some value in [min, max] can match (for skipping a row group by its statistics).</summary>
    public bool CanMatch(double min, double max) => Op switch
    {
        Comparison.Less => min < Value,
        Comparison.LessOrEqual => min <= Value,
        Comparison.Greater => max > Value,
        Comparison.GreaterOrEqual => max >= Value,
        Comparison.Equal => min <= Value && Value <= max,
        _ => !(min == Value && max == Value),
    };

    /// <summary>Parses "tp_mm > 10 AND tp_mm &lt;= 50" (comparisons joined by AND, case-insensitive).</summary>
    public static IReadOnlyList<ValuePredicate> ParseAll(string text)
    {
        ArgumentNullException.ThrowIfNull(text);
        var parts = System.Text.RegularExpressions.Regex.Split(text, @"\s+and\s+", System.Text.RegularExpressions.RegexOptions.IgnoreCase);
        return parts.Select(p => Parse(p, text)).ToArray();
    }

    private static ValuePredicate Parse(string part, string whole)
    {
        foreach (var (symbol, op) in Operators)
        {
            var at = part.IndexOf(symbol, StringComparison.Ordinal);
            if (at <= 0)
            {
                continue;
            }

            var column = part[..at].Trim();
            var number = part[(at + symbol.Length)..].Trim();
            if (column.Length == 0 || number.Length == 0 || !column.All(ch => char.IsLetterOrDigit(ch) || ch == '_'))
            {
                break;
            }

            if (!double.TryParse(number, NumberStyles.Float, CultureInfo.InvariantCulture, out var value) || double.IsNaN(value))
            {
                throw new ArgumentException($"--where \"{whole}\": \"{number}\" in \"{part.Trim()}\" is not a number");
            }

            return new ValuePredicate(column, op, value);
        }

        throw new ArgumentException($"--where \"{whole}\": \"{part.Trim()}\" is not COLUMN OP NUMBER (OP one of > >= < <= = !=), comparisons joined by AND");
    }

    public override string ToString()
    {
        var symbol = Op switch
        {
            Comparison.Less => "<",
            Comparison.LessOrEqual => "<=",
            Comparison.Greater => ">",
            Comparison.GreaterOrEqual => ">=",
            Comparison.Equal => "=",
            _ => "!=",
        };
        return $"{Column} {symbol} {Value.ToString("R", CultureInfo.InvariantCulture)}";
    }
}

/// <summary>How aggregate rows are grouped.</summary>
public enum QueryGrouping
{
    None,
    Date,
    Cell,
}

/// <summary>What <see cref="ExportQuery"/> selects (docs/export.md, floe query).</summary>
public sealed class QueryOptions
{
    /// <summary>The export's root directory.</summary>
    public required string Directory { get; init; }

    /// <summary>Files of the export to read instead of all of them (paths absolute or relative to <see cref="Directory"/>), e.g. those a STAC search found.</summary>
    public IReadOnlyList<string>? Files { get; init; }

    public DateTimeOffset? Start { get; init; }

    public DateTimeOffset? End { get; init; }

    public GeoBox? Box { get; init; }

    /// <summary>H3 cells at any resolution: rows in one of them or in a descendant match.</summary>
    public IReadOnlyList<ulong>? Cells { get; init; }

    public IReadOnlyList<ValuePredicate> Where { get; init; } = [];

    /// <summary>Columns of the rows returned; default all.</summary>
    public IReadOnlyList<string>? Columns { get; init; }

    /// <summary>Return aggregates instead of rows.</summary>
    public bool Aggregate { get; init; }

    public QueryGrouping GroupBy { get; init; }

    /// <summary>With <see cref="QueryGrouping.Cell"/>: the resolution of the cells grouped by.</summary>
    public int GroupResolution { get; init; }

    /// <summary>At most this many rows are returned (aggregates are never limited).</summary>
    public long? Limit { get; init; }

    /// <summary>Files read at once for aggregates.</summary>
    public int Parallelism { get; init; } = Environment.ProcessorCount;
}

/// <summary>What a query read: files and row groups out of the totals, bytes, rows scanned and matched.</summary>
public sealed record QueryStatistics(int Files, int FilesRead, int RowGroups, int RowGroupsRead, long BytesRead, long RowsScanned, long RowsMatched, TimeSpan Elapsed);

/// <summary>Count, sum, min and max of one value column over a group's matching rows (nulls not counted).</summary>
public sealed class ColumnAggregate
{
    public long Count { get; private set; }

    public double Sum { get; private set; }

    public double Min { get; private set; } = double.PositiveInfinity;

    public double Max { get; private set; } = double.NegativeInfinity;

    public double? Mean => Count > 0 ? Sum / Count : null;

    public void Add(double value)
    {
        Count++;
        Sum += value;
        Min = Math.Min(Min, value);
        Max = Math.Max(Max, value);
    }

    public void Merge(ColumnAggregate other)
    {
        Count += other.Count;
        Sum += other.Sum;
        Min = Math.Min(Min, other.Min);
        Max = Math.Max(Max, other.Max);
    }
}

/// <summary>One aggregate row: the group key (a date, a cell in hex, or empty), the matching rows and each value column's aggregate.</summary>
public sealed record AggregateRow(string Key, long Rows, IReadOnlyDictionary<string, ColumnAggregate> Columns);

using System.Collections.Concurrent;
using System.Diagnostics;
using System.Globalization;
using System.Text.Json.Nodes;
using Floe.Parquet;
using H3Index = Floe.H3.H3;

namespace Floe.Export;

/// <summary>
/// Answers time + place + value questions over an export (docs/export.md, floe query), skipping date partitions by
/// name and row groups by their statistics, and counting what it read.
/// </summary>
public sealed class ExportQuery(QueryOptions options)
{
    private static readonly string[] KeyColumns = ["time", "h3", "lat", "lon"];
    private readonly ConcurrentDictionary<int, CellRanges?> _ranges = new();
    private int _files;
    private int _filesRead;
    private int _rowGroups;
    private int _rowGroupsRead;
    private long _bytes;
    private long _scanned;
    private long _matched;

    /// <summary>The columns of the rows handed to the row callback, in order (set once the first file is opened).</summary>
    public IReadOnlyList<string> RowColumns { get; private set; } = [];

    /// <summary>
    /// Runs the query. Without <see cref="QueryOptions.Aggregate"/> every matching row goes to <paramref name="onRow"/>
    /// (values in <see cref="RowColumns"/> order: time as DateTimeOffset, h3 as long, numbers as double, null where
    /// missing) up to the limit; with it, the aggregate rows are returned.
    /// </summary>
    public (IReadOnlyList<AggregateRow> Aggregates, QueryStatistics Statistics) Run(Action<object?[]>? onRow = null, CancellationToken cancellationToken = default)
    {
        var clock = Stopwatch.StartNew();
        Validate();
        var files = FindFiles();
        var groups = new Dictionary<string, (long Rows, Dictionary<string, ColumnAggregate> Columns)>(StringComparer.Ordinal);
        if (options.Aggregate)
        {
            var partials = new ConcurrentBag<Dictionary<string, (long Rows, Dictionary<string, ColumnAggregate> Columns)>>();
            Parallel.ForEach(files, new ParallelOptions { MaxDegreeOfParallelism = Math.Max(1, options.Parallelism), CancellationToken = cancellationToken }, file =>
            {
                var local = new Dictionary<string, (long Rows, Dictionary<string, ColumnAggregate> Columns)>(StringComparer.Ordinal);
                ScanFile(file, local, null, cancellationToken);
                partials.Add(local);
            });
            foreach (var partial in partials)
            {
                foreach (var (key, value) in partial)
                {
                    if (!groups.TryGetValue(key, out var into))
                    {
                        groups[key] = value;
                        continue;
                    }

                    foreach (var (column, aggregate) in value.Columns)
                    {
                        if (into.Columns.TryGetValue(column, out var existing))
                        {
                            existing.Merge(aggregate);
                        }
                        else
                        {
                            into.Columns[column] = aggregate;
                        }
                    }

                    groups[key] = (into.Rows + value.Rows, into.Columns);
                }
            }
        }
        else
        {
            foreach (var file in files)
            {
                if (options.Limit is { } limit && Interlocked.Read(ref _matched) >= limit)
                {
                    break;
                }

                ScanFile(file, null, onRow, cancellationToken);
            }
        }

        var rows = groups.OrderBy(g => g.Key, StringComparer.Ordinal)
            .Select(g => new AggregateRow(g.Key, g.Value.Rows, g.Value.Columns))
            .ToList();
        if (options.Aggregate && rows.Count == 0 && options.GroupBy == QueryGrouping.None)
        {
            rows.Add(new AggregateRow("", 0, new Dictionary<string, ColumnAggregate>()));
        }

        return (rows, new QueryStatistics(_files, _filesRead, _rowGroups, _rowGroupsRead, _bytes, _scanned, _matched, clock.Elapsed));
    }

    private void Validate()
    {
        if (options.Start is { } s && options.End is { } e && s >= e)
        {
            throw new ExportException($"time range --start {ExportManifest.Iso(s)} --end {ExportManifest.Iso(e)} is empty: the end must be after the start");
        }

        if (options.Box is not null && options.Cells is { Count: > 0 })
        {
            throw new ExportException("give --bbox or --cells, not both");
        }

        foreach (var cell in options.Cells ?? [])
        {
            if (!H3Index.IsValidCell(cell))
            {
                throw new ExportException($"--cells: {H3Index.ToHex(cell)} is not a valid H3 cell");
            }
        }

        if (options.GroupBy == QueryGrouping.Cell && (options.GroupResolution < 0 || options.GroupResolution > H3Index.MaxResolution))
        {
            throw new ExportException($"--group-by cell:{options.GroupResolution}: the resolution must be 0..15");
        }

        if (options.Limit is < 0)
        {
            throw new ExportException($"--limit must not be negative, got {options.Limit}");
        }
    }

    /// <summary>
    /// The export's Parquet files, pruned by their date partition. Files of a day split into time runs are pruned
    /// by their row groups' time statistics once opened: cheaper than parsing the manifest on every query.
    /// </summary>
    private List<string> FindFiles()
    {
        var root = Path.GetFullPath(options.Directory);
        if (!Directory.Exists(root))
        {
            throw new ExportException($"query: {root} is not a directory (give the directory an export wrote)");
        }

        var start = options.Start;
        var end = options.End;
        var all = new List<(string Path, DateOnly? Date)>();
        if (options.Files is { } files)
        {
            // Files chosen elsewhere (a STAC search): each must be one of the export's.
            foreach (var file in files.Select(f => Path.GetFullPath(f, root)).Distinct(StringComparer.Ordinal))
            {
                if (!file.StartsWith(Path.TrimEndingDirectorySeparator(root) + Path.DirectorySeparatorChar, StringComparison.Ordinal) || !File.Exists(file))
                {
                    throw new ExportException($"--files: {file} is not a Parquet file of the export in {root}");
                }

                all.Add((file, PartitionDate(root, file)));
            }
        }
        else
        {
            foreach (var file in Directory.EnumerateFiles(root, "*.parquet", SearchOption.AllDirectories))
            {
                if (!Path.GetFileName(file).StartsWith('.'))
                {
                    all.Add((file, PartitionDate(root, file)));
                }
            }
        }

        all.Sort((a, b) => string.CompareOrdinal(a.Path, b.Path));
        _files = all.Count;
        var kept = new List<string>();
        foreach (var (path, date) in all)
        {
            if (date is { } d)
            {
                var dayStart = new DateTimeOffset(d.ToDateTime(TimeOnly.MinValue), TimeSpan.Zero);
                if ((end is { } e && dayStart >= e) || (start is { } s && dayStart.AddDays(1) <= s))
                {
                    continue;
                }
            }

            kept.Add(path);
        }

        return kept;
    }

    private static DateOnly? PartitionDate(string root, string file)
    {
        foreach (var part in Path.GetRelativePath(root, Path.GetDirectoryName(file)!).Split(Path.DirectorySeparatorChar))
        {
            if (part.StartsWith("date=", StringComparison.Ordinal)
                && DateOnly.TryParseExact(part[5..], "yyyy-MM-dd", CultureInfo.InvariantCulture, DateTimeStyles.None, out var date))
            {
                return date;
            }
        }

        return null;
    }

    private void ScanFile(string path, Dictionary<string, (long Rows, Dictionary<string, ColumnAggregate> Columns)>? groups, Action<object?[]>? onRow,
        CancellationToken cancellationToken)
    {
        using var reader = ParquetReader.Open(path);
        try
        {
            ScanRowGroups(reader, path, groups, onRow, cancellationToken);
        }
        finally
        {
            Interlocked.Add(ref _bytes, reader.BytesRead);
        }
    }

    private void ScanRowGroups(ParquetReader reader, string path, Dictionary<string, (long Rows, Dictionary<string, ColumnAggregate> Columns)>? groups,
        Action<object?[]>? onRow, CancellationToken cancellationToken)
    {
        var schema = reader.Schema;
        foreach (var key in KeyColumns)
        {
            if (schema.IndexOf(key) < 0)
            {
                throw new ExportException($"{path} has no column \"{key}\"; it is not a file of a Floe export");
            }
        }

        var valueColumns = schema.Fields.Where(f => !KeyColumns.Contains(f.Name) && f.Type is ParquetType.Float or ParquetType.Double).Select(f => f.Name).ToArray();
        foreach (var predicate in options.Where)
        {
            if (!valueColumns.Contains(predicate.Column))
            {
                throw new ExportException($"--where {predicate}: {path} has no value column \"{predicate.Column}\" (its value columns: {string.Join(", ", valueColumns)})");
            }
        }

        var outputColumns = options.Columns ?? [.. KeyColumns, .. valueColumns];
        foreach (var column in outputColumns)
        {
            if (schema.IndexOf(column) < 0)
            {
                throw new ExportException($"--columns: {path} has no column \"{column}\" (its columns: {string.Join(", ", schema.Fields.Select(f => f.Name))})");
            }
        }

        if (onRow is not null)
        {
            RowColumns = outputColumns;
        }

        var timeField = schema.Fields[schema.IndexOf("time")];
        var resolution = FileResolution(reader);
        var ranges = resolution is { } r ? _ranges.GetOrAdd(r, CellRangesAt) : null;
        var start = options.Start is { } s ? ExportGrid.ToMicros(s) : long.MinValue;
        var end = options.End is { } e ? ExportGrid.ToMicros(e) : long.MaxValue;
        var read = false;
        for (var g = 0; g < reader.RowGroups.Count; g++)
        {
            cancellationToken.ThrowIfCancellationRequested();
            Interlocked.Increment(ref _rowGroups);
            if (onRow is not null && options.Limit is { } limit && Interlocked.Read(ref _matched) >= limit)
            {
                continue;
            }

            var info = reader.RowGroups[g];
            if (!MayMatch(info, timeField, start, end, ranges))
            {
                continue;
            }

            Interlocked.Increment(ref _rowGroupsRead);
            read = true;
            ScanRowGroup(reader, g, info.RowCount, timeField, start, end, ranges, valueColumns, outputColumns, groups, onRow);
        }

        if (read)
        {
            Interlocked.Increment(ref _filesRead);
        }
    }

    private bool MayMatch(ParquetRowGroupInfo info, ParquetField timeField, long start, long end, CellRanges? ranges)
    {
        if ((start != long.MinValue || end != long.MaxValue) && info.Column("time").Statistics is { Min: long tMin, Max: long tMax })
        {
            if (ToMicros(tMax, timeField) < start || ToMicros(tMin, timeField) >= end)
            {
                return false;
            }
        }

        if (ranges is not null && info.Column("h3").Statistics is { Min: long hMin, Max: long hMax } && !ranges.Overlaps(hMin, hMax))
        {
            return false;
        }

        foreach (var predicate in options.Where)
        {
            var statistics = info.Column(predicate.Column).Statistics;
            if (statistics is null)
            {
                continue;
            }

            if (statistics.Min is null && statistics.NullCount is { } nulls && nulls >= info.RowCount)
            {
                return false; // only nulls, and a missing value never matches
            }

            if (AsDouble(statistics.Min) is { } min && AsDouble(statistics.Max) is { } max && !predicate.CanMatch(min, max))
            {
                return false;
            }
        }

        return true;
    }

    private void ScanRowGroup(ParquetReader reader, int g, long rowCount, ParquetField timeField, long start, long end, CellRanges? ranges,
        string[] valueColumns, IReadOnlyList<string> outputColumns, Dictionary<string, (long Rows, Dictionary<string, ColumnAggregate> Columns)>? groups,
        Action<object?[]>? onRow)
    {
        var needTime = start != long.MinValue || end != long.MaxValue || (groups is not null && options.GroupBy == QueryGrouping.Date)
            || (onRow is not null && outputColumns.Contains("time"));
        var needCell = ranges is not null || (groups is not null && options.GroupBy == QueryGrouping.Cell) || (onRow is not null && outputColumns.Contains("h3"));
        var needPlace = options.Box is not null || (onRow is not null && (outputColumns.Contains("lat") || outputColumns.Contains("lon")));
        var wanted = valueColumns.Where(c => groups is not null || options.Where.Any(p => p.Column == c) || outputColumns.Contains(c)).ToArray();
        string[] keys = [.. new[] { (needTime, "time"), (needCell, "h3"), (needPlace, "lat"), (needPlace, "lon") }.Where(k => k.Item1).Select(k => k.Item2)];
        var columns = keys.Concat(wanted).ToArray();
        // The row group's column chunks are read and decoded in parallel.
        var data = new ParquetColumnValues[columns.Length];
        Parallel.For(0, columns.Length, c => data[c] = reader.ReadColumn(g, columns[c]));
        ParquetColumnValues? Column(string name) => Array.IndexOf(columns, name) is var at and >= 0 ? data[at] : null;
        var time = Column("time")?.AsInt64();
        var cells = Column("h3")?.AsInt64();
        var lat = Column("lat")?.AsDouble();
        var lon = Column("lon")?.AsDouble();
        var values = new Dictionary<string, (double[] Values, bool[]? Defined)>(StringComparer.Ordinal);
        foreach (var column in wanted)
        {
            var chunk = Column(column)!;
            var numbers = chunk.Field.Type == ParquetType.Float ? Array.ConvertAll(chunk.AsFloat(), v => (double)v) : chunk.AsDouble();
            values[column] = (numbers, chunk.Defined);
        }

        var predicates = options.Where.Select(p => (p, values[p.Column])).ToArray();
        var box = options.Box;
        long scanned = 0, matched = 0;
        for (var r = 0; r < rowCount; r++)
        {
            scanned++;
            long micros = 0;
            if (time is not null)
            {
                micros = ToMicros(time[r], timeField);
                if (micros < start || micros >= end)
                {
                    continue;
                }
            }

            if (ranges is not null && !ranges.Contains(cells![r]))
            {
                continue;
            }

            if (box is not null && !box.Contains(lat![r], lon![r]))
            {
                continue;
            }

            var pass = true;
            foreach (var (predicate, (numbers, defined)) in predicates)
            {
                if ((defined is not null && !defined[r]) || !predicate.Matches(numbers[r]))
                {
                    pass = false;
                    break;
                }
            }

            if (!pass)
            {
                continue;
            }

            if (onRow is not null)
            {
                if (options.Limit is { } limit && Interlocked.Increment(ref _matched) > limit)
                {
                    Interlocked.Decrement(ref _matched);
                    break;
                }

                if (options.Limit is null)
                {
                    Interlocked.Increment(ref _matched);
                }

                var row = new object?[outputColumns.Count];
                for (var c = 0; c < row.Length; c++)
                {
                    row[c] = outputColumns[c] switch
                    {
                        "time" => ExportGrid.FromMicros(micros),
                        "h3" => cells![r],
                        "lat" => lat![r],
                        "lon" => lon![r],
                        var name => values[name].Defined is { } d && !d[r] ? null : values[name].Values[r],
                    };
                }

                onRow(row);
                continue;
            }

            matched++;
            var key = options.GroupBy switch
            {
                QueryGrouping.Date => ExportGrid.FromMicros(micros).UtcDateTime.ToString("yyyy-MM-dd", CultureInfo.InvariantCulture),
                QueryGrouping.Cell => H3Index.ToHex(H3Index.CellToParent((ulong)cells![r], Math.Min(options.GroupResolution, H3Index.GetResolution((ulong)cells[r])))),
                _ => "",
            };
            if (!groups!.TryGetValue(key, out var group))
            {
                group = (0, valueColumns.ToDictionary(c => c, _ => new ColumnAggregate(), StringComparer.Ordinal));
            }

            foreach (var column in valueColumns)
            {
                var (numbers, defined) = values[column];
                if (defined is null || defined[r])
                {
                    group.Columns[column].Add(numbers[r]);
                }
            }

            groups[key] = (group.Rows + 1, group.Columns);
        }

        Interlocked.Add(ref _scanned, scanned);
        if (onRow is null)
        {
            Interlocked.Add(ref _matched, matched);
        }
    }

    private static int? FileResolution(ParquetReader reader)
    {
        if (reader.KeyValueMetadata.TryGetValue("floe.export", out var json) && JsonNode.Parse(json)?["h3_resolution"] is JsonValue value
            && value.TryGetValue<int>(out var resolution))
        {
            return resolution;
        }

        foreach (var group in reader.RowGroups)
        {
            if (group.Column("h3").Statistics is { Min: long min })
            {
                return H3Index.GetResolution((ulong)min);
            }
        }

        return null;
    }

    /// <summary>Sorted, merged ranges of cells at one resolution that the place filter can match.</summary>
    private CellRanges? CellRangesAt(int resolution)
    {
        if (options.Cells is { Count: > 0 } cells)
        {
            return CellRanges.FromCells(cells.Select(c => H3Index.GetResolution(c) <= resolution
                ? H3Index.ChildRange(c, resolution)
                : (H3Index.CellToParent(c, resolution), H3Index.CellToParent(c, resolution))));
        }

        if (options.Box is not { } box || (box.West == -180 && box.East == 180 && box.South == -90 && box.North == 90))
        {
            return null;
        }

        var coarse = Math.Max(0, resolution - 2);
        var cover = new HashSet<ulong>(H3Index.BoxToCells(box.South, box.West, box.North, box.East, coarse));
        // Cells whose centres are outside the box can still hold points inside it: add the cells of points along
        // the box's edges (closer together than a cell) and then every cell's neighbours.
        var stepDegrees = H3Index.AverageHexagonEdgeLengthKm(coarse) / 2 / 111.195;
        var width = box.CrossesAntimeridian ? box.East + 360 - box.West : box.East - box.West;
        var alongLon = Math.Max(2, (int)Math.Ceiling(width / stepDegrees) + 1);
        var alongLat = Math.Max(2, (int)Math.Ceiling((box.North - box.South) / stepDegrees) + 1);
        for (var k = 0; k < alongLon; k++)
        {
            var lon = GeoBox.NormalizeLongitude(box.West + width * k / (alongLon - 1));
            cover.Add(H3Index.LatLngToCell(box.South, lon, coarse));
            cover.Add(H3Index.LatLngToCell(box.North, lon, coarse));
        }

        for (var k = 0; k < alongLat; k++)
        {
            var lat = box.South + (box.North - box.South) * k / (alongLat - 1);
            cover.Add(H3Index.LatLngToCell(lat, box.West, coarse));
            cover.Add(H3Index.LatLngToCell(lat, GeoBox.NormalizeLongitude(box.East), coarse));
        }

        var widened = new HashSet<ulong>();
        foreach (var cell in cover)
        {
            widened.UnionWith(H3Index.GridDisk(cell, 1));
        }

        return CellRanges.FromCells(widened.Select(c => H3Index.ChildRange(c, resolution)));
    }

    private static long ToMicros(long value, ParquetField field) => field.TimestampUnit switch
    {
        ParquetTimeUnit.Millis => value * 1000,
        ParquetTimeUnit.Nanos => value / 1000,
        _ => value,
    };

    private static double? AsDouble(object? value) => value switch
    {
        float f when !float.IsNaN(f) => f,
        double d when !double.IsNaN(d) => d,
        int i => i,
        long l => l,
        _ => null,
    };

    /// <summary>Closed ranges of cell indices, sorted and merged, for binary search.</summary>
    private sealed class CellRanges
    {
        private readonly long[] _first;
        private readonly long[] _last;

        private CellRanges(long[] first, long[] last)
        {
            _first = first;
            _last = last;
        }

        public static CellRanges FromCells(IEnumerable<(ulong First, ulong Last)> ranges)
        {
            var sorted = ranges.Select(r => ((long)r.First, (long)r.Last)).OrderBy(r => r.Item1).ToList();
            var first = new List<long>();
            var last = new List<long>();
            foreach (var (a, b) in sorted)
            {
                if (last.Count > 0 && a <= last[^1] + 1)
                {
                    last[^1] = Math.Max(last[^1], b);
                }
                else
                {
                    first.Add(a);
                    last.Add(b);
                }
            }

            return new CellRanges([.. first], [.. last]);
        }

        public bool Contains(long cell)
        {
            var i = Array.BinarySearch(_first, cell);
            if (i >= 0)
            {
                return true;
            }

            i = ~i - 1;
            return i >= 0 && cell <= _last[i];
        }

        public bool Overlaps(long min, long max)
        {
            // The last range starting at or before max must end at or after min.
            var i = Array.BinarySearch(_first, max);
            i = i >= 0 ? i : ~i - 1;
            return i >= 0 && _last[i] >= min;
        }
    }
}

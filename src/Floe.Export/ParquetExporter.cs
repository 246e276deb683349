using System.Buffers.Binary;
using System.Diagnostics;
using System.Globalization;
using System.Text.Json.Nodes;
using Floe.Core;
using Floe.Parquet;
using Floe.Store;

namespace Floe.Export;

/// <summary>
/// Exports arrays to Hive-partitioned Parquet files of rows (time, h3, lat, lon, values) ordered by cell, point and
/// time (docs/export.md). Every file is written under a hidden temporary name and renamed when complete; the
/// manifest beside the files is rewritten after each, so an interrupted export resumes where it stopped.
/// </summary>
public sealed class ParquetExporter(Repository repository, ExportOptions options)
{
    private const string PartialSuffix = ".partial";
    private const long MaxRegionBytes = 1L << 30;

    private long _rows;
    private long _bytes;

    public async Task<ExportResult> RunAsync(IProgress<ExportProgress>? progress = null, CancellationToken cancellationToken = default)
    {
        var clock = Stopwatch.StartNew();
        Validate();
        var reader = await repository.ReadOnlyAsync(options.Ref, cancellationToken);
        var snapshot = reader.Snapshot.Id.ToString();
        var grid = await ExportGrid.LoadAsync(reader, options.Arrays, cancellationToken);
        var resolution = options.Resolution ?? grid.DefaultResolution();
        var columns = ValueColumns(grid);
        var steps = SelectTimes(grid);
        var cells = await Task.Run(() => GridCells.Compute(grid.Lat, grid.Lon, options.Box, resolution), cancellationToken);
        if (cells.Count == 0)
        {
            throw new ExportException($"--bbox {options.Box}: no grid point of {grid.Arrays[0]} lies in the box");
        }

        var plans = PlanFiles(grid, cells, steps);
        var output = Path.GetFullPath(options.OutputDirectory);
        Directory.CreateDirectory(output);
        RemovePartials(output);
        var manifest = OpenManifest(output, grid, resolution, columns);
        var bbox = Extent(grid, cells, null);
        var coarse = CoarseCells(cells, null);

        var files = new List<ExportedFile>();
        int written = 0, skipped = 0;
        void Report(string? current) =>
            progress?.Report(new ExportProgress(written + skipped, plans.Count, skipped, Interlocked.Read(ref _rows), Interlocked.Read(ref _bytes), clock.Elapsed, current));

        foreach (var plan in plans)
        {
            cancellationToken.ThrowIfCancellationRequested();
            if (!options.Overwrite && manifest.Files.TryGetValue(plan.RelativePath, out var done) && done.Snapshot == snapshot
                && File.Exists(Path.Combine(output, plan.RelativePath)))
            {
                files.Add(done);
                skipped++;
                Report(null);
                continue;
            }

            Report(plan.RelativePath);
            var file = await WriteFileAsync(reader, grid, cells, columns, plan, output, snapshot, resolution, bbox, coarse, cancellationToken);
            manifest.Files[file.Path] = file;
            manifest.Save(output);
            files.Add(file);
            written++;
            Report(null);
        }

        return new ExportResult(snapshot, resolution, files, written, skipped, _rows, _bytes, clock.Elapsed);
    }

    private void Validate()
    {
        if (options.Resolution is { } r && (r < 0 || r > Floe.H3.H3.MaxResolution))
        {
            throw new ExportException($"--resolution {r} is not an H3 resolution (0..15)");
        }

        if (options.Start is { } start && options.End is { } end && start >= end)
        {
            throw new ExportException($"time range --start {ExportManifest.Iso(start)} --end {ExportManifest.Iso(end)} is empty: the end must be after the start");
        }

        if (options.RowGroupRows < 1)
        {
            throw new ExportException($"--row-group-rows must be at least 1, got {options.RowGroupRows}");
        }

        if (options.MemoryBytes < 1 << 20)
        {
            throw new ExportException($"--memory must be at least 1 MiB, got {options.MemoryBytes} bytes");
        }

        if (options.Compression == ParquetCompression.Zstd && (options.CompressionLevel < Zstd.MinLevel || options.CompressionLevel > Zstd.MaxLevel))
        {
            throw new ExportException($"--level {options.CompressionLevel} is outside zstd's [{Zstd.MinLevel}, {Zstd.MaxLevel}]");
        }

        if (options.Compression == ParquetCompression.Gzip)
        {
            throw new ExportException("--compression gzip is not written; choose zstd, snappy or none");
        }
    }

    /// <summary>The value columns: one per array, plus a millimetre column for precipitation in metres.</summary>
    private List<ValueColumn> ValueColumns(ExportGrid grid)
    {
        var columns = new List<ValueColumn>();
        var names = new HashSet<string>(["time", "h3", "lat", "lon", "date"], StringComparer.OrdinalIgnoreCase);
        for (var a = 0; a < grid.Arrays.Count; a++)
        {
            var metadata = grid.Metadata[a];
            var name = NodePath.Name(grid.Arrays[a]);
            var float32 = options.ValueType switch
            {
                ExportValueType.Float32 => true,
                ExportValueType.Float64 => false,
                _ => metadata.DataType == DataType.Float32 || PackedNarrow(metadata),
            };
            var units = Text(metadata.Attributes, "units");
            Add(new ValueColumn(name, a, 1, float32, units));
            if (options.Millimetres && units == "m" && IsPrecipitation(name, metadata.Attributes))
            {
                Add(new ValueColumn(name + "_mm", a, 1000, float32, "mm"));
            }
        }

        return columns;

        void Add(ValueColumn column)
        {
            if (!names.Add(column.Name))
            {
                throw new ExportException($"--array: the column name \"{column.Name}\" is taken (by time, h3, lat, lon, date or another array); export arrays with distinct names");
            }

            columns.Add(column);
        }
    }

    private static bool PackedNarrow(ArrayMetadata metadata) =>
        metadata.Codecs.Any(c => c.Name == "cf_scale_offset" && c.Configuration?["packed_type"] is JsonValue v && v.TryGetValue<string>(out var type)
            && type is "int8" or "uint8" or "int16" or "uint16");

    private static bool IsPrecipitation(string name, JsonObject attributes) =>
        name == "tp" || name.Contains("precip", StringComparison.OrdinalIgnoreCase)
        || (Text(attributes, "long_name")?.Contains("precipitation", StringComparison.OrdinalIgnoreCase) ?? false)
        || (Text(attributes, "standard_name")?.Contains("precipitation", StringComparison.OrdinalIgnoreCase) ?? false);

    private static string? Text(JsonObject attributes, string name) =>
        attributes[name] is JsonValue value && value.TryGetValue<string>(out var text) ? text : null;

    /// <summary>The time positions in the requested range, in order.</summary>
    private List<int> SelectTimes(ExportGrid grid)
    {
        var start = options.Start is { } s ? ExportGrid.ToMicros(s) : long.MinValue;
        var end = options.End is { } e ? ExportGrid.ToMicros(e) : long.MaxValue;
        var selected = new List<int>();
        long first = long.MaxValue, last = long.MinValue;
        for (var i = 0; i < grid.TimeMicros.Length; i++)
        {
            if (!grid.TimeKnown[i])
            {
                continue;
            }

            var t = grid.TimeMicros[i];
            first = Math.Min(first, t);
            last = Math.Max(last, t);
            if (t >= start && t < end)
            {
                selected.Add(i);
            }
        }

        if (selected.Count == 0)
        {
            var extent = first == long.MaxValue ? "it has no time steps"
                : $"its time steps run from {ExportManifest.Iso(ExportGrid.FromMicros(first))} to {ExportManifest.Iso(ExportGrid.FromMicros(last))}";
            var range = $"{(options.Start is { } a ? ExportManifest.Iso(a) : "the start")} to {(options.End is { } b ? ExportManifest.Iso(b) : "the end")}";
            throw new ExportException($"time range {range} holds no time step of {grid.Arrays[0]}: {extent}");
        }

        return selected;
    }

    /// <summary>One file per UTC day, or several runs of time steps when a day does not fit half the memory budget.</summary>
    private List<FilePlan> PlanFiles(ExportGrid grid, GridCells cells, List<int> steps)
    {
        var bytesPerStep = (long)cells.RowCount * cells.ColumnCount * grid.Metadata.Sum(m => (long)m.DataType.Size);
        var regionPerStep = (long)cells.RowCount * cells.ColumnCount * grid.Metadata.Max(m => (long)m.DataType.Size);
        var maxSteps = (int)Math.Max(1, Math.Min(options.MemoryBytes / 2 / Math.Max(1, bytesPerStep), MaxRegionBytes / Math.Max(1, regionPerStep)));
        var plans = new List<FilePlan>();
        var name = NodePath.Name(grid.Arrays[0]);
        foreach (var day in steps.GroupBy(p => ExportGrid.FromMicros(grid.TimeMicros[p]).UtcDateTime.Date))
        {
            var positions = day.ToArray();
            var runs = (positions.Length + maxSteps - 1) / maxSteps;
            for (var r = 0; r < runs; r++)
            {
                var from = positions.Length * r / runs;
                var to = positions.Length * (r + 1) / runs;
                var run = positions[from..to];
                var firstTime = ExportGrid.FromMicros(grid.TimeMicros[run[0]]);
                var date = day.Key.ToString("yyyy-MM-dd", CultureInfo.InvariantCulture);
                var file = $"{name}-{firstTime.UtcDateTime.ToString("yyyyMMdd'T'HHmmss'Z'", CultureInfo.InvariantCulture)}.parquet";
                var end = r + 1 < runs ? ExportGrid.FromMicros(grid.TimeMicros[positions[to]]) : new DateTimeOffset(day.Key.AddDays(1), TimeSpan.Zero);
                plans.Add(new FilePlan($"date={date}/{file}", date, run, firstTime, end));
            }
        }

        return plans;
    }

    private ExportManifest OpenManifest(string output, ExportGrid grid, int resolution, List<ValueColumn> columns)
    {
        var fingerprint = new JsonObject
        {
            ["arrays"] = new JsonArray(grid.Arrays.Select(a => (JsonNode)a).ToArray()),
            ["h3_resolution"] = resolution,
            ["bbox"] = options.Box is { } box ? new JsonArray(box.ToArray().Select(v => (JsonNode)v).ToArray()) : null,
            ["drop_zero"] = options.DropZero,
            ["drop_missing"] = options.DropMissing,
            ["value_type"] = string.Join(',', columns.Select(c => c.Float32 ? "float32" : "float64")),
            ["millimetres"] = options.Millimetres,
        };
        var schemaColumns = new List<(string, string, string?)>
        {
            ("time", "timestamp[us, UTC]", null), ("h3", "int64", null), ("lat", "double", "degrees_north"), ("lon", "double", "degrees_east"),
        };
        schemaColumns.AddRange(columns.Select(c => (c.Name, c.Float32 ? "float" : "double", c.Units)));
        var existing = ExportManifest.Load(output);
        if (existing is not null && !options.Overwrite && !JsonNode.DeepEquals(existing.Options, fingerprint))
        {
            throw new ExportException($"{output} holds an export made with other options ({existing.Options.ToJsonString()}); "
                + "export into another directory, or give --overwrite to replace its files");
        }

        var manifest = new ExportManifest
        {
            Repository = options.RepositoryName ?? "",
            Arrays = grid.Arrays,
            Resolution = resolution,
            Options = fingerprint,
            Columns = schemaColumns,
        };
        if (existing is not null && JsonNode.DeepEquals(existing.Options, fingerprint))
        {
            foreach (var (path, file) in existing.Files)
            {
                manifest.Files[path] = file;
            }
        }

        return manifest;
    }

    private static void RemovePartials(string output)
    {
        foreach (var partial in Directory.EnumerateFiles(output, "*" + PartialSuffix, SearchOption.AllDirectories))
        {
            if (Path.GetFileName(partial).StartsWith('.'))
            {
                File.Delete(partial);
            }
        }
    }

    /// <summary>West, south, east, north of the points (those <paramref name="kept"/> marks, when given).</summary>
    private static double[] Extent(ExportGrid grid, GridCells cells, bool[]? kept)
    {
        double south = 90, north = -90;
        var rows = new HashSet<int>();
        var cols = new HashSet<int>();
        for (var p = 0; p < cells.Count; p++)
        {
            if (kept is null || kept[p])
            {
                rows.Add(cells.Rows[p]);
                cols.Add(cells.Columns[p]);
            }
        }

        foreach (var i in rows)
        {
            south = Math.Min(south, grid.Lat[i]);
            north = Math.Max(north, grid.Lat[i]);
        }

        var (west, east) = GeoBox.PointsExtent(cols.Select(j => grid.Lon[j]).Order().ToArray());
        return [west, south, east, north];
    }

    private static string[] CoarseCells(GridCells cells, bool[]? kept)
    {
        var resolution = Math.Min(1, cells.Resolution);
        var parents = new SortedSet<ulong>();
        for (var p = 0; p < cells.Count; p++)
        {
            if (kept is null || kept[p])
            {
                parents.Add(Floe.H3.H3.CellToParent((ulong)cells.Cells[p], resolution));
            }
        }

        return parents.Select(Floe.H3.H3.ToHex).ToArray();
    }

    private async Task<ExportedFile> WriteFileAsync(SnapshotReader reader, ExportGrid grid, GridCells cells, List<ValueColumn> columns, FilePlan plan,
        string output, string snapshot, int resolution, double[] bbox, string[] coarse, CancellationToken cancellationToken)
    {
        var first = plan.Positions[0];
        var last = plan.Positions[^1];
        var start = new long[3];
        var count = new long[3];
        start[grid.TimeAxis] = first;
        count[grid.TimeAxis] = last - first + 1;
        start[grid.LatAxis] = cells.RowStart;
        count[grid.LatAxis] = cells.RowCount;
        start[grid.LonAxis] = cells.ColumnStart;
        count[grid.LonAxis] = cells.ColumnCount;
        var values = new ValueArray[grid.Arrays.Count];
        for (var a = 0; a < values.Length; a++)
        {
            var raw = await reader.ReadRegionAsync(grid.Arrays[a], start, count, cancellationToken);
            values[a] = ValueArray.Create(raw, grid.Metadata[a]);
        }

        var strides = new long[3];
        strides[2] = 1;
        strides[1] = count[2];
        strides[0] = count[1] * count[2];
        var layout = new RowLayout(
            plan.Positions.Select(p => (p - first) * strides[grid.TimeAxis]).ToArray(),
            plan.Positions.Select(p => grid.TimeMicros[p]).ToArray(),
            strides[grid.LatAxis], strides[grid.LonAxis], cells.RowStart, cells.ColumnStart);

        var directory = Path.Combine(output, Path.GetDirectoryName(plan.RelativePath)!);
        Directory.CreateDirectory(directory);
        var finalPath = Path.Combine(output, plan.RelativePath);
        var partialPath = Path.Combine(directory, "." + Path.GetFileName(plan.RelativePath) + PartialSuffix);
        var statistics = columns.Select(_ => new RunningSummary()).ToArray();
        // With rows dropped a file may hold fewer points than the export: its extent and coarse cells are its own.
        var kept = options.DropZero || options.DropMissing ? new bool[cells.Count] : null;
        int rowGroups;
        long rows;
        try
        {
            await using (var stream = new FileStream(partialPath, FileMode.Create, FileAccess.Write, FileShare.None, 1 << 20))
            {
                using var writer = new ParquetWriter(stream, Schema(columns), WriterOptions(grid, columns, plan, snapshot, resolution));
                (rowGroups, rows) = await WriteRowsAsync(writer, grid, cells, columns, values, layout, statistics, kept, cancellationToken);
                writer.Finish();
                await stream.FlushAsync(cancellationToken);
                stream.Flush(flushToDisk: true);
            }

            File.Move(partialPath, finalPath, overwrite: true);
        }
        catch
        {
            File.Delete(partialPath);
            throw;
        }

        var bytes = new FileInfo(finalPath).Length;
        Interlocked.Add(ref _bytes, bytes);
        var summaries = new Dictionary<string, ValueSummary>(StringComparer.Ordinal);
        for (var c = 0; c < columns.Count; c++)
        {
            summaries[columns[c].Name] = statistics[c].ToSummary();
        }

        if (kept is not null)
        {
            bbox = rows > 0 ? Extent(grid, cells, kept) : [];
            coarse = rows > 0 ? CoarseCells(cells, kept) : [];
        }

        var lastTime = ExportGrid.FromMicros(grid.TimeMicros[plan.Positions[^1]]);
        return new ExportedFile(plan.RelativePath, plan.Date, plan.Start, plan.End, lastTime, rows, rowGroups, bytes, snapshot, bbox, summaries, coarse);
    }

    private static ParquetSchema Schema(List<ValueColumn> columns)
    {
        var fields = new List<ParquetField>
        {
            ParquetField.Timestamp("time", ParquetTimeUnit.Micros, utc: true),
            ParquetField.Int64("h3"),
            ParquetField.Double("lat"),
            ParquetField.Double("lon"),
        };
        fields.AddRange(columns.Select(c => c.Float32 ? ParquetField.Float(c.Name, nullable: true) : ParquetField.Double(c.Name, nullable: true)));
        return new ParquetSchema(fields);
    }

    private ParquetWriterOptions WriterOptions(ExportGrid grid, List<ValueColumn> columns, FilePlan plan, string snapshot, int resolution)
    {
        var units = new JsonObject { ["time"] = "UTC", ["lat"] = "degrees_north", ["lon"] = "degrees_east" };
        var attributes = new JsonObject();
        foreach (var column in columns)
        {
            units[column.Name] = column.Units;
            attributes[column.Name] = grid.Metadata[column.Source].Attributes.DeepClone();
        }

        var export = new JsonObject
        {
            ["repository"] = options.RepositoryName,
            ["snapshot"] = snapshot,
            ["ref"] = options.Ref,
            ["arrays"] = new JsonArray(grid.Arrays.Select(a => (JsonNode)a).ToArray()),
            ["h3_resolution"] = resolution,
            ["bbox"] = options.Box is { } box ? new JsonArray(box.ToArray().Select(v => (JsonNode)v).ToArray()) : null,
            ["start"] = ExportManifest.Iso(plan.Start),
            ["end"] = ExportManifest.Iso(plan.End),
        };
        return new ParquetWriterOptions
        {
            Compression = options.Compression,
            CompressionLevel = options.CompressionLevel,
            Parallelism = options.Parallelism,
            CreatedBy = "floe export",
            KeyValueMetadata = new Dictionary<string, string>
            {
                ["floe.export"] = export.ToJsonString(),
                ["floe.units"] = units.ToJsonString(),
                ["floe.attributes"] = attributes.ToJsonString(),
            },
        };
    }

    /// <summary>
    /// Fills row groups point by point (whole points per group) while the previous group is encoded and written:
    /// two sets of buffers take turns.
    /// </summary>
    private async Task<(int RowGroups, long Rows)> WriteRowsAsync(ParquetWriter writer, ExportGrid grid, GridCells cells, List<ValueColumn> columns,
        ValueArray[] values, RowLayout layout, RunningSummary[] statistics, bool[]? kept, CancellationToken cancellationToken)
    {
        var capacity = options.RowGroupRows + (cells.MaxPointsPerCell * layout.StepOffsets.Length);
        RowGroupBuffers[] buffers = [new(columns, capacity), new(columns, capacity)];
        var builder = new RowBuilder(grid, cells, columns, values, layout, options.DropZero, options.DropMissing, statistics, kept);
        var pending = Task.CompletedTask;
        var turn = 0;
        var point = 0;
        var groups = 0;
        long rows = 0;
        while (point < cells.Count)
        {
            cancellationToken.ThrowIfCancellationRequested();
            var set = buffers[turn];
            var n = builder.Fill(set, ref point, options.RowGroupRows);
            await pending;
            if (n == 0)
            {
                continue;
            }

            pending = Task.Run(() => writer.WriteRowGroup(set.Columns(n)), cancellationToken);
            turn ^= 1;
            groups++;
            rows += n;
            Interlocked.Add(ref _rows, n);
        }

        await pending;
        return (groups, rows);
    }

    private sealed record FilePlan(string RelativePath, string Date, int[] Positions, DateTimeOffset Start, DateTimeOffset End);

    internal sealed record ValueColumn(string Name, int Source, double Scale, bool Float32, string? Units);

    internal sealed record RowLayout(long[] StepOffsets, long[] Micros, long LatStride, long LonStride, int RowStart, int ColumnStart);

    internal sealed class RunningSummary
    {
        public long Count;
        public long Missing;
        public double Min = double.PositiveInfinity;
        public double Max = double.NegativeInfinity;
        public double Sum;
        public long Wet;

        public ValueSummary ToSummary() => new(Count, Missing, Count > 0 ? Min : null, Count > 0 ? Max : null, Sum, Wet);
    }

    /// <summary>Decoded values of one array's region, read as doubles; "missing" covers NaN, the fill value and missing_value.</summary>
    internal abstract class ValueArray
    {
        private readonly double[] _missing;

        protected ValueArray(double[] missing) => _missing = missing;

        public abstract double Get(long index);

        public bool IsMissing(double value)
        {
            if (double.IsNaN(value))
            {
                return true;
            }

            foreach (var m in _missing)
            {
                if (value == m)
                {
                    return true;
                }
            }

            return false;
        }

        public static ValueArray Create(byte[] raw, ArrayMetadata metadata)
        {
            // NaN is always missing, and so is a fill value other than zero (IMERG's -9999.9): a zero fill value
            // also stands for chunks of real zeros a native copy did not store. Packed arrays declare their CF fill
            // in packed units, and decode to NaN there already.
            var missing = new List<double>();
            var fill = metadata.FillValue.ToDouble();
            if (fill != 0 && !double.IsNaN(fill))
            {
                missing.Add(fill);
            }

            var packed = metadata.Codecs.Any(c => c.Name == "cf_scale_offset");
            foreach (var name in new[] { "missing_value", "_FillValue" })
            {
                if (packed)
                {
                    break;
                }

                switch (metadata.Attributes[name])
                {
                    case JsonValue v when v.TryGetValue<double>(out var d) && !double.IsNaN(d):
                        missing.Add(d);
                        break;
                    case JsonArray list:
                        missing.AddRange(list.OfType<JsonValue>().Select(x => x.TryGetValue<double>(out var d) ? d : double.NaN).Where(d => !double.IsNaN(d)));
                        break;
                }
            }

            var distinct = missing.Distinct().ToArray();
            return metadata.DataType.Name switch
            {
                "float64" => new Float64Values(raw, distinct),
                "float32" => new Float32Values(raw, distinct),
                _ => new ConvertedValues(NumericValues.ToDoubles(raw, metadata.DataType), distinct),
            };
        }
    }

    private sealed class Float64Values(byte[] raw, double[] missing) : ValueArray(missing)
    {
        public override double Get(long index) => BinaryPrimitives.ReadDoubleLittleEndian(raw.AsSpan((int)(index * 8), 8));
    }

    private sealed class Float32Values(byte[] raw, double[] missing) : ValueArray(missing)
    {
        public override double Get(long index) => BinaryPrimitives.ReadSingleLittleEndian(raw.AsSpan((int)(index * 4), 4));
    }

    private sealed class ConvertedValues(double[] values, double[] missing) : ValueArray(missing)
    {
        public override double Get(long index) => values[index];
    }

    /// <summary>One row group's column arrays.</summary>
    internal sealed class RowGroupBuffers
    {
        public RowGroupBuffers(List<ValueColumn> columns, int capacity)
        {
            Time = new long[capacity];
            H3 = new long[capacity];
            Lat = new double[capacity];
            Lon = new double[capacity];
            Floats = columns.Select(c => c.Float32 ? new float[capacity] : null).ToArray();
            Doubles = columns.Select(c => c.Float32 ? null : new double[capacity]).ToArray();
            Defined = columns.Select(_ => new bool[capacity]).ToArray();
            AnyMissing = new bool[columns.Count];
        }

        public long[] Time { get; }

        public long[] H3 { get; }

        public double[] Lat { get; }

        public double[] Lon { get; }

        public float[]?[] Floats { get; }

        public double[]?[] Doubles { get; }

        public bool[][] Defined { get; }

        public bool[] AnyMissing { get; }

        public List<ParquetColumnData> Columns(int rows)
        {
            var data = new List<ParquetColumnData>
            {
                ParquetColumnData.Of(Time.AsMemory(0, rows)),
                ParquetColumnData.Of(H3.AsMemory(0, rows)),
                ParquetColumnData.Of(Lat.AsMemory(0, rows)),
                ParquetColumnData.Of(Lon.AsMemory(0, rows)),
            };
            for (var c = 0; c < Floats.Length; c++)
            {
                ReadOnlyMemory<bool> defined = AnyMissing[c] ? Defined[c].AsMemory(0, rows) : default;
                data.Add(Floats[c] is { } f ? ParquetColumnData.Of(f.AsMemory(0, rows), defined) : ParquetColumnData.Of(Doubles[c]!.AsMemory(0, rows), defined));
            }

            return data;
        }
    }

    /// <summary>Turns grid points (in cell order) and time steps into rows.</summary>
    private sealed class RowBuilder(ExportGrid grid, GridCells cells, List<ValueColumn> columns, ValueArray[] values, RowLayout layout,
        bool dropZero, bool dropMissing, RunningSummary[] statistics, bool[]? kept)
    {
        private readonly double[] _value = new double[values.Length];
        private readonly bool[] _missing = new bool[values.Length];

        /// <summary>Fills <paramref name="set"/> with whole cells from <paramref name="point"/> on until it holds at least <paramref name="target"/> rows or the points run out.</summary>
        public int Fill(RowGroupBuffers set, ref int point, int target)
        {
            Array.Clear(set.AnyMissing);
            var n = 0;
            var steps = layout.StepOffsets;
            var micros = layout.Micros;
            var drop = dropZero || dropMissing;
            // Whole cells per row group, so the groups' cell ranges never overlap.
            while (point < cells.Count && (n < target || (n > 0 && cells.Cells[point] == cells.Cells[point - 1])))
            {
                var i = cells.Rows[point];
                var j = cells.Columns[point];
                var cell = cells.Cells[point];
                var lat = grid.Lat[i];
                var lon = grid.Lon[j];
                var offset = (i - layout.RowStart) * layout.LatStride + (j - layout.ColumnStart) * layout.LonStride;
                for (var k = 0; k < steps.Length; k++)
                {
                    var index = steps[k] + offset;
                    var droppable = drop;
                    for (var a = 0; a < values.Length; a++)
                    {
                        var v = values[a].Get(index);
                        var missing = values[a].IsMissing(v);
                        _value[a] = v;
                        _missing[a] = missing;
                        droppable &= (missing && dropMissing) || (!missing && dropZero && v == 0);
                    }

                    if (droppable)
                    {
                        continue;
                    }

                    set.Time[n] = micros[k];
                    set.H3[n] = cell;
                    set.Lat[n] = lat;
                    set.Lon[n] = lon;
                    for (var c = 0; c < columns.Count; c++)
                    {
                        var column = columns[c];
                        var summary = statistics[c];
                        if (_missing[column.Source])
                        {
                            set.Defined[c][n] = false;
                            set.AnyMissing[c] = true;
                            summary.Missing++;
                            if (set.Floats[c] is { } f)
                            {
                                f[n] = 0;
                            }
                            else
                            {
                                set.Doubles[c]![n] = 0;
                            }

                            continue;
                        }

                        var value = _value[column.Source] * column.Scale;
                        double written;
                        if (set.Floats[c] is { } floats)
                        {
                            var single = (float)value;
                            floats[n] = single;
                            written = single;
                        }
                        else
                        {
                            set.Doubles[c]![n] = value;
                            written = value;
                        }

                        set.Defined[c][n] = true;
                        summary.Count++;
                        summary.Sum += written;
                        if (written < summary.Min)
                        {
                            summary.Min = written;
                        }

                        if (written > summary.Max)
                        {
                            summary.Max = written;
                        }

                        if (written > 0)
                        {
                            summary.Wet++;
                        }
                    }

                    n++;
                    if (kept is not null)
                    {
                        kept[point] = true;
                    }
                }

                point++;
            }

            return n;
        }
    }
}

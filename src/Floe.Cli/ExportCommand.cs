using System.CommandLine;
using System.Globalization;
using System.Text.Json;
using Floe.Export;
using Floe.Parquet;
using Floe.Stac;
using Floe.Storage;
using Floe.Storage.Azure;
using Floe.Store;
using Spectre.Console;
using H3Index = Floe.H3.H3;

namespace Floe.Cli;

/// <summary>`floe export parquet` and `floe query` (docs/export.md).</summary>
internal static class ExportCommand
{
    public static Command Create()
    {
        var array = new Option<string>("--array", "-a") { Description = "Arrays to export, comma-separated, sharing one grid, e.g. /tp or /Grid/precipitation", Required = true };
        var output = new Option<string>("--out", "-o") { Description = "Directory to write the export to (Hive partitions date=YYYY-MM-DD)", Required = true };
        var reference = new Option<string>("--ref") { Description = "Branch, tag or snapshot id to export", DefaultValueFactory = _ => Repository.MainBranch };
        var start = new Option<string?>("--start") { Description = "First time to export (UTC, inclusive), e.g. 2020-01-01 or 2020-01-01T06:00; default: the array's first" };
        var end = new Option<string?>("--end") { Description = "End of the time range (UTC, exclusive); default: after the array's last" };
        var bbox = new Option<string?>("--bbox") { Description = "WEST,SOUTH,EAST,NORTH in degrees; west > east crosses the antimeridian" };
        var resolution = new Option<int?>("--resolution") { Description = "H3 resolution 0..15 (default from the grid: 5 for 0.25°, 6 for 0.1°)" };
        var drop = new Option<string?>("--drop") { Description = "Drop rows whose values are all zero and/or all missing: zero, missing or zero,missing" };
        var rowGroup = new Option<int>("--row-group-rows") { Description = "Rows per row group (whole grid points)", DefaultValueFactory = _ => 131_072 };
        var compression = new Option<string>("--compression") { Description = "zstd, snappy or none", DefaultValueFactory = _ => "zstd" };
        var level = new Option<int>("--level") { Description = "zstd level", DefaultValueFactory = _ => 3 };
        var valueType = new Option<ExportValueType>("--value-type") { Description = "Type of the value columns: auto, float32, float64", DefaultValueFactory = _ => ExportValueType.Auto };
        var noMm = new Option<bool>("--no-mm") { Description = "Do not add a millimetre column beside precipitation in metres" };
        var memory = new Option<string>("--memory") { Description = "Memory for a day's values and the row groups in flight, e.g. 2GiB", DefaultValueFactory = _ => "2GiB" };
        var overwrite = new Option<bool>("--overwrite") { Description = "Rewrite files already exported from the same snapshot, and allow other options than the directory's export" };
        var json = new Option<bool>("--json") { Description = "Print progress and the result as JSON lines" };
        var collection = new Option<string?>("--collection") { Description = "The STAC collection id of the export (default: the one written before, else REPOSITORY-DIRECTORY)" };
        var license = new Option<string?>("--license") { Description = "SPDX license id for the STAC collection (default: from the arrays' license attribute, else other)" };
        var parquet = new Command("parquet", "Export arrays to Parquet rows (time, h3, lat, lon, values) partitioned by date; rerun to resume")
        {
            Commands.RepoOption, array, output, reference, start, end, bbox, resolution, drop, rowGroup, compression, level, valueType, noMm, memory, overwrite, json, collection, license,
        };
        parquet.SetAction((parse, ct) => Commands.Run(async () =>
        {
            var dropped = (parse.GetValue(drop) ?? "").Split(',', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries);
            foreach (var d in dropped)
            {
                if (d is not ("zero" or "missing"))
                {
                    throw new ArgumentException($"--drop {parse.GetValue(drop)}: \"{d}\" is neither zero nor missing");
                }
            }

            var repo = parse.GetValue(Commands.RepoOption)!;
            var options = new ExportOptions
            {
                Arrays = parse.GetValue(array)!.Split(',', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries),
                OutputDirectory = parse.GetValue(output)!,
                Ref = parse.GetValue(reference)!,
                Start = IngestCommand.ParseTime(parse.GetValue(start), "--start"),
                End = IngestCommand.ParseTime(parse.GetValue(end), "--end"),
                Box = parse.GetValue(bbox) is { } b ? GeoBox.Parse(b) : null,
                Resolution = parse.GetValue(resolution),
                DropZero = dropped.Contains("zero"),
                DropMissing = dropped.Contains("missing"),
                RowGroupRows = parse.GetValue(rowGroup),
                Compression = ParseCompression(parse.GetValue(compression)!),
                CompressionLevel = parse.GetValue(level),
                ValueType = parse.GetValue(valueType),
                Millimetres = !parse.GetValue(noMm),
                MemoryBytes = RechunkCommand.ParseBytes(parse.GetValue(memory)!, "--memory"),
                Overwrite = parse.GetValue(overwrite),
                RepositoryName = CliStorage.NameOf(ObjectStoreLocation.IsAzure(repo) ? repo : Path.GetFullPath(repo)),
            };
            var repository = await Repository.OpenAsync(CliStorage.OpenStore(repo), CliStorage.Options(), ct);
            var catalog = new ExportCatalogOptions { CollectionId = parse.GetValue(collection), License = parse.GetValue(license) };
            if (catalog.CollectionId is { } id)
            {
                ExportCatalog.ValidateId(id, "--collection");
            }

            await RunExportAsync(repository, options, catalog, parse.GetValue(json), ct);
        }));
        var command = new Command("export", "Export arrays to other formats");
        command.Subcommands.Add(parquet);
        return command;
    }

    public static Command Query()
    {
        var directory = new Argument<string>("directory") { Description = "The directory an export wrote" };
        var start = new Option<string?>("--start") { Description = "First time (UTC, inclusive)" };
        var end = new Option<string?>("--end") { Description = "End time (UTC, exclusive)" };
        var bbox = new Option<string?>("--bbox") { Description = "WEST,SOUTH,EAST,NORTH in degrees; west > east crosses the antimeridian" };
        var cells = new Option<string?>("--cells") { Description = "H3 cells in hex, comma-separated, any resolution: a coarse cell selects its descendants" };
        var where = new Option<string?>("--where") { Description = "Value comparisons joined by AND, e.g. \"tp_mm > 10 AND tp_mm <= 50\"" };
        var columns = new Option<string?>("--columns") { Description = "Columns of the rows printed, comma-separated (default: all)" };
        var aggregate = new Option<bool>("--aggregate") { Description = "Print count, sum, min, max and mean of each value column instead of rows" };
        var groupBy = new Option<string?>("--group-by") { Description = "With --aggregate: date, or cell:N for H3 cells at resolution N" };
        var limit = new Option<long?>("--limit") { Description = "Print at most this many rows" };
        var format = new Option<string>("--format") { Description = "Rows as csv or json (JSON lines)", DefaultValueFactory = _ => "csv" };
        var json = new Option<bool>("--json") { Description = "End with one JSON line of what was read (files, row groups, bytes, rows)" };
        var files = new Option<string?>("--files") { Description = "Read only these files of the export: a text file with one path per line, or - for stdin (e.g. from floe stac search --format hrefs)" };
        var command = new Command("query", "Select rows of a Parquet export by time, place (bbox or H3 cells) and value, or aggregate them, reading only the row groups that can match")
        {
            directory, start, end, bbox, cells, where, columns, aggregate, groupBy, limit, format, json, files,
        };
        command.SetAction((parse, ct) => Commands.Run(() =>
        {
            var (grouping, groupResolution) = ParseGroupBy(parse.GetValue(groupBy));
            var options = new QueryOptions
            {
                Directory = parse.GetValue(directory)!,
                Files = parse.GetValue(files) is { } list ? ReadFileList(list) : null,
                Start = IngestCommand.ParseTime(parse.GetValue(start), "--start"),
                End = IngestCommand.ParseTime(parse.GetValue(end), "--end"),
                Box = parse.GetValue(bbox) is { } b ? GeoBox.Parse(b) : null,
                Cells = parse.GetValue(cells) is { } c ? ParseCells(c) : null,
                Where = parse.GetValue(where) is { } w ? ValuePredicate.ParseAll(w) : [],
                Columns = parse.GetValue(columns)?.Split(',', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries),
                Aggregate = parse.GetValue(aggregate),
                GroupBy = grouping,
                GroupResolution = groupResolution,
                Limit = parse.GetValue(limit),
            };
            if (grouping != QueryGrouping.None && !options.Aggregate)
            {
                throw new ArgumentException("--group-by needs --aggregate");
            }

            var csv = parse.GetValue(format) switch
            {
                "csv" => true,
                "json" => false,
                var other => throw new ArgumentException($"--format {other}: choose csv or json"),
            };
            RunQuery(options, csv, parse.GetValue(json), ct);
            return Task.CompletedTask;
        }));
        return command;
    }

    private static string[] ReadFileList(string list)
    {
        var text = list == "-" ? Console.In.ReadToEnd() : File.Exists(list) ? File.ReadAllText(list) : throw new ArgumentException($"--files {list}: no such file");
        var files = text.Split('\n', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries);
        return files.Length > 0 ? files : throw new ArgumentException($"--files {list}: lists no file (did the search find nothing?)");
    }

    private static async Task RunExportAsync(Repository repository, ExportOptions options, ExportCatalogOptions catalog, bool json, CancellationToken cancellationToken)
    {
        var exporter = new ParquetExporter(repository, options);
        ExportResult result;
        if (json)
        {
            TimeSpan? last = null;
            result = await exporter.RunAsync(new InlineProgress<ExportProgress>(p =>
            {
                if (last is null || p.Elapsed - last >= TimeSpan.FromSeconds(1) || p.FilesDone == p.FilesTotal)
                {
                    last = p.Elapsed;
                    Console.WriteLine(JsonSerializer.Serialize(ProgressJson(p)));
                }
            }), cancellationToken);
            var written = await ExportCatalog.WriteAsync(options.OutputDirectory, repository, catalog, cancellationToken);
            Console.WriteLine(JsonSerializer.Serialize(new Dictionary<string, object?>
            {
                ["event"] = "done",
                ["snapshot"] = result.Snapshot,
                ["h3_resolution"] = result.Resolution,
                ["files"] = result.Files.Count,
                ["files_written"] = result.FilesWritten,
                ["files_skipped"] = result.FilesSkipped,
                ["rows"] = result.Rows,
                ["bytes"] = result.Bytes,
                ["rows_per_s"] = Math.Round(result.RowsPerSecond),
                ["elapsed_s"] = Math.Round(result.Elapsed.TotalSeconds, 3),
                ["directory"] = Path.GetFullPath(options.OutputDirectory),
                ["stac_catalog"] = Path.Combine(written.Directory, ExportCatalog.CatalogFile),
                ["stac_collection"] = written.CollectionId,
                ["stac_items"] = written.Items,
            }));
            return;
        }

        Console.WriteLine($"exporting {string.Join(", ", options.Arrays)} at {options.Ref} to {Path.GetFullPath(options.OutputDirectory)}");
        if (AnsiConsole.Profile.Capabilities.Interactive && !Console.IsOutputRedirected)
        {
            ExportResult? done = null;
            await AnsiConsole.Progress()
                .Columns(new TaskDescriptionColumn(), new ProgressBarColumn(), new PercentageColumn(), new RemainingTimeColumn(), new SpinnerColumn())
                .StartAsync(async context =>
                {
                    var task = context.AddTask("planning", maxValue: 1);
                    done = await exporter.RunAsync(new InlineProgress<ExportProgress>(p =>
                    {
                        task.MaxValue = Math.Max(1, p.FilesTotal);
                        task.Value = p.FilesDone;
                        task.Description = Markup.Escape(Line(p));
                    }), cancellationToken);
                    task.Value = task.MaxValue;
                });
            result = done!;
        }
        else
        {
            var last = TimeSpan.Zero;
            result = await exporter.RunAsync(new InlineProgress<ExportProgress>(p =>
            {
                if (p.Elapsed - last >= TimeSpan.FromSeconds(5))
                {
                    last = p.Elapsed;
                    Console.WriteLine(Line(p));
                }
            }), cancellationToken);
        }

        Console.WriteLine($"{result.FilesWritten:N0} file(s) written, {result.FilesSkipped:N0} already exported from snapshot {result.Snapshot}; " +
            $"{result.Rows:N0} rows, {result.Bytes / (1024.0 * 1024):N1} MiB, H3 resolution {result.Resolution}, " +
            $"{result.RowsPerSecond:N0} rows/s in {result.Elapsed.TotalSeconds:N1} s");
        Console.WriteLine(StacCommand.Describe(await ExportCatalog.WriteAsync(options.OutputDirectory, repository, catalog, cancellationToken)));
    }

    private static void RunQuery(QueryOptions options, bool csv, bool json, CancellationToken cancellationToken)
    {
        var query = new ExportQuery(options);
        var output = Console.Out;
        var headerWritten = false;
        var (aggregates, statistics) = query.Run(options.Aggregate ? null : row =>
        {
            if (csv)
            {
                if (!headerWritten)
                {
                    output.WriteLine(string.Join(',', query.RowColumns));
                    headerWritten = true;
                }

                output.WriteLine(string.Join(',', row.Select(FormatCsv)));
            }
            else
            {
                var document = new Dictionary<string, object?>();
                for (var c = 0; c < row.Length; c++)
                {
                    document[query.RowColumns[c]] = row[c] is DateTimeOffset t ? ExportManifest.Iso(t) : row[c];
                }

                output.WriteLine(JsonSerializer.Serialize(document));
            }
        }, cancellationToken);

        if (options.Aggregate)
        {
            foreach (var group in aggregates)
            {
                if (csv)
                {
                    var key = options.GroupBy == QueryGrouping.None ? "" : $"{group.Key}: ";
                    var parts = group.Columns.Select(c =>
                        $"{c.Key} count {c.Value.Count:N0} sum {F(c.Value.Sum)} min {F(c.Value.Count > 0 ? c.Value.Min : null)} max {F(c.Value.Count > 0 ? c.Value.Max : null)} mean {F(c.Value.Mean)}");
                    output.WriteLine($"{key}{group.Rows:N0} rows; {string.Join("; ", parts)}");
                }
                else
                {
                    output.WriteLine(JsonSerializer.Serialize(new Dictionary<string, object?>
                    {
                        ["group"] = group.Key,
                        ["rows"] = group.Rows,
                        ["columns"] = group.Columns.ToDictionary(c => c.Key, c => new Dictionary<string, object?>
                        {
                            ["count"] = c.Value.Count,
                            ["sum"] = c.Value.Sum,
                            ["min"] = c.Value.Count > 0 ? c.Value.Min : null,
                            ["max"] = c.Value.Count > 0 ? c.Value.Max : null,
                            ["mean"] = c.Value.Mean,
                        }),
                    }));
                }
            }
        }

        var s = statistics;
        if (json)
        {
            output.WriteLine(JsonSerializer.Serialize(new Dictionary<string, object?>
            {
                ["event"] = "done",
                ["files"] = s.Files,
                ["files_read"] = s.FilesRead,
                ["row_groups"] = s.RowGroups,
                ["row_groups_read"] = s.RowGroupsRead,
                ["bytes_read"] = s.BytesRead,
                ["rows_scanned"] = s.RowsScanned,
                ["rows_matched"] = s.RowsMatched,
                ["elapsed_s"] = Math.Round(s.Elapsed.TotalSeconds, 4),
            }));
        }
        else
        {
            Console.Error.WriteLine($"read {s.RowGroupsRead:N0} of {s.RowGroups:N0} row groups in {s.FilesRead:N0} of {s.Files:N0} files, " +
                $"{s.BytesRead / (1024.0 * 1024):N2} MiB; {s.RowsMatched:N0} of {s.RowsScanned:N0} rows scanned matched, in {s.Elapsed.TotalMilliseconds:N1} ms");
        }
    }

    private static string F(double? value) => value is { } v ? v.ToString("G6", CultureInfo.InvariantCulture) : "-";

    private static string FormatCsv(object? value) => value switch
    {
        null => "",
        DateTimeOffset t => ExportManifest.Iso(t),
        double d => d.ToString("R", CultureInfo.InvariantCulture),
        IFormattable f => f.ToString(null, CultureInfo.InvariantCulture),
        _ => value.ToString() ?? "",
    };

    private static ParquetCompression ParseCompression(string text) => text.ToLowerInvariant() switch
    {
        "zstd" => ParquetCompression.Zstd,
        "snappy" => ParquetCompression.Snappy,
        "none" or "uncompressed" => ParquetCompression.Uncompressed,
        _ => throw new ArgumentException($"--compression {text}: choose zstd, snappy or none"),
    };

    private static ulong[] ParseCells(string text) =>
        text.Split(',', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries)
            .Select(c => H3Index.TryParseHex(c, out var cell) && H3Index.IsValidCell(cell)
                ? cell
                : throw new ArgumentException($"--cells: \"{c}\" is not an H3 cell in hex (such as 85283473fffffff)"))
            .ToArray();

    private static (QueryGrouping, int) ParseGroupBy(string? text)
    {
        if (text is null or "none")
        {
            return (QueryGrouping.None, 0);
        }

        if (text == "date")
        {
            return (QueryGrouping.Date, 0);
        }

        if (text.StartsWith("cell:", StringComparison.Ordinal) && int.TryParse(text[5..], NumberStyles.None, CultureInfo.InvariantCulture, out var r) && r <= 15)
        {
            return (QueryGrouping.Cell, r);
        }

        throw new ArgumentException($"--group-by {text}: choose date or cell:N with N in 0..15");
    }

    private static string Line(ExportProgress p) =>
        $"{p.FilesDone:N0}/{p.FilesTotal:N0} files ({p.FilesSkipped:N0} already exported), {p.Rows:N0} rows, {p.Bytes / (1024.0 * 1024):N1} MiB, " +
        $"{(p.Elapsed.TotalSeconds > 0 ? p.Rows / p.Elapsed.TotalSeconds : 0):N0} rows/s" + (p.CurrentFile is { } f ? $", writing {f}" : "");

    private static Dictionary<string, object?> ProgressJson(ExportProgress p) => new()
    {
        ["event"] = "progress",
        ["files_done"] = p.FilesDone,
        ["files_total"] = p.FilesTotal,
        ["files_skipped"] = p.FilesSkipped,
        ["rows"] = p.Rows,
        ["bytes"] = p.Bytes,
        ["current"] = p.CurrentFile,
        ["elapsed_s"] = Math.Round(p.Elapsed.TotalSeconds, 3),
    };
}

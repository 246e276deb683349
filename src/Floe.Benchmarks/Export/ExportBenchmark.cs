using System.Diagnostics;
using System.Globalization;
using System.Reflection;
using System.Text.Json;
using Floe.Benchmarks.Fixtures;
using Floe.Export;
using Floe.Ingest;
using Floe.Ingest.Sources;
using Floe.Storage;
using Floe.Store;
using Floe.Tests.Shared;
using H3Index = Floe.H3.H3;

namespace Floe.Benchmarks.Export;

/// <summary>
/// `floe bench export`: a month of ERA5-layout days (721 × 1440 × 24 per day) ingested as a virtual array and
/// exported to Parquet by Floe; DuckDB then writes the same rows, in the same order, with the same compression and
/// row-group size (each day loaded into a table first, only the COPY timed). Then one day in one resolution-3 cell is
/// queried by `floe query` and by a DuckDB scan of the same files. The answers and the row counts must agree.
/// </summary>
public sealed class ExportBenchmark(TextWriter output, string workDirectory, string fixtureDirectory, int days, int rounds, int queryRounds, bool small,
    string? nodeDirectory)
{
    private const int RowGroupRows = 131_072;
    private const int Level = 3;

    public async Task RunAsync(CancellationToken cancellationToken)
    {
        var node = nodeDirectory ?? NodePackages.Directory(Path.Combine("@duckdb", "node-api"),
            "The DuckDB peer needs tests/node with its packages installed (cd tests/node && npm install); or give --node-dir");
        Directory.CreateDirectory(workDirectory);
        output.WriteLine($"floe bench export: {days} ERA5-layout days ({(small ? "19 x 36" : "721 x 1440")} x 24 hours) in {fixtureDirectory}");
        var paths = FixtureWriter.WriteEra5(fixtureDirectory, days, new DateOnly(2020, 1, 1), small, output, cancellationToken);

        var repoDirectory = Path.Combine(workDirectory, "repo");
        if (Directory.Exists(repoDirectory))
        {
            Directory.Delete(repoDirectory, recursive: true);
        }

        var repository = await Repository.CreateAsync(new FileSystemObjectStore(repoDirectory), cancellationToken: cancellationToken);
        await new Ingestor(repository, new IngestOptions()).RunAsync(new ListSource(paths), null, cancellationToken);
        var scratch = new byte[1 << 20];
        long fileBytes = 0;
        foreach (var path in paths)
        {
            await using var stream = File.OpenRead(path);
            int read;
            while ((read = await stream.ReadAsync(scratch, cancellationToken)) > 0)
            {
                fileBytes += read;
            }
        }

        output.WriteLine($"ingested {paths.Count} files as virtual references; read their {Report.Mb(fileBytes)} once into the page cache");

        // Floe's export, round by round, with the resident set's peak above where it stood before.
        var floeSeconds = new List<double>();
        ExportResult? result = null;
        long peakAbove = 0;
        var floeDirectory = Path.Combine(workDirectory, "floe");
        for (var round = 0; round < rounds; round++)
        {
            if (Directory.Exists(floeDirectory))
            {
                Directory.Delete(floeDirectory, recursive: true);
            }

            GC.Collect();
            var baseline = ResidentMemory.Current();
            var resident = new ResidentMemory();
            resident.Reset();
            var clock = Stopwatch.StartNew();
            result = await new ParquetExporter(repository, new ExportOptions
            {
                Arrays = ["/tp"],
                OutputDirectory = floeDirectory,
                RowGroupRows = RowGroupRows,
                CompressionLevel = Level,
            }).RunAsync(null, cancellationToken);
            floeSeconds.Add(clock.Elapsed.TotalSeconds);
            peakAbove = Math.Max(peakAbove, resident.TakePeak() - baseline);
            output.WriteLine($"round {round + 1}: Floe exported {result.Rows:N0} rows in {clock.Elapsed.TotalSeconds:0.00} s");
        }

        var floeFiles = result!.Files.Select(f => Path.Combine(floeDirectory, f.Path)).ToList();
        var floeBytes = result.Files.Sum(f => f.Bytes);

        // DuckDB writes the same rows.
        var duckDirectory = Path.Combine(workDirectory, "duckdb");
        if (Directory.Exists(duckDirectory))
        {
            Directory.Delete(duckDirectory, recursive: true);
        }

        var threads = Environment.ProcessorCount;
        var write = RunPeer(node, new { threads, write = new { files = floeFiles, @out = duckDirectory, level = Level, row_group_rows = RowGroupRows } }).GetProperty("write");
        var duckSeconds = write.GetProperty("seconds").GetDouble();
        var duckRows = write.GetProperty("rows").GetInt64();
        var duckBytes = write.GetProperty("bytes").GetInt64();
        if (duckRows != result.Rows)
        {
            throw new InvalidOperationException($"DuckDB wrote {duckRows:N0} rows, Floe {result.Rows:N0}");
        }

        // One day in one resolution-3 cell, by floe query and by a DuckDB scan of the same files.
        var day = result.Files[result.Files.Count / 2];
        // Resolution 3, or the export's own when coarser (the small grid's).
        var cell = H3Index.LatLngToCell(small ? 10 : 5.5, small ? 20 : 20.5, Math.Min(3, result.Resolution));
        var (lo, hi) = H3Index.ChildRange(cell, result.Resolution);
        var queryMs = new List<double>();
        IReadOnlyList<AggregateRow> aggregates = [];
        QueryStatistics? stats = null;
        for (var round = 0; round < queryRounds; round++)
        {
            var clock = Stopwatch.StartNew();
            (aggregates, stats) = new ExportQuery(new QueryOptions
            {
                Directory = floeDirectory,
                Start = day.Start,
                End = day.End,
                Cells = [cell],
                Aggregate = true,
            }).Run(null, cancellationToken);
            queryMs.Add(clock.Elapsed.TotalMilliseconds);
        }

        var floeAnswer = aggregates[0];
        var query = RunPeer(node, new
        {
            threads,
            query = new { glob = Path.Combine(floeDirectory, "**", "*.parquet"), date = day.Date, lo = ((long)lo).ToString(CultureInfo.InvariantCulture), hi = ((long)hi).ToString(CultureInfo.InvariantCulture), column = "tp", rounds = queryRounds },
        }).GetProperty("query");
        var duckQueryMs = query.GetProperty("ms").EnumerateArray().Select(v => v.GetDouble()).ToList();
        var duckQueryRows = query.GetProperty("rows").GetInt64();
        var duckQuerySum = query.GetProperty("sum").ValueKind == JsonValueKind.Null ? 0 : query.GetProperty("sum").GetDouble();
        var floeSum = floeAnswer.Columns.TryGetValue("tp", out var tp) ? tp.Sum : 0;
        if (duckQueryRows != floeAnswer.Rows || Math.Abs(duckQuerySum - floeSum) > 1e-6 * Math.Max(1, Math.Abs(floeSum)))
        {
            throw new InvalidOperationException($"query answers differ: Floe {floeAnswer.Rows:N0} rows, sum {floeSum}; DuckDB {duckQueryRows:N0} rows, sum {duckQuerySum}");
        }

        var floeMedian = Report.Median(floeSeconds);
        var floeRowsPerCore = result.Rows / floeMedian / Environment.ProcessorCount;
        var duckRowsPerCore = duckRows / duckSeconds / threads;
        var queryMedian = Report.Median(queryMs.Skip(queryRounds > 1 ? 1 : 0));
        var duckQueryMedian = Report.Median(duckQueryMs.Skip(queryRounds > 1 ? 1 : 0));

        var report = new Report(output);
        report.Row("export", "rows", "seconds", "rows/s", "rows/s per core", "size", "vs DuckDB");
        report.Row("Floe (array -> Parquet)", result.Rows.ToString("N0"), Report.F(floeMedian), (result.Rows / floeMedian).ToString("N0"),
            floeRowsPerCore.ToString("N0"), Report.Mb(floeBytes), $"{Report.F(floeRowsPerCore / duckRowsPerCore)}x rows/s, {Report.F((double)floeBytes / duckBytes, "0.000")}x size");
        report.Row("DuckDB (table -> Parquet)", duckRows.ToString("N0"), Report.F(duckSeconds), (duckRows / duckSeconds).ToString("N0"),
            duckRowsPerCore.ToString("N0"), Report.Mb(duckBytes), "1.00x");
        report.PrintTable($"Export of {days} day(s), zstd level {Level}, {RowGroupRows:N0} rows per row group, {Environment.ProcessorCount} cores (Floe's time includes reading the virtual array)");

        report.Row("query: one day, one resolution-3 cell", "median", "rows", "row groups read", "bytes read");
        report.Row("floe query", Report.Ms(queryMedian), floeAnswer.Rows.ToString("N0"), $"{stats!.RowGroupsRead:N0} of {stats.RowGroups:N0}", Report.Mb(stats.BytesRead));
        report.Row("DuckDB scan (same files, hive date + h3 range)", Report.Ms(duckQueryMedian), duckQueryRows.ToString("N0"), "", "");
        report.PrintTable($"Query {day.Date}, cell {H3Index.ToHex(cell)} ({queryRounds} rounds, first dropped)");
        output.WriteLine($"Floe export peak resident memory {Report.Mb(peakAbove)} above its start");

        report.PrintJson(new
        {
            benchmark = "export",
            days,
            rows = result.Rows,
            cores = Environment.ProcessorCount,
            floe_seconds = Math.Round(floeMedian, 3),
            floe_rows_per_s_per_core = Math.Round(floeRowsPerCore),
            duckdb_seconds = Math.Round(duckSeconds, 3),
            duckdb_rows_per_s_per_core = Math.Round(duckRowsPerCore),
            rows_per_s_ratio = Math.Round(floeRowsPerCore / duckRowsPerCore, 3),
            floe_bytes = floeBytes,
            duckdb_bytes = duckBytes,
            size_ratio = Math.Round((double)floeBytes / duckBytes, 4),
            floe_peak_rss_mb = Math.Round(peakAbove / 1048576.0, 1),
            query_rows = floeAnswer.Rows,
            floe_query_ms = Math.Round(queryMedian, 3),
            duckdb_query_ms = Math.Round(duckQueryMedian, 3),
            query_ratio = Math.Round(duckQueryMedian / queryMedian, 2),
            query_row_groups_read = stats.RowGroupsRead,
            query_row_groups = stats.RowGroups,
            query_bytes_read = stats.BytesRead,
        });
    }

    private JsonElement RunPeer(string node, object request)
    {
        var script = Path.Combine(workDirectory, "duckdb-peer.mjs");
        using (var resource = Assembly.GetExecutingAssembly().GetManifestResourceStream("duckdb-peer.mjs")!)
        using (var file = File.Create(script))
        {
            resource.CopyTo(file);
        }

        var start = new ProcessStartInfo("node") { RedirectStandardInput = true, RedirectStandardOutput = true, RedirectStandardError = true, UseShellExecute = false };
        start.ArgumentList.Add(script);
        start.Environment["FLOE_NODE_DIR"] = node;
        using var process = Process.Start(start) ?? throw new InvalidOperationException("could not start node");
        process.StandardInput.Write(JsonSerializer.Serialize(request));
        process.StandardInput.Close();
        var stdout = process.StandardOutput.ReadToEndAsync();
        var stderr = process.StandardError.ReadToEndAsync();
        process.WaitForExit();
        if (process.ExitCode != 0)
        {
            throw new InvalidOperationException($"the DuckDB peer failed (exit {process.ExitCode}): {stderr.Result.Trim()}");
        }

        using var document = JsonDocument.Parse(stdout.Result);
        return document.RootElement.Clone();
    }
}

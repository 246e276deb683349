using System.Diagnostics;
using System.Globalization;
using System.Runtime.InteropServices;
using System.Text.Json;
using Floe.Benchmarks.Fixtures;
using Floe.Core;
using Floe.Ingest;
using Floe.Ingest.Sources;
using Floe.Rechunk;
using Floe.Storage;
using Floe.Store;

namespace Floe.Benchmarks.Read;

/// <summary>
/// `floe bench read`: IMERG-layout half-hourly files (a year by default) ingested as a virtual array, rechunked
/// into a native time-series-friendly copy, then read in four ways (a point over a month and over a year, one
/// full map, a regional box over a week) from both. Peers in the same run: netCDF4-python reading the original
/// files, and xarray + zarr reading the native copy written out as a Zarr v2 folder. Every reader's values are
/// checked against Floe's.
/// </summary>
public sealed class ReadBenchmark(TextWriter output, string workDirectory, string fixtureDirectory, int files, int rounds, long budgetBytes, string chunks)
{
    private const string Virtual = "/Grid/precipitation";
    private const string Native = "/Grid/precipitation_ts";
    private const int PointLon = 250;
    private const int PointLat = 120;
    private static readonly TimeSpan PeerTimeout = TimeSpan.FromHours(2);

    private sealed record Pattern(string Key, string Name, long T0, long T1, long Lon0, long Lon1, long Lat0, long Lat1)
    {
        public long[] Start => [T0, Lon0, Lat0];

        public long[] Count => [T1 - T0, Lon1 - Lon0, Lat1 - Lat0];

        public long Elements => (T1 - T0) * (Lon1 - Lon0) * (Lat1 - Lat0);

        public long ChunksTouched(int[] chunkShape)
        {
            long touched = 1;
            long[] lo = [T0, Lon0, Lat0], hi = [T1, Lon1, Lat1];
            for (var d = 0; d < 3; d++)
            {
                touched *= ((hi[d] - 1) / chunkShape[d]) - (lo[d] / chunkShape[d]) + 1;
            }

            return touched;
        }
    }

    private sealed record Measured(double Seconds, long BytesRead, double Sum);

    public async Task RunAsync(CancellationToken cancellationToken)
    {
        Directory.CreateDirectory(workDirectory);
        output.WriteLine($"floe bench read: {files:N0} IMERG-layout files (360 x 180, one half hour each) in {fixtureDirectory}");
        var paths = FixtureWriter.WriteImerg(fixtureDirectory, files, new DateOnly(2020, 1, 1), tree: false, small: true, output, cancellationToken);

        var repoDirectory = Path.Combine(workDirectory, "repo");
        if (Directory.Exists(repoDirectory))
        {
            Directory.Delete(repoDirectory, recursive: true);
        }

        var store = new CountingObjectStore(new FileSystemObjectStore(repoDirectory));
        var sources = new CountingSource(ByteRangeSources.CreateDefault());
        var options = new RepositoryOptions { Sources = sources, ShardCacheBytes = 64L << 20, SnapshotCacheBytes = 16L << 20 };
        var repository = await Repository.CreateAsync(store, options, cancellationToken);

        var clock = Stopwatch.StartNew();
        await new Ingestor(repository, new IngestOptions { Group = "/Grid", Variables = ["precipitation"] }).RunAsync(new ListSource(paths), null, cancellationToken);
        var ingestSeconds = clock.Elapsed.TotalSeconds;
        output.WriteLine($"ingested {files:N0} files as virtual references in {ingestSeconds:0.0} s");

        // The files are read once first, so that the rechunk and every reader find them in the page cache.
        clock.Restart();
        long fileBytes = 0;
        var scratch = new byte[1 << 20];
        foreach (var path in paths)
        {
            using var file = File.OpenRead(path);
            int read;
            while ((read = await file.ReadAsync(scratch, cancellationToken)) > 0)
            {
                fileBytes += read;
            }
        }

        output.WriteLine($"read the {Report.Mb(fileBytes)} of files once, into the page cache, in {clock.Elapsed.TotalSeconds:0.0} s");

        // The rechunk, with its memory: the resident set's peak above where it stood before.
        GC.Collect();
        var baseline = ResidentMemory.Current();
        var resident = new ResidentMemory();
        resident.Reset();
        var concurrency = new RechunkOptions { Target = Native }.Concurrency;
        clock.Restart();
        var rechunk = await new Rechunker(repository, new RechunkOptions
        {
            Source = Virtual,
            Target = Native,
            Chunks = chunks,
            BudgetBytes = budgetBytes,
        }).RunAsync(null, cancellationToken);
        var rechunkSeconds = clock.Elapsed.TotalSeconds;
        var peakAbove = resident.TakePeak() - baseline;
        var decodedMb = rechunk.Progress.SourceBytes / 1048576.0;
        var mbPerSecond = decodedMb / rechunkSeconds;
        var perCore = mbPerSecond / Environment.ProcessorCount;

        var reader = await repository.ReadOnlyAsync(Repository.MainBranch, cancellationToken);
        var virtualChunks = reader.GetArrayMetadata(Virtual).ChunkShape;
        var nativeMetadata = reader.GetArrayMetadata(Native);
        var nativeChunks = nativeMetadata.ChunkShape;
        var zarrFolder = Path.Combine(workDirectory, "native.zarr");
        await WriteZarrFolderAsync(repository, reader, zarrFolder, cancellationToken);

        var n = (long)files;
        var weekStart = n / 2;
        Pattern[] patterns =
        [
            new("point_month", "point, one month", Math.Min(n / 4, Math.Max(0, n - 1440)), Math.Min(n / 4, Math.Max(0, n - 1440)) + Math.Min(1440, n), PointLon, PointLon + 1, PointLat, PointLat + 1),
            new("point_year", "point, one year", 0, n, PointLon, PointLon + 1, PointLat, PointLat + 1),
            new("map", "full map, one time", n / 2, (n / 2) + 1, 0, 360, 0, 180),
            new("box_week", "box 30x30, one week", weekStart, Math.Min(n, weekStart + 336), 100, 130, 60, 90),
        ];

        output.WriteLine($"rechunked to [{string.Join(", ", nativeChunks)}] ({rechunk.Codecs}) in {rechunkSeconds:0.0} s; reading {rounds} rounds per pattern and reader");
        // One small read of each array first, so that no figure includes compiling the read path.
        await MeasureFloeAsync(store, sources, options, Virtual, patterns[2] with { Lon1 = 1, Lat1 = 1 }, cancellationToken);
        await MeasureFloeAsync(store, sources, options, Native, patterns[2] with { Lon1 = 1, Lat1 = 1 }, cancellationToken);
        var results = new List<(Pattern Pattern, Measured Virtual, Measured Native)>();
        foreach (var pattern in patterns)
        {
            var v = await MeasureFloeAsync(store, sources, options, Virtual, pattern, cancellationToken);
            var nat = await MeasureFloeAsync(store, sources, options, Native, pattern, cancellationToken);
            Check(pattern, "the native copy", v.Sum, nat.Sum);
            results.Add((pattern, v, nat));
        }

        var netcdf = RunPeer(NetCdfPeer, paths, patterns, zarrFolder: null);
        var zarr = RunPeer(ZarrPeer, paths, patterns, zarrFolder);
        for (var i = 0; i < patterns.Length; i++)
        {
            Check(patterns[i], "netCDF4-python", results[i].Virtual.Sum, netcdf[i].Sum);
            Check(patterns[i], "xarray + zarr", results[i].Virtual.Sum, zarr[i].Sum);
        }

        var report = new Report(output);
        report.Row("pattern", "elements", "virtual", "chunks", "read", "native", "chunks", "read", "virtual ÷ native", "netCDF4 (files)", "xarray+zarr (native)");
        foreach (var ((pattern, v, nat), i) in results.Select((r, i) => (r, i)))
        {
            report.Row(pattern.Name, pattern.Elements.ToString("N0", CultureInfo.InvariantCulture),
                Report.Ms(v.Seconds * 1000), pattern.ChunksTouched(virtualChunks).ToString("N0", CultureInfo.InvariantCulture), Report.Mb(v.BytesRead),
                Report.Ms(nat.Seconds * 1000), pattern.ChunksTouched(nativeChunks).ToString("N0", CultureInfo.InvariantCulture), Report.Mb(nat.BytesRead),
                Report.F(v.Seconds / nat.Seconds, "0.0") + "x", Report.Ms(netcdf[i].Seconds * 1000), Report.Ms(zarr[i].Seconds * 1000));
        }

        report.PrintTable($"Reads, medians of {rounds} rounds (each opens the repository afresh: manifests cold, files in the page cache)");
        var rechunkReport = new Report(output);
        rechunkReport.Row("decoded", "time", "MB/s", "MB/s per core", "stored", "chunks", "source chunks read", "peak RSS above start", "budget");
        rechunkReport.Row(Report.Mb(rechunk.Progress.SourceBytes), Report.F(rechunkSeconds, "0.0") + " s", Report.F(mbPerSecond, "0"), Report.F(perCore, "0"),
            Report.Mb(rechunk.Progress.StoredBytes), rechunk.Progress.ChunksWritten.ToString("N0", CultureInfo.InvariantCulture),
            rechunk.Progress.SourceChunksRead.ToString("N0", CultureInfo.InvariantCulture), Report.Mb(peakAbove), Report.Mb(budgetBytes));
        rechunkReport.PrintTable($"Rechunk {Virtual} -> {Native}, {concurrency} workers on {Environment.ProcessorCount} cores, unit [{string.Join(", ", rechunk.UnitShape)}]");

        var figures = new Dictionary<string, object>
        {
            ["benchmark"] = "read",
            ["files"] = files,
            ["rounds"] = rounds,
            ["native_chunks"] = nativeChunks,
            ["ingest_s"] = Math.Round(ingestSeconds, 3),
            ["rechunk_s"] = Math.Round(rechunkSeconds, 3),
            ["rechunk_decoded_bytes"] = rechunk.Progress.SourceBytes,
            ["rechunk_stored_bytes"] = rechunk.Progress.StoredBytes,
            ["rechunk_mb_per_s"] = Math.Round(mbPerSecond, 1),
            ["rechunk_mb_per_s_per_core"] = Math.Round(perCore, 1),
            ["rechunk_peak_rss_above_start_bytes"] = peakAbove,
            ["rechunk_budget_bytes"] = budgetBytes,
        };
        foreach (var ((pattern, v, nat), i) in results.Select((r, i) => (r, i)))
        {
            var key = pattern.Key;
            figures[$"{key}_virtual_s"] = Math.Round(v.Seconds, 5);
            figures[$"{key}_native_s"] = Math.Round(nat.Seconds, 5);
            figures[$"{key}_virtual_over_native"] = Math.Round(v.Seconds / nat.Seconds, 2);
            figures[$"{key}_virtual_chunks"] = pattern.ChunksTouched(virtualChunks);
            figures[$"{key}_native_chunks"] = pattern.ChunksTouched(nativeChunks);
            figures[$"{key}_virtual_bytes"] = v.BytesRead;
            figures[$"{key}_native_bytes"] = nat.BytesRead;
            figures[$"{key}_netcdf4_s"] = Math.Round(netcdf[i].Seconds, 5);
            figures[$"{key}_xarray_zarr_s"] = Math.Round(zarr[i].Seconds, 5);
        }

        report.PrintJson(figures);
    }

    // Opens the repository afresh each round (cold manifests), reads the region, and sums it to check other readers.
    private async Task<Measured> MeasureFloeAsync(CountingObjectStore store, CountingSource sources, RepositoryOptions options, string path, Pattern pattern, CancellationToken cancellationToken)
    {
        var seconds = new List<double>();
        long bytes = 0;
        double sum = 0;
        for (var round = 0; round < rounds; round++)
        {
            store.Reset();
            sources.Reset();
            var clock = Stopwatch.StartNew();
            var repository = await Repository.OpenAsync(store, options, cancellationToken);
            var reader = await repository.ReadOnlyAsync(Repository.MainBranch, cancellationToken);
            var data = await reader.ReadRegionAsync(path, pattern.Start, pattern.Count, cancellationToken);
            seconds.Add(clock.Elapsed.TotalSeconds);
            bytes = store.BytesRead + sources.Bytes;
            sum = Sum(data);
        }

        return new Measured(Report.Median(seconds), bytes, sum);
    }

    private static double Sum(byte[] data)
    {
        double sum = 0;
        foreach (var value in MemoryMarshal.Cast<byte, float>(data))
        {
            sum += value;
        }

        return sum;
    }

    private static void Check(Pattern pattern, string reader, double expected, double actual)
    {
        if (Math.Abs(expected - actual) > 1e-6 * Math.Max(1, Math.Abs(expected)))
        {
            throw new InvalidOperationException($"{pattern.Name}: {reader} read values summing to {actual}, Floe's virtual array {expected}");
        }
    }

    // The native array as a Zarr v2 folder: its stored chunks as they are where Zarr v2 can decode them.
    private static async Task WriteZarrFolderAsync(Repository repository, SnapshotReader reader, string folder, CancellationToken cancellationToken)
    {
        if (Directory.Exists(folder))
        {
            Directory.Delete(folder, recursive: true);
        }

        var array = Path.Combine(folder, "precipitation");
        Directory.CreateDirectory(array);
        var metadata = reader.GetArrayMetadata(Native);
        var description = ZarrV2.Describe(metadata);
        await File.WriteAllBytesAsync(Path.Combine(folder, ".zgroup"), ZarrV2.ToBytes(ZarrV2.GroupDocument()), cancellationToken);
        await File.WriteAllBytesAsync(Path.Combine(array, ".zarray"), ZarrV2.ToBytes(description.ToJson()), cancellationToken);
        await File.WriteAllBytesAsync(Path.Combine(array, ".zattrs"), ZarrV2.ToBytes(ZarrV2.ArrayAttributes(metadata, "precipitation")), cancellationToken);
        var grid = metadata.GridShape;
        for (long i = 0; i < grid[0]; i++)
        {
            for (long j = 0; j < grid[1]; j++)
            {
                for (long k = 0; k < grid[2]; k++)
                {
                    long[] coords = [i, j, k];
                    if (await reader.GetChunkRefAsync(Native, coords, cancellationToken) is not { } chunkRef)
                    {
                        continue;
                    }

                    var stored = await repository.FetchChunkAsync(Native, chunkRef, cancellationToken);
                    var codecs = chunkRef.Codecs?.Specs;
                    var bytes = description.ServesAsStored(stored.Span, codecs) ? stored.ToArray() : description.Transcode(stored.Span, codecs);
                    await File.WriteAllBytesAsync(Path.Combine(array, $"{i}.{j}.{k}"), bytes, cancellationToken);
                }
            }
        }
    }

    private List<(double Seconds, double Sum)> RunPeer(string script, IReadOnlyList<string> paths, Pattern[] patterns, string? zarrFolder)
    {
        var config = Path.Combine(workDirectory, "peer.json");
        File.WriteAllText(config, JsonSerializer.Serialize(new
        {
            files = paths,
            folder = zarrFolder,
            rounds,
            patterns = patterns.Select(p => new[] { p.T0, p.T1, p.Lon0, p.Lon1, p.Lat0, p.Lat1 }).ToArray(),
        }));
        var scriptPath = Path.Combine(workDirectory, "peer.py");
        File.WriteAllText(scriptPath, script);
        var text = Python.Run([scriptPath, config], PeerTimeout);
        using var json = JsonDocument.Parse(text.Trim().Split('\n')[^1]);
        return [.. json.RootElement.EnumerateArray().Select(e => (e[0].GetDouble(), e[1].GetDouble()))];
    }

    // One value per file: open, read the slice, close; the files in time order, as a netCDF4-python user would.
    private const string NetCdfPeer = """
        import sys, json, time, statistics
        import numpy as np, netCDF4
        config = json.load(open(sys.argv[1]))
        files, rounds = config["files"], config["rounds"]
        results = []
        for t0, t1, lon0, lon1, lat0, lat1 in config["patterns"]:
            times, total = [], 0.0
            for _ in range(rounds):
                start = time.perf_counter()
                parts = []
                for path in files[t0:t1]:
                    with netCDF4.Dataset(path) as ds:
                        v = ds["Grid"]["precipitation"]
                        v.set_auto_maskandscale(False)
                        parts.append(np.asarray(v[0, lon0:lon1, lat0:lat1]))
                data = np.stack(parts)
                times.append(time.perf_counter() - start)
                total = float(data.astype(np.float64).sum())
            results.append([statistics.median(times), total])
        print(json.dumps(results))
        """;

    // xarray over the Zarr v2 folder, opened afresh each round; raw values (no masking), as Floe returns them.
    private const string ZarrPeer = """
        import sys, json, time, statistics
        import numpy as np, xarray as xr
        config = json.load(open(sys.argv[1]))
        folder, rounds = config["folder"], config["rounds"]
        results = []
        xr.open_zarr(folder, consolidated=False, mask_and_scale=False)["precipitation"][0:1, 0:1, 0:1].values  # warm-up, not timed
        for t0, t1, lon0, lon1, lat0, lat1 in config["patterns"]:
            times, total = [], 0.0
            for _ in range(rounds):
                start = time.perf_counter()
                ds = xr.open_zarr(folder, consolidated=False, mask_and_scale=False)
                data = ds["precipitation"][t0:t1, lon0:lon1, lat0:lat1].values
                times.append(time.perf_counter() - start)
                total = float(data.astype(np.float64).sum())
            results.append([statistics.median(times), total])
        print(json.dumps(results))
        """;
}

using System.Diagnostics;
using System.Globalization;
using System.Text.Json;
using Floe.Benchmarks.Fixtures;
using Floe.Formats.NetCdf;
using Floe.Storage;
using Floe.Tests.Shared;

namespace Floe.Benchmarks.Formats;

/// <summary>
/// `floe bench hdf5`: turns IMERG-layout NetCDF4 files (written here by netCDF4-python in the real V07 layout) into
/// virtual chunk references, locally and over a local HTTP server, against the peer: h5py walking every dataset's
/// chunks the way kerchunk's SingleHdf5ToZarr does. Figures: Formats/RESULTS.md.
/// </summary>
public sealed class Hdf5Benchmark(TextWriter output, string workDirectory, int fileCount, int rounds)
{
    // kerchunk's SingleHdf5ToZarr method: h5py over a Python file object, visit every dataset, copy its
    // attributes, filters and fill value, and ask HDF5 for every chunk's offset and size.
    private const string PeerScript = """
import sys, json, time, h5py, numpy as np

""" + KerchunkPeer.Functions + """
paths = sys.argv[2:]
rounds = int(sys.argv[1])
def translate(path):
    refs = {}
    with open(path, "rb") as f, h5py.File(f, "r") as h:
        def visit(name, obj):
            if isinstance(obj, h5py.Group):
                refs[name + "/.zattrs"] = json.dumps(attrs(obj))
            else:
                dataset_refs(refs, name, obj, path)
        h.visititems(visit)
    json.dumps(refs)
    return sum(1 for v in refs.values() if isinstance(v, list))
translate(paths[0])
times = []
for _ in range(rounds):
    for p in paths:
        start = time.perf_counter()
        n = translate(p)
        times.append((time.perf_counter() - start) * 1000)
print(json.dumps({"ms": times, "refs": n}))
""";

    public async Task<Dictionary<string, object>> RunAsync(CancellationToken cancellationToken = default)
    {
        output.WriteLine($"floe bench hdf5: {fileCount} IMERG-layout files × {rounds} rounds, in {workDirectory}");
        var files = await FixturesAsync(cancellationToken);
        var report = new Report(output);

        // Floe, local files: each read opens the file afresh, as ingestion does.
        var local = new LocalFileSource();
        var refs = (await NetCdf4Reader.ReadVirtualAsync(local, files[0], cancellationToken: cancellationToken)).Arrays.Sum(a => a.Chunks.Count);
        // Warm up until the JIT has tiered the hot paths up, as in a long ingestion (bounded in time).
        var warmup = Stopwatch.StartNew();
        for (var i = 0; warmup.Elapsed < TimeSpan.FromSeconds(3) && i < 5000; i++)
        {
            await NetCdf4Reader.ReadVirtualAsync(local, files[i % files.Count], cancellationToken: cancellationToken);
        }

        var floeMs = new List<double>();
        for (var round = 0; round < rounds; round++)
        {
            foreach (var file in files)
            {
                var clock = Stopwatch.GetTimestamp();
                var dataset = await NetCdf4Reader.ReadVirtualAsync(local, file, cancellationToken: cancellationToken);
                floeMs.Add(Stopwatch.GetElapsedTime(clock).TotalMilliseconds);
                if (dataset.Arrays.Sum(a => a.Chunks.Count) != refs)
                {
                    throw new InvalidOperationException($"{file}: reference count changed between reads");
                }
            }
        }

        // Floe over HTTP: requests, round trips and bytes per file against local servers that answer a request for
        // several ranges the two ways servers do: the whole file (object stores), or multipart/byteranges (nginx).
        using var http = new HttpClient();
        var overHttp = new List<HttpFigures>();
        foreach (var multipleRanges in new[] { false, true })
        {
            await using var server = await RangeServer.StartAsync(Path.GetDirectoryName(files[0])!, cancellationToken, multipleRanges);
            var remote = new HttpSource(http);
            var run = new HttpFigures(multipleRanges ? "multi-range server (like nginx)" : "single-range server (like S3)", [], [], [], []);
            foreach (var file in files)
            {
                var clock = Stopwatch.GetTimestamp();
                var dataset = await NetCdf4Reader.ReadVirtualAsync(remote, server.UrlOf(Path.GetFileName(file)), cancellationToken: cancellationToken);
                run.Ms.Add(Stopwatch.GetElapsedTime(clock).TotalMilliseconds);
                run.Requests.Add(dataset.Requests);
                run.RoundTrips.Add(dataset.RoundTrips);
                run.Bytes.Add(dataset.BytesRead);
            }

            overHttp.Add(run);
        }

        // The peer, in the same run.
        var peer = RunPeer(files, rounds);
        var peerMs = peer.GetProperty("ms").EnumerateArray().Select(e => e.GetDouble()).ToList();
        var peerRefs = peer.GetProperty("refs").GetInt32();

        var floeMedian = Report.Median(floeMs);
        var peerMedian = Report.Median(peerMs);
        report.Row("reader", "ms per file (median)", "files/s per core", "refs per file");
        report.Row("floe (local file)", Report.Ms(floeMedian), Report.F(1000 / floeMedian, "0"), refs.ToString(CultureInfo.InvariantCulture));
        report.Row("h5py, kerchunk's method (local file)", Report.Ms(peerMedian), Report.F(1000 / peerMedian, "0"), peerRefs.ToString(CultureInfo.InvariantCulture));
        report.Row("peer / floe", Report.F(peerMedian / floeMedian, "0.0") + "×", "", "");
        report.PrintTable("Reading one file's structure into virtual references");

        report.Row("floe over HTTP", "ms per file (median)", "requests per file", "round trips per file", "KB per file");
        foreach (var run in overHttp)
        {
            report.Row(run.Server, Report.Ms(Report.Median(run.Ms)), Report.F(Report.Median(run.Requests), "0"),
                Report.F(Report.Median(run.RoundTrips), "0"), Report.F(Report.Median(run.Bytes) / 1024, "0"));
        }

        report.PrintTable("Reading the structure over HTTP from a local server (Range GETs)");

        var figures = new Dictionary<string, object>
        {
            ["benchmark"] = "hdf5",
            ["files"] = files.Count,
            ["rounds"] = rounds,
            ["refs_per_file"] = refs,
            ["floe_ms_per_file"] = Math.Round(floeMedian, 4),
            ["floe_files_per_second_per_core"] = Math.Round(1000 / floeMedian, 1),
            ["peer"] = "h5py (kerchunk SingleHdf5ToZarr method)",
            ["peer_ms_per_file"] = Math.Round(peerMedian, 3),
            ["peer_refs_per_file"] = peerRefs,
            ["speedup"] = Math.Round(peerMedian / floeMedian, 1),
            ["http_requests_per_file"] = Report.Median(overHttp[0].Requests),
            ["http_multi_range_requests_per_file"] = Report.Median(overHttp[1].Requests),
            ["http_round_trips_per_file"] = Report.Median(overHttp[0].RoundTrips),
            ["http_bytes_per_file"] = Report.Median(overHttp[0].Bytes),
            ["http_ms_per_file"] = Math.Round(Report.Median(overHttp[0].Ms), 3),
            ["http_multi_range_ms_per_file"] = Math.Round(Report.Median(overHttp[1].Ms), 3),
        };
        report.PrintJson(figures);
        return figures;
    }

    private async Task<List<string>> FixturesAsync(CancellationToken cancellationToken)
    {
        var directory = Path.Combine(workDirectory, "imerg");
        var existing = Directory.Exists(directory) ? Directory.GetFiles(directory, "*.HDF5").Order(StringComparer.Ordinal).ToList() : [];
        if (existing.Count >= fileCount)
        {
            return existing.Take(fileCount).ToList();
        }

        output.WriteLine($"writing {fileCount} IMERG-layout files with netCDF4-python ...");
        var written = await Task.Run(
            () => FixtureWriter.WriteImerg(directory, fileCount, new DateOnly(2020, 1, 1), tree: false, small: false, progress: null, cancellationToken),
            cancellationToken);
        return [.. written];
    }

    private static JsonElement RunPeer(List<string> files, int rounds)
    {
        var stdout = Python.Run(["-c", PeerScript, rounds.ToString(CultureInfo.InvariantCulture), .. files], TimeSpan.FromMinutes(10));
        using var document = JsonDocument.Parse(stdout);
        return document.RootElement.Clone();
    }

    private sealed record HttpFigures(string Server, List<double> Ms, List<double> Requests, List<double> RoundTrips, List<double> Bytes);
}

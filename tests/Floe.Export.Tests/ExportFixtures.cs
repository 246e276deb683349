using System.Text.Json;
using Floe.Ingest;
using Floe.Ingest.Sources;
using Floe.Storage;
using Floe.Store;
using Floe.Tests.Shared;

namespace Floe.Export.Tests;

/// <summary>ERA5-layout days and IMERG-layout half hours written by netCDF4-python, ingested into two repositories.</summary>
public sealed class ExportFixtures : IAsyncLifetime
{
    // The oracle: netCDF4-python reads the source files (mask and scale on) and answers, for the export's options,
    // how many rows each day has and their sums (values rounded to float32 as the export writes them), and the
    // values at sampled (time, lat, lon) points.
    public const string NetCdfOracle = """
        import sys, json, datetime, numpy as np, netCDF4
        request = json.load(sys.stdin)
        epoch = datetime.datetime(1970, 1, 1)
        def micros(units, values):
            unit, since = units.split(" since ")
            scale = {"hours": 3600e6, "seconds": 1e6, "minutes": 60e6, "days": 86400e6}[unit.strip()]
            reference = datetime.datetime.fromisoformat(since.replace(" UTC", "").strip().split(".")[0])
            return [int(round(v * scale + (reference - epoch).total_seconds() * 1e6)) for v in values]
        days, lookup = {}, {}
        box, drop_zero = request.get("box"), request.get("drop_zero", False)
        for path in request["files"]:
            ds = netCDF4.Dataset(path)
            group = ds[request["group"]] if request.get("group") else ds
            var = group[request["variable"]]
            values = np.asarray(var[:].astype(np.float64).filled(np.nan), dtype=np.float32)
            lat = np.asarray(group[request["lat"]][:], dtype=np.float64)
            lon = np.asarray(group[request["lon"]][:], dtype=np.float64)
            lon = np.where(lon >= 180, lon - 360, lon)
            times = micros(group["time"].units, group["time"][:])
            dims = var.dimensions
            if dims.index(request["lat"]) > dims.index(request["lon"]):
                values = np.swapaxes(values, 1, 2)  # to (time, lat, lon)
            keep_lat = np.ones(lat.shape, bool) if box is None else (lat >= box[1]) & (lat <= box[3])
            if box is None:
                keep_lon = np.ones(lon.shape, bool)
            elif box[0] <= box[2]:
                keep_lon = (lon >= box[0]) & (lon <= box[2])
            else:
                keep_lon = (lon >= box[0]) | (lon <= box[2])
            for k, t in enumerate(times):
                day = datetime.datetime.utcfromtimestamp(t / 1e6).strftime("%Y-%m-%d")
                plane = values[k][keep_lat][:, keep_lon].astype(np.float64)
                present = ~np.isnan(plane)
                rows = int(plane.size) if not drop_zero else int(np.count_nonzero(~(present & (plane == 0))))
                d = days.setdefault(day, {"rows": 0, "present": 0, "sum": 0.0, "wet": 0, "min_time": t, "max_time": t})
                d["rows"] += rows
                d["present"] += int(np.count_nonzero(present & (plane != 0))) if drop_zero else int(present.sum())
                d["sum"] += float(np.nansum(plane))
                d["wet"] += int(np.count_nonzero(present & (plane > 0)))
                d["min_time"] = min(d["min_time"], t)
                d["max_time"] = max(d["max_time"], t)
                lookup[t] = (values, k, lat, lon)
        samples = []
        for s in request.get("samples", []):
            values, k, lat, lon = lookup[s["time"]]
            i = int(np.argmin(np.abs(lat - s["lat"])))
            j = int(np.argmin(np.abs(lon - s["lon"])))
            v = float(values[k][i][j])
            samples.append(None if np.isnan(v) else v)
        print(json.dumps({"days": days, "samples": samples}))
        """;

    private string _directory = "";

    public string Directory => _directory;

    public IReadOnlyList<string> Era5 { get; private set; } = [];

    public IReadOnlyList<string> Imerg { get; private set; } = [];

    public Repository Era5Repository { get; private set; } = null!;

    public Repository ImergRepository { get; private set; } = null!;

    public string Era5Store { get; private set; } = "";

    public async Task InitializeAsync()
    {
        _directory = System.IO.Directory.CreateTempSubdirectory("floe-export-tests-").FullName;
        Era5 = Lines(OraclePython.Run(File.ReadAllText(Script("era5.py")), Path.Combine(_directory, "era5"), "3", "--start", "2021-02-27", "--small"));
        Imerg = Lines(OraclePython.Run(File.ReadAllText(Script("imerg.py")), Path.Combine(_directory, "imerg"), "6", "--small"));
        Era5Store = Path.Combine(_directory, "era5-repo");
        Era5Repository = await Repository.CreateAsync(new FileSystemObjectStore(Era5Store));
        await new Ingestor(Era5Repository, new IngestOptions()).RunAsync(new ListSource(Era5));
        ImergRepository = await Repository.CreateAsync(new MemoryObjectStore());
        await new Ingestor(ImergRepository, new IngestOptions { Group = "/Grid", Variables = ["precipitation"] }).RunAsync(new ListSource(Imerg));
    }

    public Task DisposeAsync()
    {
        System.IO.Directory.Delete(_directory, recursive: true);
        return Task.CompletedTask;
    }

    /// <summary>A new, not yet existing directory inside the fixture's.</summary>
    public string NewDirectory(string name) => Path.Combine(_directory, name + "-" + Guid.NewGuid().ToString("N")[..8]);

    /// <summary>What netCDF4-python says about the source files, for an export of <paramref name="variable"/>.</summary>
    public static JsonElement NetCdf(IReadOnlyList<string> files, string variable, string lat, string lon, string? group = null, double[]? box = null,
        bool dropZero = false, IEnumerable<object>? samples = null)
    {
        var request = JsonSerializer.Serialize(new { files, variable, lat, lon, group, box, drop_zero = dropZero, samples = samples ?? [] });
        var process = OraclePython.Start(NetCdfOracle, redirectInput: true);
        using (process)
        {
            process.StandardInput.Write(request);
            process.StandardInput.Close();
            var output = process.StandardOutput.ReadToEndAsync();
            var error = process.StandardError.ReadToEndAsync();
            process.WaitForExit();
            Assert.True(process.ExitCode == 0, $"netCDF4 oracle failed: {error.Result}");
            using var document = JsonDocument.Parse(output.Result);
            return document.RootElement.Clone();
        }
    }

    /// <summary>DuckDB and h3-js on an export directory (tests/node/export-check.mjs).</summary>
    public static JsonElement DuckDb(string directory, int resolution, int sampleModulo = 0, IReadOnlyDictionary<string, string>? sql = null,
        IEnumerable<object>? cellQueries = null) =>
        OracleNode.RunJson("export-check.mjs", [], JsonSerializer.Serialize(new
        {
            dir = directory,
            resolution,
            sample_modulo = sampleModulo,
            sql = sql ?? new Dictionary<string, string>(),
            cell_queries = cellQueries ?? [],
        }));

    private static string Script(string name) => Path.Combine(AppContext.BaseDirectory, "Fixtures", name);

    private static string[] Lines(string text) => text.Split('\n', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries);
}

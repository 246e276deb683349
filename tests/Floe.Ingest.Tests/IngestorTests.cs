using System.Text.Json;
using Floe.Core;
using Floe.Ingest.Sources;
using Floe.Storage;
using Floe.Store;
using Floe.Tests.Shared;

namespace Floe.Ingest.Tests;

/// <summary>Small IMERG-layout and ERA5-layout files written once by netCDF4-python for all ingest tests.</summary>
public sealed class IngestFixtures : IDisposable
{
    public IngestFixtures()
    {
        Directory = System.IO.Directory.CreateTempSubdirectory("floe-ingest-tests-").FullName;
        ImergDirectory = Path.Combine(Directory, "imerg");
        Imerg = [.. OraclePython.Run(File.ReadAllText(Script("imerg.py")), ImergDirectory, "6", "--small")
            .Split('\n', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries)];
        Era5Directory = Path.Combine(Directory, "era5");
        Era5 = [.. OraclePython.Run(File.ReadAllText(Script("era5.py")), Era5Directory, "3", "--start", "2021-02-27", "--small")
            .Split('\n', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries)];
    }

    public string Directory { get; }

    public string ImergDirectory { get; }

    /// <summary>Six half-hourly files from 2020-01-01T00:00, 360 × 180 grid.</summary>
    public IReadOnlyList<string> Imerg { get; }

    public string Era5Directory { get; }

    /// <summary>Three days from 2021-02-27, each with its own scale_factor and add_offset.</summary>
    public IReadOnlyList<string> Era5 { get; }

    public static string Script(string name) => Path.Combine(AppContext.BaseDirectory, "Fixtures", name);

    public void Dispose() => System.IO.Directory.Delete(Directory, recursive: true);
}

public sealed class IngestorTests(IngestFixtures files) : IClassFixture<IngestFixtures>, IDisposable
{
    private static readonly string[] ImergVariables = ["precipitation", "randomError", "probabilityLiquidPrecipitation", "precipitationQualityIndex"];

    // Values as netCDF4-python reads them, flattened to float64 (masked values as NaN when masking is on).
    private const string OracleScript = """
        import sys, json, numpy as np, netCDF4
        path, variable, mask = sys.argv[1], sys.argv[2], sys.argv[3] == "1"
        ds = netCDF4.Dataset(path)
        v = ds[variable]
        v.set_auto_maskandscale(mask)
        data = np.ma.filled(np.ma.asarray(v[:]).astype(np.float64), np.nan)
        print(json.dumps([None if np.isnan(x) else float(x) for x in data.ravel()]))
        """;

    private readonly string _scratch = Directory.CreateTempSubdirectory("floe-ingest-run-").FullName;

    public void Dispose() => Directory.Delete(_scratch, recursive: true);

    private static IngestOptions Imerg(int commitEvery = 1000) => new()
    {
        Group = "/Grid",
        Variables = ImergVariables,
        CommitEvery = new CommitPolicy(commitEvery),
    };

    private static double?[] Oracle(string path, string variable, bool mask) =>
        [.. OraclePython.RunJson(OracleScript, path, variable, mask ? "1" : "0").EnumerateArray().Select(e => e.ValueKind == JsonValueKind.Null ? (double?)null : e.GetDouble())];

    private static double?[] AsDoubles(byte[] data, Core.DataType type) =>
        [.. NumericValues.ToDoubles(data, type).Select(v => double.IsNaN(v) ? (double?)null : v)];

    [Fact]
    public async Task Imerg_files_become_arrays_whose_values_equal_netCDF4_python_and_one_commit_per_batch()
    {
        var repository = await Repository.CreateAsync(new MemoryObjectStore());

        var summary = await new Ingestor(repository, Imerg(commitEvery: 4)).RunAsync(new GlobSource(Path.Combine(files.ImergDirectory, "*.HDF5")));

        Assert.Equal(6, summary.Progress.FilesDone);
        Assert.Equal(6 * 84, summary.Progress.Refs);
        Assert.Equal(2, summary.Progress.Commits);
        Assert.Empty(summary.Gaps);
        var reader = await repository.ReadOnlyAsync("main");
        Assert.Equal([6, 360, 180], reader.GetArrayMetadata("/Grid/precipitation").Shape);
        Assert.Null(reader.FindNode("/Grid/Intermediate"));
        var times = AsDoubles(await reader.ReadRegionAsync("/Grid/time", [0], [6]), Core.DataType.Int32);
        Assert.Equal(Enumerable.Range(0, 6).Select(k => (double?)(1_577_836_800 + (1800 * k))), times);
        foreach (var k in new[] { 0, 5 })
        {
            foreach (var variable in ImergVariables)
            {
                var metadata = reader.GetArrayMetadata("/Grid/" + variable);
                var values = AsDoubles(await reader.ReadRegionAsync("/Grid/" + variable, [k, 0, 0], [1, 360, 180]), metadata.DataType);
                Assert.Equal(Oracle(files.Imerg[k], "Grid/" + variable, mask: false), values);
            }
        }

        Assert.Equal(Oracle(files.Imerg[0], "Grid/lat", mask: false), AsDoubles(await reader.ReadRegionAsync("/Grid/lat", [0], [180]), Core.DataType.Float32));
        var log = await repository.LogAsync("main").ToListAsync();
        Assert.Equal("4", log[1].Metadata[Ingestor.NextOrdinalKey]);
        Assert.Equal("6", log[0].Metadata[Ingestor.NextOrdinalKey]);
    }

    [Fact]
    public async Task Era5_days_keep_each_files_packing_and_read_back_exactly_as_netCDF4_python_reads_them()
    {
        var repository = await Repository.CreateAsync(new MemoryObjectStore());
        var sources = new TimeTemplateSource(TimeTemplates.Era5(files.Era5Directory), new DateTimeOffset(2021, 2, 27, 0, 0, 0, TimeSpan.Zero),
            new DateTimeOffset(2021, 3, 2, 0, 0, 0, TimeSpan.Zero), TimeTemplates.Era5Step);

        var summary = await new Ingestor(repository, new IngestOptions()).RunAsync(sources);

        Assert.Equal(3, summary.Progress.FilesDone);
        var reader = await repository.ReadOnlyAsync("main");
        var tp = reader.GetArrayMetadata("/tp");
        Assert.Equal([72, 19, 36], tp.Shape);
        for (var day = 0; day < 3; day++)
        {
            var values = AsDoubles(await reader.ReadRegionAsync("/tp", [day * 24, 0, 0], [24, 19, 36]), tp.DataType);
            Assert.Equal(Oracle(files.Era5[day], "tp", mask: true), values);
        }

        // The first day's packing is the array's; the other days' chunks carry their own.
        Assert.Null((await reader.GetChunkRefAsync("/tp", [0, 0, 0]))!.Codecs);
        var second = (await reader.GetChunkRefAsync("/tp", [24, 0, 0]))!.Codecs;
        var third = (await reader.GetChunkRefAsync("/tp", [48, 0, 0]))!.Codecs;
        Assert.NotNull(second);
        Assert.NotNull(third);
        Assert.NotEqual(second, third);
        Assert.Equal(second, (await reader.GetChunkRefAsync("/tp", [47, 0, 0]))!.Codecs);
        var hours = AsDoubles(await reader.ReadRegionAsync("/time", [0], [72]), reader.GetArrayMetadata("/time").DataType);
        Assert.Equal(Oracle(files.Era5[0], "time", mask: false).Concat(Oracle(files.Era5[1], "time", mask: false)).Concat(Oracle(files.Era5[2], "time", mask: false)), hours);
    }

    [Fact]
    public async Task A_missing_file_of_a_template_is_a_reported_gap_read_as_fill_and_later_files_keep_their_place()
    {
        var directory = CopyImerg();
        File.Delete(Path.Combine(directory, Path.GetFileName(files.Imerg[2])));
        var repository = await Repository.CreateAsync(new MemoryObjectStore());
        var template = Path.Combine(directory, "3B-HHR.MS.MRG.3IMERG.{start:yyyyMMdd}-S{start:HHmmss}-E{end:HHmmss}.{minute:0000}.V07B.HDF5");
        var sources = new TimeTemplateSource(template, new DateTimeOffset(2020, 1, 1, 0, 0, 0, TimeSpan.Zero), new DateTimeOffset(2020, 1, 1, 3, 0, 0, TimeSpan.Zero), TimeSpan.FromMinutes(30));

        var summary = await new Ingestor(repository, Imerg()).RunAsync(sources);

        Assert.Equal(1, summary.Progress.Missing);
        Assert.Equal(Path.Combine(directory, Path.GetFileName(files.Imerg[2])), Assert.Single(summary.Problems).Location);
        var gap = Assert.Single(summary.Gaps);
        Assert.Equal((2L, 1L), (gap.FirstPosition, gap.Count));
        Assert.Equal(new DateTimeOffset(2020, 1, 1, 1, 0, 0, TimeSpan.Zero), gap.From);
        var reader = await repository.ReadOnlyAsync("main");
        Assert.All(AsDoubles(await reader.ReadRegionAsync("/Grid/precipitation", [2, 0, 0], [1, 360, 180]), Core.DataType.Float32), v => Assert.Equal(-9999.900390625, v));
        Assert.Equal(Oracle(files.Imerg[3], "Grid/precipitation", mask: false),
            AsDoubles(await reader.ReadRegionAsync("/Grid/precipitation", [3, 0, 0], [1, 360, 180]), Core.DataType.Float32));
    }

    [Fact]
    public async Task A_file_that_does_not_match_stops_the_run_naming_it_and_keeps_what_was_committed_or_is_skipped_on_request()
    {
        var directory = CopyImerg();
        var odd = Path.Combine(directory, "3B-HHR.MS.MRG.3IMERG.20200101-S030000-E032959.0180.V07B.HDF5");
        OraclePython.Run("""
            import sys, netCDF4, numpy as np
            ds = netCDF4.Dataset(sys.argv[1], "w")
            g = ds.createGroup("Grid")
            g.createDimension("time", None); g.createDimension("lon", 360); g.createDimension("lat", 180)
            t = g.createVariable("time", "i4", ("time",)); t.units = "seconds since 1970-01-01 00:00:00 UTC"; t[0] = 1577836800 + 6 * 1800
            g.createVariable("lon", "f4", ("lon",))[:] = np.arange(360)
            g.createVariable("lat", "f4", ("lat",))[:] = np.arange(180)
            p = g.createVariable("precipitation", "f4", ("time", "lon", "lat"), zlib=True, chunksizes=(1, 40, 180), fill_value=np.float32(-9999.9))
            p[0] = np.zeros((360, 180), "f4")
            ds.close()
            """, odd);
        var options = Imerg(commitEvery: 2) with { Variables = ["precipitation"] };
        var repository = await Repository.CreateAsync(new MemoryObjectStore());

        var error = await Assert.ThrowsAsync<MismatchException>(() => new Ingestor(repository, options).RunAsync(new GlobSource(Path.Combine(directory, "*.HDF5"))));

        Assert.Equal(odd, error.Location);
        Assert.Contains("/Grid/precipitation chunk shape [1, 40, 180] differs from the array's [1, 15, 180]", error.Message, StringComparison.Ordinal);
        var reader = await repository.ReadOnlyAsync("main");
        Assert.Equal(6, reader.GetArrayMetadata("/Grid/precipitation").Shape[0]);

        var skipping = await Repository.CreateAsync(new MemoryObjectStore());
        var summary = await new Ingestor(skipping, options with { SkipMismatched = true }).RunAsync(new GlobSource(Path.Combine(directory, "*.HDF5")));
        Assert.Equal(1, summary.Progress.Skipped);
        Assert.Equal(odd, Assert.Single(summary.Problems).Location);
        Assert.Equal(6, summary.Extent);
    }

    [Fact]
    public async Task An_interrupted_run_resumes_after_its_last_commit_and_a_rerun_or_overlapping_append_adds_nothing_twice()
    {
        var store = new MemoryObjectStore();
        var repository = await Repository.CreateAsync(store);
        var glob = new GlobSource(Path.Combine(files.ImergDirectory, "*.HDF5"));
        using var stop = new CancellationTokenSource();
        var firstCommit = new SynchronousProgress(p =>
        {
            if (p.Commits == 1)
            {
                stop.Cancel();
            }
        });

        await Assert.ThrowsAnyAsync<OperationCanceledException>(() => new Ingestor(repository, Imerg(commitEvery: 2) with { Concurrency = 1 }).RunAsync(glob, firstCommit, stop.Token));
        Assert.Equal(2, (await repository.ReadOnlyAsync("main")).GetArrayMetadata("/Grid/precipitation").Shape[0]);

        var resumed = await new Ingestor(await Repository.OpenAsync(store), Imerg(commitEvery: 2)).RunAsync(glob);
        Assert.Equal(2, resumed.ResumedFrom);
        Assert.Equal(4, resumed.Progress.FilesDone);

        var single = await Repository.CreateAsync(new MemoryObjectStore());
        await new Ingestor(single, Imerg(commitEvery: 2)).RunAsync(glob);
        Assert.Equal(await AllRefsAsync(single), await AllRefsAsync(repository));

        var rerun = await new Ingestor(repository, Imerg(commitEvery: 2)).RunAsync(glob);
        Assert.Equal(0, rerun.Progress.FilesDone);
        Assert.Equal(0, rerun.Progress.Commits);

        var append = await new Ingestor(repository, Imerg(commitEvery: 2) with { Mode = IngestMode.Append })
            .RunAsync(new ListSource([files.Imerg[4], files.Imerg[5]]));
        Assert.Equal(2, append.Progress.AlreadyPresent);
        Assert.Equal(0, append.Progress.Commits);
        Assert.Equal(await AllRefsAsync(single), await AllRefsAsync(repository));
    }

    [Fact]
    public async Task Ingest_refuses_a_branch_that_already_holds_other_ingested_arrays_and_append_needs_them()
    {
        var repository = await Repository.CreateAsync(new MemoryObjectStore());
        var append = await Assert.ThrowsAsync<IngestException>(() => new Ingestor(repository, Imerg() with { Mode = IngestMode.Append }).RunAsync(new ListSource([files.Imerg[0]])));
        Assert.Contains("floe ingest", append.Message, StringComparison.Ordinal);

        await new Ingestor(repository, Imerg()).RunAsync(new ListSource([files.Imerg[0], files.Imerg[1]]));
        var again = await Assert.ThrowsAsync<IngestException>(() => new Ingestor(repository, Imerg()).RunAsync(new ListSource([files.Imerg[2]])));
        Assert.Contains("floe append", again.Message, StringComparison.Ordinal);
    }

    private string CopyImerg()
    {
        var directory = Path.Combine(_scratch, Guid.NewGuid().ToString("N"));
        Directory.CreateDirectory(directory);
        foreach (var file in files.Imerg)
        {
            File.Copy(file, Path.Combine(directory, Path.GetFileName(file)));
        }

        return directory;
    }

    private static async Task<List<string>> AllRefsAsync(Repository repository)
    {
        var reader = await repository.ReadOnlyAsync("main");
        var refs = new List<string>();
        foreach (var variable in ImergVariables)
        {
            var metadata = reader.GetArrayMetadata("/Grid/" + variable);
            for (var t = 0; t < metadata.Shape[0]; t++)
            {
                for (var c = 0; c < metadata.GridShape[1]; c++)
                {
                    refs.Add($"{variable} {t} {c} {await reader.GetChunkRefAsync("/Grid/" + variable, [t, c, 0])}");
                }
            }
        }

        return refs;
    }

    private sealed class SynchronousProgress(Action<IngestProgress> report) : IProgress<IngestProgress>
    {
        public void Report(IngestProgress value) => report(value);
    }
}

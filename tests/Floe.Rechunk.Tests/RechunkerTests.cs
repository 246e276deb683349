using System.Text.Json;
using System.Text.Json.Nodes;
using Floe.Core;
using Floe.Ingest;
using Floe.Ingest.Sources;
using Floe.Storage;
using Floe.Store;
using Floe.Tests.Shared;

namespace Floe.Rechunk.Tests;

/// <summary>Eight small IMERG-layout half-hourly files, written once by netCDF4-python.</summary>
public sealed class ImergFiles : IDisposable
{
    public ImergFiles()
    {
        Directory = System.IO.Directory.CreateTempSubdirectory("floe-rechunk-tests-").FullName;
        Paths = [.. OraclePython.Run(File.ReadAllText(Path.Combine(AppContext.BaseDirectory, "Fixtures", "imerg.py")), Directory, "8", "--small")
            .Split('\n', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries)];
    }

    public string Directory { get; }

    public IReadOnlyList<string> Paths { get; }

    public void Dispose() => System.IO.Directory.Delete(Directory, recursive: true);
}

public sealed class RechunkerTests(ImergFiles files) : IClassFixture<ImergFiles>
{
    private const string Precipitation = "/Grid/precipitation";

    // netCDF4-python's raw values (no masking) of one variable over several files, stacked along time, as float64.
    private const string StackScript = """
        import sys, json, numpy as np, netCDF4
        variable, paths = sys.argv[1], sys.argv[2:]
        values = []
        for p in paths:
            v = netCDF4.Dataset(p)["Grid"][variable]
            v.set_auto_maskandscale(False)
            values.append(np.asarray(v[:], dtype=np.float64))
        print(json.dumps(np.concatenate(values).ravel().tolist()))
        """;

    /// <summary>Reports on the calling thread, so a test can react to a report before the job goes on.</summary>
    private sealed class Inline(Action<RechunkProgress> report) : IProgress<RechunkProgress>
    {
        public void Report(RechunkProgress value) => report(value);
    }

    // A float32 array with a NaN fill value, some NaN elements, smooth values, and source chunks left missing.
    private static async Task<Repository> NativeRepositoryAsync(long[] shape, int[] chunks, Func<long[], bool>? missing = null)
    {
        // Small caches, so that a small memory budget leaves room for the data.
        var repository = await Repository.CreateAsync(new MemoryObjectStore(), new RepositoryOptions { ShardCacheBytes = 16L << 20, SnapshotCacheBytes = 4L << 20 });
        var session = await repository.WritableSessionAsync();
        var metadata = ArrayMetadata.Create(shape, DataType.Float32, chunks) with
        {
            FillValue = FillValue.FromDouble(DataType.Float32, double.NaN),
            DimensionNames = ["time", "y", "x"],
            Attributes = new JsonObject { ["units"] = "mm/hr" },
        };
        session.CreateArray("/data", metadata);
        await WriteValuesAsync(session, metadata, (t, y, x) => (float)(Math.Sin(t * 0.3) + (y * 0.01) + (x * 0.001)), missing);
        await session.CommitAsync("source");
        return repository;
    }

    private static async Task WriteValuesAsync(Session session, ArrayMetadata metadata, Func<long, long, long, float> value, Func<long[], bool>? missing, long fromTime = 0)
    {
        var grid = metadata.GridShape;
        var chunks = metadata.ChunkShape;
        for (var ct = fromTime / chunks[0]; ct < grid[0]; ct++)
        {
            for (long cy = 0; cy < grid[1]; cy++)
            {
                for (long cx = 0; cx < grid[2]; cx++)
                {
                    long[] coords = [ct, cy, cx];
                    if (missing?.Invoke(coords) == true)
                    {
                        continue;
                    }

                    var data = new float[metadata.ChunkElementCount];
                    var i = 0;
                    for (var t = ct * chunks[0]; t < (ct + 1) * chunks[0]; t++)
                    {
                        for (var y = cy * chunks[1]; y < (cy + 1) * chunks[1]; y++)
                        {
                            for (var x = cx * chunks[2]; x < (cx + 1) * chunks[2]; x++)
                            {
                                // Every 13th element is NaN, like a no-data pixel; elements beyond the edge too.
                                data[i++] = t >= metadata.Shape[0] || y >= metadata.Shape[1] || x >= metadata.Shape[2] || (t + y + x) % 13 == 0 ? float.NaN : value(t, y, x);
                            }
                        }
                    }

                    await session.WriteChunkAsync("/data", coords, System.Runtime.InteropServices.MemoryMarshal.AsBytes(data.AsSpan()).ToArray());
                }
            }
        }
    }

    private static double[] Floats(byte[] data) => [.. System.Runtime.InteropServices.MemoryMarshal.Cast<byte, float>(data).ToArray().Select(f => (double)f)];

    private static async Task<byte[]> ReadAllAsync(Repository repository, string path, string reference = Repository.MainBranch)
    {
        var reader = await repository.ReadOnlyAsync(reference);
        var shape = reader.GetArrayMetadata(path).Shape;
        return await reader.ReadRegionAsync(path, new long[shape.Length], shape);
    }

    [Theory]
    [InlineData("37,1,1", 1L << 30, 42)]
    [InlineData("2,23,11", 1L << 30, 42)]
    [InlineData("7,5,3", 1L << 30, 90)] // units of 7 and 5 split source chunks of 5 and 4: some are read twice
    [InlineData("time=100,x=2", 1L << 30, 42)]
    [InlineData("4,4,4", 64L << 20, 42)]
    public async Task A_native_array_rechunked_to_any_shape_reads_back_identical_fill_values_included(string chunks, long budget, long sourceReads)
    {
        // Source chunks (5, 4, 11); a whole row of them missing reads as NaN.
        var repository = await NativeRepositoryAsync([37, 23, 11], [5, 4, 11], c => c[0] == 2);
        var before = await ReadAllAsync(repository, "/data");

        var summary = await new Rechunker(repository, new RechunkOptions { Source = "/data", Target = "/copy", Chunks = chunks, BudgetBytes = budget }).RunAsync();

        Assert.Equal(before, await ReadAllAsync(repository, "/copy"));
        var reader = await repository.ReadOnlyAsync(Repository.MainBranch);
        var copy = reader.GetArrayMetadata("/copy");
        Assert.Equal(summary.Chunks, copy.ChunkShape);
        Assert.Equal([37, 23, 11], copy.Shape);
        Assert.True(double.IsNaN(copy.FillValue.ToDouble()));
        Assert.Equal("time,y,x", string.Join(",", copy.DimensionNames!));
        Assert.Equal("mm/hr", (string?)copy.Attributes["units"]);
        Assert.Equal(summary.Job, (string?)copy.Attributes[Rechunker.AttributeKey]!["job"]);
        Assert.Contains(copy.Codecs, c => c.Name == "zstd");
        // Where units cover whole source chunks each present one (42 of 48) is read once; nothing is left behind.
        Assert.Equal(sourceReads, summary.Progress.SourceChunksRead);
        Assert.Empty(await repository.ListChangesetsAsync(Rechunker.JobPrefix + "/"));
        Assert.Equal(1, summary.Progress.Checkpoints);
    }

    [Fact]
    public async Task Chunks_that_hold_only_the_fill_value_get_no_reference()
    {
        var repository = await NativeRepositoryAsync([20, 8, 8], [5, 8, 8], c => c[0] >= 2);

        var summary = await new Rechunker(repository, new RechunkOptions { Source = "/data", Target = "/copy", Chunks = "5,4,4" }).RunAsync();

        var reader = await repository.ReadOnlyAsync(Repository.MainBranch);
        Assert.NotNull(await reader.GetChunkRefAsync("/copy", [1, 0, 0]));
        Assert.Null(await reader.GetChunkRefAsync("/copy", [2, 0, 0]));
        Assert.Equal(2 * 4, summary.Progress.ChunksWritten);
        Assert.Equal(2 * 4, summary.Progress.ChunksEmpty);
    }

    [Fact]
    public async Task Virtual_imerg_precipitation_rechunked_for_time_series_equals_netCDF4_python_on_the_original_files()
    {
        var repository = await Repository.CreateAsync(new MemoryObjectStore());
        await new Ingestor(repository, new IngestOptions { Group = "/Grid", Variables = ["precipitation"] }).RunAsync(new ListSource(files.Paths));

        var summary = await new Rechunker(repository, new RechunkOptions
        {
            Source = Precipitation,
            Target = "/Grid/precipitation_ts",
            Chunks = "time=8,lon=30,lat=18",
            Concurrency = 2,
        }).RunAsync();

        var reader = await repository.ReadOnlyAsync(Repository.MainBranch);
        var metadata = reader.GetArrayMetadata("/Grid/precipitation_ts");
        Assert.Equal([8, 360, 180], metadata.Shape);
        Assert.Equal([8, 30, 18], metadata.ChunkShape);
        var values = Floats(await ReadAllAsync(repository, "/Grid/precipitation_ts"));
        var oracle = OraclePython.RunJson(StackScript, ["precipitation", .. files.Paths]).EnumerateArray().Select(e => e.GetDouble()).ToArray();
        Assert.Equal(oracle.Length, values.Length);
        Assert.Equal(oracle, values);
        Assert.Equal(8 * 24, summary.Progress.SourceChunksRead);
        Assert.True(summary.Progress.StoredBytes > 0);
    }

    [Fact]
    public async Task A_killed_rechunk_leaves_nothing_visible_and_a_rerun_resumes_after_its_last_checkpoint()
    {
        var repository = await NativeRepositoryAsync([40, 16, 8], [1, 16, 8]);
        var expected = await ReadAllAsync(repository, "/data");
        // Units of one target-chunk row (8 time steps): five units, a checkpoint after each.
        var options = new RechunkOptions { Source = "/data", Target = "/copy", Chunks = "8,4,4", CheckpointEvery = TimeSpan.Zero };
        using var kill = new CancellationTokenSource();

        await Assert.ThrowsAnyAsync<OperationCanceledException>(() => new Rechunker(repository, options)
            .RunAsync(new Inline(p =>
            {
                if (p.Checkpoints >= 2)
                {
                    kill.Cancel();
                }
            }), kill.Token));

        var tip = await repository.ReadOnlyAsync(Repository.MainBranch);
        Assert.Null(tip.FindNode("/copy"));
        var saved = await repository.ListChangesetsAsync(Rechunker.JobPrefix + "/");
        Assert.Equal(2, saved.Count);

        var resumed = await new Rechunker(repository, options).RunAsync();

        Assert.Equal(2, resumed.Progress.UnitsResumed);
        Assert.Equal(5, resumed.Progress.UnitsDone);
        Assert.Equal(3 * 8, resumed.Progress.SourceChunksRead);
        Assert.Equal(expected, await ReadAllAsync(repository, "/copy"));
        Assert.Empty(await repository.ListChangesetsAsync(Rechunker.JobPrefix + "/"));

        var again = await new Rechunker(repository, options).RunAsync();
        Assert.True(again.AlreadyDone);
        Assert.Null(again.Snapshot);
    }

    [Fact]
    public async Task Incremental_rechunk_rewrites_only_units_that_grew_or_whose_source_changed()
    {
        var repository = await NativeRepositoryAsync([10, 8, 6], [1, 8, 6]);
        await new Rechunker(repository, new RechunkOptions { Source = "/data", Target = "/copy", Chunks = "4,2,3" }).RunAsync();
        var firstCopy = await repository.ReadOnlyAsync(Repository.MainBranch);
        var untouched = await firstCopy.GetChunkRefAsync("/copy", [1, 0, 0]);
        Assert.NotNull(untouched);

        // Five more time steps, one value changed in time step 1 and time step 2 deleted (it becomes NaN).
        var session = await repository.WritableSessionAsync();
        session.ResizeArray("/data", [15, 8, 6]);
        var metadata = session.GetArrayMetadata("/data");
        await WriteValuesAsync(session, metadata, (t, y, x) => (float)(t * 100 + y + x), null, fromTime: 10);
        var step1 = (await session.ReadChunkAsync("/data", [1, 0, 0])).ToArray();
        BitConverter.TryWriteBytes(step1.AsSpan(4 * 7), 12345f);
        await session.WriteChunkAsync("/data", [1, 0, 0], step1);
        session.DeleteChunk("/data", [2, 0, 0]);
        await session.CommitAsync("append and fix");
        var expected = await ReadAllAsync(repository, "/data");

        var summary = await new Rechunker(repository, new RechunkOptions { Target = "/copy", Incremental = true }).RunAsync();

        Assert.Equal(expected, await ReadAllAsync(repository, "/copy"));
        // Units of four time steps: 0 (time 1 and 2 changed), 2 (grew past the old edge) and 3 (new); unit 1 stays.
        Assert.Equal(3, summary.Progress.UnitsDone);
        var copy = await repository.ReadOnlyAsync(Repository.MainBranch);
        Assert.Equal(untouched, await copy.GetChunkRefAsync("/copy", [1, 0, 0]));
        Assert.Equal([15, 8, 6], copy.GetArrayMetadata("/copy").Shape);

        var again = await new Rechunker(repository, new RechunkOptions { Target = "/copy", Incremental = true }).RunAsync();
        Assert.True(again.UpToDate);
    }

    [Fact]
    public async Task Incremental_rechunk_after_floe_append_of_imerg_files_equals_netCDF4_python()
    {
        var repository = await Repository.CreateAsync(new MemoryObjectStore());
        var ingest = new IngestOptions { Group = "/Grid", Variables = ["precipitation"] };
        await new Ingestor(repository, ingest).RunAsync(new ListSource(files.Paths.Take(5)));
        await new Rechunker(repository, new RechunkOptions { Source = Precipitation, Target = "/Grid/ts", Chunks = "time=4,lon=90,lat=45" }).RunAsync();
        await new Ingestor(repository, ingest with { Mode = IngestMode.Append }).RunAsync(new ListSource(files.Paths.Skip(5)));

        var summary = await new Rechunker(repository, new RechunkOptions { Target = "/Grid/ts", Incremental = true }).RunAsync();

        var values = Floats(await ReadAllAsync(repository, "/Grid/ts"));
        var oracle = OraclePython.RunJson(StackScript, ["precipitation", .. files.Paths]).EnumerateArray().Select(e => e.GetDouble()).ToArray();
        Assert.Equal(oracle, values);
        // Only the time steps from 4 on are read again: one unit of four time steps.
        Assert.Equal(4 * 24, summary.Progress.SourceChunksRead);
    }

    [Fact]
    public async Task Shuffle_is_chosen_when_it_compresses_better_and_can_be_forced_either_way()
    {
        var repository = await NativeRepositoryAsync([24, 16, 16], [4, 16, 16]);
        var on = await new Rechunker(repository, new RechunkOptions { Source = "/data", Target = "/on", Chunks = "24,4,4", Shuffle = ShuffleMode.On }).RunAsync();
        var off = await new Rechunker(repository, new RechunkOptions { Source = "/data", Target = "/off", Chunks = "24,4,4", Shuffle = ShuffleMode.Off }).RunAsync();
        var auto = await new Rechunker(repository, new RechunkOptions { Source = "/data", Target = "/auto", Chunks = "24,4,4" }).RunAsync();

        Assert.Contains("shuffle", on.Codecs, StringComparison.Ordinal);
        Assert.DoesNotContain("shuffle", off.Codecs, StringComparison.Ordinal);
        // Smooth floats: shuffling groups their similar high bytes.
        Assert.True(on.Progress.StoredBytes < off.Progress.StoredBytes * 0.95, $"{on.Progress.StoredBytes} vs {off.Progress.StoredBytes}");
        Assert.Equal(on.Codecs, auto.Codecs);
        var expected = await ReadAllAsync(repository, "/data");
        Assert.Equal(expected, await ReadAllAsync(repository, "/on"));
        Assert.Equal(expected, await ReadAllAsync(repository, "/off"));
    }

    [Fact]
    public async Task A_copy_goes_to_another_branch_without_touching_the_source_branch()
    {
        var repository = await NativeRepositoryAsync([12, 8, 6], [1, 8, 6]);
        await repository.CreateTagAsync("v1", (await repository.ReadBranchAsync(Repository.MainBranch)).Snapshot);

        var summary = await new Rechunker(repository, new RechunkOptions { Source = "/data", Target = "/data_ts", From = "v1", Branch = "native", Chunks = "12,2,2" }).RunAsync();

        var main = await repository.ReadOnlyAsync(Repository.MainBranch);
        Assert.Null(main.FindNode("/data_ts"));
        Assert.Equal("native", summary.Branch);
        Assert.Equal(await ReadAllAsync(repository, "/data"), await ReadAllAsync(repository, "/data_ts", "native"));
        Assert.Equal((await repository.ReadBranchAsync(Repository.MainBranch)).Snapshot, (await repository.ReadOnlyAsync("native")).Snapshot.ParentId);
    }

    [Fact]
    public async Task Bad_requests_are_refused_with_the_option_or_array_named()
    {
        var repository = await NativeRepositoryAsync([12, 8, 6], [1, 8, 6]);
        await new Rechunker(repository, new RechunkOptions { Source = "/data", Target = "/copy", Chunks = "12,2,2" }).RunAsync();
        await repository.CreateTagAsync("v1", (await repository.ReadBranchAsync(Repository.MainBranch)).Snapshot);

        async Task<string> Refused(RechunkOptions options) => (await Assert.ThrowsAsync<RechunkException>(() => new Rechunker(repository, options).RunAsync())).Message;

        Assert.Contains("'/copy' already exists", await Refused(new RechunkOptions { Source = "/data", Target = "/copy", Chunks = "6,2,2" }), StringComparison.Ordinal);
        Assert.Contains("'/nope' does not exist", await Refused(new RechunkOptions { Source = "/nope", Target = "/x", Chunks = "6,2,2" }), StringComparison.Ordinal);
        Assert.Contains("--chunks 6,2", await Refused(new RechunkOptions { Source = "/data", Target = "/x", Chunks = "6,2" }), StringComparison.Ordinal);
        Assert.Contains("its dimensions: time, y, x", await Refused(new RechunkOptions { Source = "/data", Target = "/x", Chunks = "depth=3" }), StringComparison.Ordinal);
        Assert.Contains("--budget must be at least", await Refused(new RechunkOptions { Source = "/data", Target = "/x", Chunks = "6,2,2", BudgetBytes = 1 << 20 }), StringComparison.Ordinal);
        Assert.Contains("not a branch", await Refused(new RechunkOptions { Source = "/data", Target = "/x", Chunks = "6,2,2", From = "v1" }), StringComparison.Ordinal);
        Assert.Contains("is the source itself", await Refused(new RechunkOptions { Source = "/data", Target = "/data", Chunks = "6,2,2" }), StringComparison.Ordinal);
        Assert.Contains("not made by floe rechunk", await Refused(new RechunkOptions { Target = "/data", Incremental = true }), StringComparison.Ordinal);
    }

    [Fact]
    public async Task A_missing_virtual_source_file_stops_the_rechunk_naming_it_and_commits_nothing()
    {
        var directory = Directory.CreateTempSubdirectory("floe-rechunk-missing-").FullName;
        try
        {
            var copies = files.Paths.Take(3).Select(p =>
            {
                var copy = Path.Combine(directory, Path.GetFileName(p));
                File.Copy(p, copy);
                return copy;
            }).ToList();
            var repository = await Repository.CreateAsync(new MemoryObjectStore());
            await new Ingestor(repository, new IngestOptions { Group = "/Grid", Variables = ["precipitation"] }).RunAsync(new ListSource(copies));
            File.Delete(copies[1]);

            var error = await Assert.ThrowsAnyAsync<Exception>(() => new Rechunker(repository, new RechunkOptions { Source = Precipitation, Target = "/Grid/ts", Chunks = "3,36,18" }).RunAsync());

            Assert.Contains(Path.GetFileName(copies[1]), error.Message, StringComparison.Ordinal);
            Assert.Null((await repository.ReadOnlyAsync(Repository.MainBranch)).FindNode("/Grid/ts"));
        }
        finally
        {
            Directory.Delete(directory, recursive: true);
        }
    }
}

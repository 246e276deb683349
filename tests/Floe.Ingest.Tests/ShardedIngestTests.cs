using Floe.Core;
using Floe.Ingest.Sources;
using Floe.Storage;
using Floe.Store;

namespace Floe.Ingest.Tests;

/// <summary>Sharded ingestion (parts written as changesets, one merge commit) and stand-ins.</summary>
public sealed class ShardedIngestTests(IngestFixtures files) : IClassFixture<IngestFixtures>
{
    private static readonly IngestOptions Imerg = new()
    {
        Group = "/Grid",
        Variables = ["precipitation", "randomError"],
        CommitEvery = new CommitPolicy(1),
        Concurrency = 2,
    };

    private GlobSource ImergFiles => new(Path.Combine(files.ImergDirectory, "*.HDF5"));

    [Theory]
    [InlineData(3)]
    [InlineData(4)]
    [InlineData(8)]
    public async Task Parts_merged_in_one_commit_equal_a_single_process_build(int parts)
    {
        var single = await Repository.CreateAsync(new MemoryObjectStore());
        await new Ingestor(single, Imerg).RunAsync(ImergFiles);

        var store = new MemoryObjectStore();
        var sharded = await Repository.CreateAsync(store);
        // Parts run in any order, each in its own repository handle as separate processes would.
        foreach (var index in Enumerable.Range(0, parts).Reverse())
        {
            var summary = await new Ingestor(await Repository.OpenAsync(store), Imerg with { Shard = new IngestShard(index, parts) }).RunAsync(ImergFiles);
            Assert.Equal(new IngestShard(index, parts).Range(6).To - new IngestShard(index, parts).Range(6).From, summary.Progress.FilesDone);
        }

        Assert.Single(await (await Repository.OpenAsync(store)).LogAsync("main").ToListAsync());
        var job = Ingestor.JobName(ImergFiles, Imerg);
        var merged = await new Ingestor(await Repository.OpenAsync(store), Imerg).MergeAsync(job);

        Assert.Equal(parts, merged.Parts);
        Assert.Equal(6, merged.Files);
        Assert.Equal(6, merged.NextOrdinal);
        Assert.Equal(2, await sharded.LogAsync("main").CountAsync());
        Assert.Empty(await sharded.ListChangesetsAsync());
        Assert.Equal(await SnapshotOfAsync(single), await SnapshotOfAsync(sharded));

        // The merge is recorded: merging again reports it, and rerunning the plain ingest finds nothing to do.
        Assert.True((await new Ingestor(sharded, Imerg).MergeAsync(job)).AlreadyMerged);
        var rerun = await new Ingestor(sharded, Imerg).RunAsync(ImergFiles);
        Assert.Equal(0, rerun.Progress.Commits);
    }

    [Fact]
    public async Task A_merge_names_unfinished_parts_and_a_retried_part_continues_after_its_last_changeset()
    {
        var store = new MemoryObjectStore();
        var repository = await Repository.CreateAsync(store);
        var job = Ingestor.JobName(ImergFiles, Imerg);
        await new Ingestor(repository, Imerg with { Shard = new IngestShard(0, 2) }).RunAsync(ImergFiles);

        var missing = await Assert.ThrowsAsync<IngestException>(() => new Ingestor(repository, Imerg).MergeAsync(job));
        Assert.Contains("1 of 2 parts are not finished (1/2)", missing.Message, StringComparison.Ordinal);
        Assert.Contains("--shard", missing.Message, StringComparison.Ordinal);

        // Part 1 is stopped after its first batch (one file), then retried.
        using var stop = new CancellationTokenSource();
        var progress = new Progress(p =>
        {
            if (p.Commits == 1)
            {
                stop.Cancel();
            }
        });
        var second = Imerg with { Shard = new IngestShard(1, 2), Concurrency = 1 };
        var worker = new Ingestor(await Repository.OpenAsync(store), second);
        await Assert.ThrowsAnyAsync<OperationCanceledException>(() => worker.RunAsync(ImergFiles, progress, stop.Token));
        Assert.Single(await repository.ListChangesetsAsync(job + "/1-of-2/"));
        await Assert.ThrowsAsync<IngestException>(() => new Ingestor(repository, Imerg).MergeAsync(job));

        var retried = await new Ingestor(await Repository.OpenAsync(store), second).RunAsync(ImergFiles);
        Assert.Equal(4, retried.ResumedFrom);
        Assert.Equal(2, retried.Progress.FilesDone);
        var again = await new Ingestor(await Repository.OpenAsync(store), second).RunAsync(ImergFiles);
        Assert.Equal(0, again.Progress.FilesDone);

        await new Ingestor(repository, Imerg).MergeAsync(job);
        var single = await Repository.CreateAsync(new MemoryObjectStore());
        await new Ingestor(single, Imerg).RunAsync(ImergFiles);
        Assert.Equal(await SnapshotOfAsync(single), await SnapshotOfAsync(repository));
    }

    [Fact]
    public async Task Shards_need_a_source_of_known_size_and_a_job_with_parts()
    {
        var repository = await Repository.CreateAsync(new MemoryObjectStore());
        var none = await Assert.ThrowsAsync<IngestException>(() => new Ingestor(repository, Imerg).MergeAsync("nothing-here"));
        Assert.Contains("job nothing-here", none.Message, StringComparison.Ordinal);
        Assert.Contains("no parts", none.Message, StringComparison.Ordinal);
        Assert.NotEqual(Ingestor.JobName(ImergFiles, Imerg), Ingestor.JobName(ImergFiles, Imerg with { Variables = ["precipitation"] }));
        Assert.Equal("mine", Ingestor.JobName(ImergFiles, Imerg with { Job = "mine" }));
    }

    [Theory]
    [InlineData("0/1", 0, 1)]
    [InlineData("3/4", 3, 4)]
    [InlineData(" 2 / 10 ", 2, 10)]
    public void A_shard_is_part_I_of_N(string text, int index, int count) => Assert.Equal(new IngestShard(index, count), IngestShard.Parse(text));

    [Theory]
    [InlineData("4/4")]
    [InlineData("-1/4")]
    [InlineData("1/0")]
    [InlineData("1")]
    [InlineData("a/b")]
    public void A_bad_shard_is_an_error_naming_the_option(string text) =>
        Assert.Contains("--shard", Assert.Throws<ArgumentException>(() => IngestShard.Parse(text)).Message, StringComparison.Ordinal);

    [Fact]
    public void A_shard_can_come_from_a_kubernetes_indexed_job()
    {
        var environment = new Dictionary<string, string> { ["JOB_COMPLETION_INDEX"] = "2", ["JOB_COMPLETIONS"] = "5" };
        Assert.Equal(new IngestShard(2, 5), IngestShard.Parse("env", environment.GetValueOrDefault));
        var missing = Assert.Throws<ArgumentException>(() => IngestShard.Parse("env", _ => null));
        Assert.Contains("JOB_COMPLETION_INDEX", missing.Message, StringComparison.Ordinal);

        // Every file is in exactly one part, whatever N.
        foreach (var n in new[] { 1, 3, 7, 100 })
        {
            var ranges = Enumerable.Range(0, n).Select(i => new IngestShard(i, n).Range(473_328)).ToList();
            Assert.Equal(0, ranges[0].From);
            Assert.Equal(473_328, ranges[^1].To);
            Assert.All(ranges.Skip(1).Zip(ranges), p => Assert.Equal(p.Second.To, p.First.From));
        }
    }

    [Fact]
    public async Task Files_read_from_stand_ins_take_their_place_from_the_logical_time()
    {
        var repository = await Repository.CreateAsync(new MemoryObjectStore());
        var start = new DateTimeOffset(2021, 6, 1, 0, 0, 0, TimeSpan.Zero);
        var logical = new TimeTemplateSource(TimeTemplates.Era5("/archive/era5"), start, start.AddDays(5), TimeTemplates.Era5Step);
        var sources = new StandInSource(logical, [files.Era5[0], files.Era5[1]]);

        var summary = await new Ingestor(repository, new IngestOptions()).RunAsync(sources);

        Assert.Equal(5, summary.Progress.FilesDone);
        var reader = await repository.ReadOnlyAsync("main");
        Assert.Equal(5 * 24, reader.GetArrayMetadata("/tp").Shape[0]);
        var time = NumericValues.ToDoubles(await reader.ReadRegionAsync("/time", [0], [120]), reader.GetArrayMetadata("/time").DataType);
        var units = TimeUnits.Parse(reader.GetArrayMetadata("/time").Attributes["units"]!.GetValue<string>());
        Assert.Equal(Enumerable.Range(0, 120).Select(h => start.AddHours(h)), time.Select(units.ToTime));
        var chunk = Assert.IsType<VirtualChunkRef>(await reader.GetChunkRefAsync("/tp", [96, 0, 0]));
        Assert.Equal("/archive/era5/2021/06/05/total_precipitation/surface.nc", chunk.Location);
        Assert.Null(chunk.Etag);
    }

    // Everything a reader sees: every node's metadata, and every chunk's reference (native chunks by their values).
    private static async Task<List<string>> SnapshotOfAsync(Repository repository)
    {
        var reader = await repository.ReadOnlyAsync("main");
        var lines = new List<string>();
        foreach (var node in reader.Walk())
        {
            lines.Add($"{node.Path} {System.Text.Encoding.UTF8.GetString(node.ZarrJson)}");
            if (node.Kind != NodeKind.Array)
            {
                continue;
            }

            var grid = node.ArrayMetadata.GridShape;
            var coords = new long[grid.Length];
            while (coords.Length == 0 || coords[0] < grid[0])
            {
                var chunkRef = await reader.GetChunkRefAsync(node.Path, (long[])coords.Clone());
                var shown = chunkRef is VirtualChunkRef ? chunkRef.ToString() : Convert.ToHexString(await reader.ReadChunkAsync(node.Path, (long[])coords.Clone()));
                lines.Add($"{node.Path} [{string.Join(",", coords)}] {shown}");
                if (coords.Length == 0)
                {
                    break;
                }

                var d = coords.Length - 1;
                while (d > 0 && ++coords[d] >= grid[d])
                {
                    coords[d--] = 0;
                }

                if (d == 0)
                {
                    coords[0]++;
                }
            }
        }

        return lines;
    }

    private sealed class Progress(Action<IngestProgress> report) : IProgress<IngestProgress>
    {
        public void Report(IngestProgress value) => report(value);
    }
}

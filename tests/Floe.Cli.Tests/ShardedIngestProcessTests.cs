using System.Text.Json;
using Floe.Storage;
using Floe.Store;

namespace Floe.Cli.Tests;

/// <summary>
/// `floe ingest --shard I/N` in several OS processes at once, one of them configured as a Kubernetes Indexed Job
/// pod is, then `floe ingest --merge`: one commit holding exactly what a single-process build holds.
/// </summary>
public sealed class ShardedIngestProcessTests : IDisposable
{
    private const int Days = 9;
    private const int Parts = 3;

    private readonly string _root = Directory.CreateTempSubdirectory("floe-shards-").FullName;

    public void Dispose() => Directory.Delete(_root, recursive: true);

    [Fact]
    public async Task Parts_written_by_concurrent_processes_and_merged_equal_a_single_process_build()
    {
        var archive = Path.Combine(_root, "era5");
        Assert.Equal(Days, FloeCli.WriteEra5Days(archive, Days).Count);
        var sharded = Path.Combine(_root, "sharded");
        var single = Path.Combine(_root, "single");
        string[] Source(string repo) =>
            ["ingest", "--repo", repo, "--template", "era5:" + archive, "--start", "2020-01-01", "--end", "2020-01-10", "--commit-every", "2", "--json"];

        // The repository exists before the workers start, as a job's first step would make it.
        await Repository.CreateAsync(new FileSystemObjectStore(sharded));
        var workers = new[]
        {
            FloeCli.RunFloeAsync([.. Source(sharded), "--shard", "0/3"]),
            FloeCli.RunFloeAsync([.. Source(sharded), "--shard", "1/3"]),
            FloeCli.RunFloeAsync([.. Source(sharded), "--shard", "env"], new Dictionary<string, string> { ["JOB_COMPLETION_INDEX"] = "2", ["JOB_COMPLETIONS"] = "3" }),
        };
        var parts = await Task.WhenAll(workers);
        Assert.All(parts, p => Assert.Equal(Days / Parts, p.GetProperty("files_done").GetInt64()));
        Assert.Equal(["0/3", "1/3", "2/3"], parts.Select(p => p.GetProperty("shard").GetString()).Order());
        var job = parts[0].GetProperty("job").GetString()!;
        Assert.All(parts, p => Assert.Equal(job, p.GetProperty("job").GetString()));

        var repository = await Repository.OpenAsync(new FileSystemObjectStore(sharded));
        Assert.Null((await repository.ReadOnlyAsync("main")).FindNode("/tp"));

        var merged = await FloeCli.RunFloeAsync([.. Source(sharded), "--merge"], expectedEvent: "merged");
        Assert.Equal(job, merged.GetProperty("job").GetString());
        Assert.Equal(Parts, merged.GetProperty("parts").GetInt32());
        Assert.Equal(Days, merged.GetProperty("files").GetInt64());

        await FloeCli.RunFloeAsync(Source(single));
        var shardedReader = await (await Repository.OpenAsync(new FileSystemObjectStore(sharded))).ReadOnlyAsync("main");
        var singleReader = await (await Repository.OpenAsync(new FileSystemObjectStore(single))).ReadOnlyAsync("main");
        var arrays = singleReader.Walk().Where(n => n.Kind == NodeKind.Array).Select(n => n.Path).ToList();
        Assert.Equal(arrays, shardedReader.Walk().Where(n => n.Kind == NodeKind.Array).Select(n => n.Path));
        Assert.Equal(Days * 24, shardedReader.GetArrayMetadata("/tp").Shape[0]);
        Assert.Equal(await FloeCli.AllRefsAsync(singleReader, arrays), await FloeCli.AllRefsAsync(shardedReader, arrays));

        // One merge commit on top of the empty repository; merging again says so.
        Assert.Equal(2, await repository.LogAsync("main").CountAsync());
        var again = await FloeCli.RunFloeAsync(["ingest", "--repo", sharded, "--merge", "--job", job, "--json"], expectedEvent: "merged");
        Assert.True(again.GetProperty("already_merged").GetBoolean());
    }

    [Fact]
    public async Task A_merge_before_every_part_is_written_fails_naming_the_missing_parts()
    {
        var archive = Path.Combine(_root, "era5");
        FloeCli.WriteEra5Days(archive, 3);
        var repo = Path.Combine(_root, "repo");
        string[] source = ["ingest", "--repo", repo, "--template", "era5:" + archive, "--start", "2020-01-01", "--end", "2020-01-04", "--json"];
        await Repository.CreateAsync(new FileSystemObjectStore(repo));
        await FloeCli.RunFloeAsync([.. source, "--shard", "1/3"]);

        var (exitCode, error) = await FloeCli.RunFailingAsync([.. source, "--merge"]);
        Assert.NotEqual(0, exitCode);
        Assert.Contains("2 of 3 parts are not finished (0/3, 2/3)", error, StringComparison.Ordinal);

        var (badShard, shardError) = await FloeCli.RunFailingAsync([.. source, "--shard", "3/3"]);
        Assert.NotEqual(0, badShard);
        Assert.Contains("--shard", shardError, StringComparison.Ordinal);
    }
}

using System.Diagnostics;
using Floe.Ingest;
using Floe.Ingest.Sources;
using Floe.Storage;
using Floe.Store;

namespace Floe.Cli.Tests;

/// <summary>
/// `floe rechunk` run as its own OS process and killed for real in the middle of a job: nothing of the copy is
/// visible, and rerunning the same command resumes after the last checkpoint and ends with the source's values.
/// </summary>
public sealed class RechunkKillResumeTests : IDisposable
{
    private const int Days = 8;

    // Units of one day (24 time steps): the days before this one are checkpointed before its file blocks the run.
    private const int FifoDay = 5;

    private readonly string _root = Directory.CreateTempSubdirectory("floe-rechunk-kill-").FullName;

    public void Dispose() => Directory.Delete(_root, recursive: true);

    private static string[] RechunkArguments(string repo, params string[] more) =>
        ["rechunk", "--repo", repo, "--array", "/tp", "--to", "/tp_ts", "--chunks", "time=24,latitude=5,longitude=6", "--checkpoint-seconds", "0", "--json", .. more];

    [Fact]
    public async Task A_killed_rechunk_shows_nothing_and_the_rerun_resumes_to_the_source_values_packed_per_file()
    {
        var files = FloeCli.WriteEra5Days(Path.Combine(_root, "era5"), Days);
        var repo = Path.Combine(_root, "repo");
        var repository = await Repository.CreateAsync(new FileSystemObjectStore(repo));
        await new Ingestor(repository, new IngestOptions()).RunAsync(new ListSource(files));

        // Opening a FIFO blocks until a writer comes, and none does: the run stops at that day's unit for good.
        var fifo = files[FifoDay];
        var aside = fifo + ".real";
        File.Move(fifo, aside);
        using (var mkfifo = Process.Start("/usr/bin/mkfifo", [fifo]))
        {
            await mkfifo.WaitForExitAsync();
            Assert.Equal(0, mkfifo.ExitCode);
        }

        using (var killed = FloeCli.StartFloe(RechunkArguments(repo)))
        {
            try
            {
                var guard = Stopwatch.StartNew();
                while ((await repository.ListChangesetsAsync("rechunk/")).Count < FifoDay)
                {
                    Assert.False(killed.Process.HasExited, $"floe ended (exit {(killed.Process.HasExited ? killed.Process.ExitCode : 0)}) before it was killed: {(killed.Process.HasExited ? await killed.ErrorAsync() : "")}");
                    Assert.True(guard.Elapsed < FloeCli.HangGuard, "floe wrote no checkpoints: is it stuck?");
                    await Task.Delay(50);
                }

                killed.Process.Kill(entireProcessTree: true);
                await killed.Process.WaitForExitAsync();
            }
            finally
            {
                killed.KillIfRunning();
            }
        }

        Assert.Equal(FifoDay, (await repository.ListChangesetsAsync("rechunk/")).Count);
        var afterKill = await Repository.OpenAsync(new FileSystemObjectStore(repo));
        Assert.Null((await afterKill.ReadOnlyAsync(Repository.MainBranch)).FindNode("/tp_ts"));

        File.Delete(fifo);
        File.Move(aside, fifo);
        var resumed = await FloeCli.RunFloeAsync(RechunkArguments(repo));

        Assert.Equal(FifoDay, resumed.GetProperty("units_resumed").GetInt64());
        Assert.Equal(Days, resumed.GetProperty("units_done").GetInt64());
        Assert.Equal(Days - FifoDay, resumed.GetProperty("checkpoints").GetInt32());
        var reader = await (await Repository.OpenAsync(new FileSystemObjectStore(repo))).ReadOnlyAsync(Repository.MainBranch);
        var shape = reader.GetArrayMetadata("/tp").Shape;
        Assert.Equal([Days * 24, 19, 36], shape);
        Assert.Equal([24, 5, 6], reader.GetArrayMetadata("/tp_ts").ChunkShape);
        Assert.Equal(await reader.ReadRegionAsync("/tp", [0, 0, 0], shape), await reader.ReadRegionAsync("/tp_ts", [0, 0, 0], shape));
        Assert.Empty(await repository.ListChangesetsAsync("rechunk/"));

        var again = await FloeCli.RunFloeAsync(RechunkArguments(repo));
        Assert.True(again.GetProperty("already_done").GetBoolean());
    }

    [Fact]
    public async Task Bad_options_end_with_one_error_line_naming_them()
    {
        var repo = Path.Combine(_root, "repo");
        await Repository.CreateAsync(new FileSystemObjectStore(repo));

        var (exit, output) = await FloeCli.RunFailingAsync(["rechunk", "--repo", repo, "--array", "/nope", "--to", "/x", "--chunks", "4"]);
        Assert.Equal(1, exit);
        Assert.Contains("floe: error: array '/nope' does not exist", output, StringComparison.Ordinal);

        (exit, output) = await FloeCli.RunFailingAsync(["rechunk", "--repo", repo, "--array", "/nope", "--to", "/x", "--chunks", "4", "--budget", "lots"]);
        Assert.Equal(1, exit);
        Assert.Contains("--budget lots: not a size", output, StringComparison.Ordinal);
    }
}

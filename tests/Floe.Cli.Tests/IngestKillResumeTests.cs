using System.ComponentModel;
using System.Diagnostics;
using System.Globalization;
using System.Runtime.InteropServices;
using System.Text.Json;
using Floe.Benchmarks.Fixtures;
using Floe.Ingest;
using Floe.Storage;
using Floe.Store;
using Floe.Tests.Shared;

namespace Floe.Cli.Tests;

/// <summary>
/// `floe ingest` run as its own OS process and killed for real in the middle of a run: rerunning the same command
/// resumes after the last commit and ends with exactly what one uninterrupted run builds, and a further rerun adds nothing.
/// </summary>
public sealed class IngestKillResumeTests : IDisposable
{
    private const int Days = 10;
    private const int HoursPerDay = 24;

    // Batches of 2 files: ordinals 0-1, 2-3 and 4-5 are committed before the FIFO at ordinal 6 blocks the run.
    private const int FifoOrdinal = 6;

    private readonly string _root = Directory.CreateTempSubdirectory("floe-kill-resume-").FullName;

    public void Dispose() => Directory.Delete(_root, recursive: true);

    [Fact]
    public async Task A_killed_ingest_resumes_on_rerun_to_exactly_the_refs_of_an_uninterrupted_run_and_a_further_rerun_adds_nothing()
    {
        var files = FloeCli.WriteEra5Days(Path.Combine(_root, "era5"), Days);
        Assert.Equal(Days, files.Count);
        var listFile = Path.Combine(_root, "files.txt");
        await File.WriteAllLinesAsync(listFile, files);
        var resumedRepo = Path.Combine(_root, "resumed");
        var cleanRepo = Path.Combine(_root, "clean");

        // Opening a FIFO for reading blocks in open(2) until a writer comes, and none ever does: LocalFileSource opens
        // each file with File.OpenHandle (a plain blocking open), so the run commits the batches before it and then
        // hangs there for good. Where it stops is decided by the list, not by timing.
        var fifo = files[FifoOrdinal];
        var aside = fifo + ".real";
        File.Move(fifo, aside);
        MakeFifo(fifo);

        using (var killed = FloeCli.StartFloe(IngestArguments(resumedRepo, listFile)))
        {
            try
            {
                await WaitForNextOrdinalAsync(resumedRepo, FifoOrdinal, killed);
                if (killed.Process.HasExited)
                {
                    Assert.Fail($"floe ended by itself (exit {killed.Process.ExitCode}) before it was killed: {await killed.ErrorAsync()}");
                }

                killed.Process.Kill(entireProcessTree: true);
                await killed.Process.WaitForExitAsync();
            }
            finally
            {
                killed.KillIfRunning();
            }
        }

        var afterKill = await HeadAsync(resumedRepo);
        var committed = long.Parse(afterKill.Metadata[Ingestor.NextOrdinalKey], CultureInfo.InvariantCulture);
        Assert.InRange(committed, 1, Days - 1);
        Assert.Equal(FifoOrdinal, committed);
        Assert.Equal(FifoOrdinal * HoursPerDay, (await ReaderAsync(resumedRepo)).GetArrayMetadata("/tp").Shape[0]);

        File.Delete(fifo);
        // A rename keeps the file's modification time, which virtual references record.
        File.Move(aside, fifo);

        var resumed = await FloeCli.RunFloeAsync(IngestArguments(resumedRepo, listFile));
        Assert.Equal(FifoOrdinal, resumed.GetProperty("resumed_from").GetInt64());
        Assert.Equal(Days - FifoOrdinal, resumed.GetProperty("files_done").GetInt64());
        Assert.Equal((Days - FifoOrdinal) / 2, resumed.GetProperty("commits").GetInt32());
        Assert.Equal(0, resumed.GetProperty("already_present").GetInt64());
        Assert.Equal(Days * HoursPerDay, resumed.GetProperty("extent").GetInt64());

        var clean = await FloeCli.RunFloeAsync(IngestArguments(cleanRepo, listFile));
        Assert.Equal(0, clean.GetProperty("resumed_from").GetInt64());
        Assert.Equal(Days, clean.GetProperty("files_done").GetInt64());
        Assert.Equal(Days * HoursPerDay, clean.GetProperty("extent").GetInt64());

        var resumedReader = await ReaderAsync(resumedRepo);
        var cleanReader = await ReaderAsync(cleanRepo);
        var arrays = Arrays(cleanReader);
        Assert.Equal(arrays, Arrays(resumedReader));
        Assert.Contains("/tp", arrays);
        foreach (var array in arrays)
        {
            Assert.Equal(cleanReader.GetArrayMetadata(array).Shape, resumedReader.GetArrayMetadata(array).Shape);
        }

        // No file went in twice: one position per hour of every file, and the hours run on without a repeat.
        Assert.Equal(Days * HoursPerDay, resumedReader.GetArrayMetadata("/tp").Shape[0]);
        var time = resumedReader.GetArrayMetadata("/time");
        var hours = Numbers(await resumedReader.ReadRegionAsync("/time", [0], [Days * HoursPerDay]), time.DataType.Name);
        Assert.Equal(Enumerable.Range(0, Days * HoursPerDay).Select(h => hours[0] + h), hours);

        var cleanRefs = await FloeCli.AllRefsAsync(cleanReader, arrays);
        Assert.Contains(cleanRefs, r => r.StartsWith("/tp ", StringComparison.Ordinal) && r.Contains(" virtual ", StringComparison.Ordinal));
        Assert.Equal(cleanRefs, await FloeCli.AllRefsAsync(resumedReader, arrays));

        // Each batch was committed once: the killed run's three, then the rerun's two, in order.
        var batches = await BatchesAsync(resumedRepo);
        Assert.Equal([(0, 2), (2, 2), (4, 2), (6, 2), (8, 2)], batches);

        var before = (await (await OpenAsync(resumedRepo)).ReadBranchAsync(Repository.MainBranch)).Snapshot;
        var again = await FloeCli.RunFloeAsync(IngestArguments(resumedRepo, listFile));
        Assert.Equal(Days, again.GetProperty("resumed_from").GetInt64());
        Assert.Equal(0, again.GetProperty("files_done").GetInt64());
        Assert.Equal(0, again.GetProperty("commits").GetInt32());
        Assert.Equal(Days * HoursPerDay, again.GetProperty("extent").GetInt64());
        Assert.Equal(before, (await (await OpenAsync(resumedRepo)).ReadBranchAsync(Repository.MainBranch)).Snapshot);
    }

    private static string[] IngestArguments(string repo, string listFile) =>
        ["ingest", "--repo", repo, "--list-file", listFile, "--commit-every", "2", "--concurrency", "1", "--json"];

    // Chunks come back little-endian, as this machine is; era5.py writes time as int32 hours.
    private static double[] Numbers(byte[] data, string type) => type switch
    {
        "int32" => [.. MemoryMarshal.Cast<byte, int>(data).ToArray().Select(v => (double)v)],
        "int64" => [.. MemoryMarshal.Cast<byte, long>(data).ToArray().Select(v => (double)v)],
        "float64" => MemoryMarshal.Cast<byte, double>(data).ToArray(),
        _ => throw new NotSupportedException($"time of type {type}"),
    };

    private static void MakeFifo(string path)
    {
        using var mkfifo = Process.Start(new ProcessStartInfo("/usr/bin/mkfifo", [path]) { UseShellExecute = false, RedirectStandardError = true })!;
        var error = mkfifo.StandardError.ReadToEnd();
        mkfifo.WaitForExit();
        Assert.True(mkfifo.ExitCode == 0, $"mkfifo failed: {error}");
    }

    // Polls the branch head until the run has committed the files before `ordinal`; fails if floe ends first.
    private static async Task WaitForNextOrdinalAsync(string repo, long ordinal, FloeCli.FloeProcess floe)
    {
        var guard = Stopwatch.StartNew();
        while (true)
        {
            if (floe.Process.HasExited)
            {
                Assert.Fail($"floe ended (exit {floe.Process.ExitCode}) before committing file {ordinal - 1}: {await floe.ErrorAsync()}");
            }

            if (await NextOrdinalAsync(repo) >= ordinal)
            {
                return;
            }

            if (guard.Elapsed > FloeCli.HangGuard)
            {
                Assert.Fail($"floe did not commit file {ordinal - 1} within {FloeCli.HangGuard}: is it stuck?");
            }

            await Task.Delay(50);
        }
    }

    private static async Task<long> NextOrdinalAsync(string repo)
    {
        Repository repository;
        try
        {
            repository = await OpenAsync(repo);
        }
        catch (RepositoryException)
        {
            // floe has not created the repository yet.
            return 0;
        }

        var head = await repository.GetSnapshotAsync((await repository.ReadBranchAsync(Repository.MainBranch)).Snapshot);
        return head.Metadata.TryGetValue(Ingestor.NextOrdinalKey, out var next) ? long.Parse(next, CultureInfo.InvariantCulture) : 0;
    }

    private static Task<Repository> OpenAsync(string repo) => Repository.OpenAsync(new FileSystemObjectStore(repo));

    private static async Task<Snapshot> HeadAsync(string repo)
    {
        var repository = await OpenAsync(repo);
        return await repository.GetSnapshotAsync((await repository.ReadBranchAsync(Repository.MainBranch)).Snapshot);
    }

    private static async Task<SnapshotReader> ReaderAsync(string repo) => await (await OpenAsync(repo)).ReadOnlyAsync(Repository.MainBranch);

    private static List<string> Arrays(NodeReader reader) => [.. reader.Walk().Where(n => n.Kind == NodeKind.Array).Select(n => n.Path)];

    // (first ordinal, file count) of every ingest commit, oldest first.
    private static async Task<List<(int First, int Files)>> BatchesAsync(string repo)
    {
        var batches = new List<(int, int)>();
        await foreach (var snapshot in (await OpenAsync(repo)).LogAsync(Repository.MainBranch))
        {
            if (snapshot.Metadata.TryGetValue("floe.ingest.first_ordinal", out var first))
            {
                batches.Add((int.Parse(first, CultureInfo.InvariantCulture), int.Parse(snapshot.Metadata["floe.ingest.files"], CultureInfo.InvariantCulture)));
            }
        }

        batches.Reverse();
        return batches;
    }

    // Every chunk of every array: a virtual reference as where it points (and the packing it decodes with), any
    // other chunk by its decoded bytes, since native chunk ids differ between repositories.
}

using System.Diagnostics;
using System.Globalization;
using Floe.Storage;
using Floe.Storage.Azure;
using Floe.Store.Format;
using Floe.Tests.Shared;

namespace Floe.Store.Tests;

/// <summary>Many writers commit to one branch at once: every commit lands, history stays linear, no chunk is lost.</summary>
public sealed class ConcurrencyTests : IDisposable
{
    private readonly TempDirectory _dir = new();

    public void Dispose() => _dir.Dispose();

    private static int Value(int writer, int commit) => (writer * 1000) + commit;

    /// <summary>Checks a branch whose history, after <paramref name="baseId"/>, must be exactly the given commits.</summary>
    private static async Task AssertLinearHistoryWithAllChunksAsync(Repository repository, ObjectId baseId, IReadOnlyList<ObjectId>[] commitsByWriter, string arrayPath)
    {
        var commits = commitsByWriter.Sum(c => c.Count);
        var log = await TestData.LogAsync(repository);
        var newest = log.TakeWhile(s => s.Id != baseId).ToList();

        Assert.Equal(commits, newest.Count);
        Assert.Equal(commits + 2, log.Count); // plus the base commit and the repository's root
        Assert.Equal(commitsByWriter.SelectMany(c => c).Order(), newest.Select(s => s.Id).Order());
        for (var i = 0; i < log.Count - 1; i++)
        {
            Assert.Equal(log[i + 1].Id, log[i].ParentId);
        }

        // Each writer's commits appear in the order it made them.
        var position = newest.Select((s, i) => (s.Id, i)).ToDictionary(p => p.Id, p => p.i);
        foreach (var own in commitsByWriter)
        {
            for (var i = 1; i < own.Count; i++)
            {
                Assert.True(position[own[i]] < position[own[i - 1]], "a writer's later commit is older in the log");
            }
        }

        // Each commit's transaction log records exactly its one chunk.
        for (var w = 0; w < commitsByWriter.Length; w++)
        {
            for (var i = 0; i < commitsByWriter[w].Count; i++)
            {
                var txLog = await repository.GetTransactionLogAsync(commitsByWriter[w][i]);
                var change = Assert.Single(txLog.ChunkChanges);
                Assert.Equal(arrayPath, change.Path);
                Assert.Equal(new long[][] { [i, w] }, change.Written.ToArray());
            }
        }

        var reader = await (await Repository.OpenAsync(repository.Store)).ReadOnlyAsync("main");
        Assert.Equal(commits, reader.GetNode(arrayPath).RefCount);
        for (var w = 0; w < commitsByWriter.Length; w++)
        {
            for (var i = 0; i < commitsByWriter[w].Count; i++)
            {
                Assert.Equal(Value(w, i), TestData.Int32Values(await reader.ReadChunkAsync(arrayPath, [i, w]))[0]);
            }
        }
    }

    [Theory]
    [InlineData(false)]
    [InlineData(true)]
    public async Task Eight_threads_committing_disjoint_chunks_to_one_branch_all_land_in_a_linear_history(bool onFileSystem)
    {
        const int writers = 8;
        const int commitsEach = 20;
        IObjectStore store = onFileSystem ? new FileSystemObjectStore(_dir.Path, flushToDisk: false) : new MemoryObjectStore();
        var repository = await Repository.CreateAsync(store, new RepositoryOptions { RefsPerShard = 64 });
        var setup = await repository.WritableSessionAsync();
        setup.CreateArray("/grid", TestData.Int32Array([commitsEach, writers], [1, 1]));
        var baseId = await setup.CommitAsync("grid");

        var start = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        var tasks = Enumerable.Range(0, writers).Select(w => Task.Run(async () =>
        {
            var session = await repository.WritableSessionAsync();
            var ids = new List<ObjectId>();
            await start.Task;
            for (var i = 0; i < commitsEach; i++)
            {
                await session.WriteChunkAsync("/grid", [i, w], TestData.Int32Bytes(Value(w, i)));
                ids.Add(await session.CommitAsync($"writer {w} commit {i}"));
            }

            return (IReadOnlyList<ObjectId>)ids;
        })).ToList();
        start.SetResult();
        var commitsByWriter = await Task.WhenAll(tasks).WaitAsync(TimeSpan.FromSeconds(60));

        await AssertLinearHistoryWithAllChunksAsync(repository, baseId, commitsByWriter, "/grid");
    }

    [Theory]
    [InlineData("filesystem")]
    [InlineData("azurite")]
    public async Task Four_processes_committing_disjoint_chunks_to_one_branch_all_land_in_a_linear_history(string backend)
    {
        const int workers = 4;
        const int commitsEach = 12;
        using var azurite = backend == "azurite" ? AzuriteServer.Start() : null;
        var location = azurite is null ? _dir.Path : "az://floe-concurrency/repo";
        IObjectStore OpenStore() => azurite is null ? new FileSystemObjectStore(_dir.Path, flushToDisk: false) : ObjectStoreLocation.Open(location, azurite.ConnectionString);
        var repository = await Repository.CreateAsync(OpenStore());
        var setup = await repository.WritableSessionAsync();
        setup.CreateArray("/grid", TestData.Int32Array([commitsEach, workers], [1, 1]));
        var baseId = await setup.CommitAsync("grid");

        var processes = Enumerable.Range(0, workers).Select(w => StartWorker(location, azurite?.ConnectionString, w, commitsEach)).ToList();
        var commitsByWorker = new IReadOnlyList<ObjectId>[workers];
        try
        {
            // Start them together once all are loaded, so their commits really race.
            foreach (var process in processes)
            {
                var line = await process.StandardOutput.ReadLineAsync().WaitAsync(TimeSpan.FromSeconds(30));
                if (line != "ready")
                {
                    Assert.Fail($"worker said '{line}' instead of 'ready': {await ReadErrorsAsync(process)}");
                }
            }

            foreach (var process in processes)
            {
                await process.StandardInput.WriteLineAsync("go");
                await process.StandardInput.FlushAsync();
            }

            for (var w = 0; w < workers; w++)
            {
                var process = processes[w];
                var output = await process.StandardOutput.ReadToEndAsync().WaitAsync(TimeSpan.FromSeconds(60));
                var errors = await process.StandardError.ReadToEndAsync();
                await process.WaitForExitAsync().WaitAsync(TimeSpan.FromSeconds(10));
                Assert.True(process.ExitCode == 0, $"worker {w} exited with {process.ExitCode}: {output}{errors}");
                var lines = output.Split('\n', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries);
                Assert.Equal($"done worker={w} commits={commitsEach}", lines[^1]);
                commitsByWorker[w] = [.. lines.Where(l => l.StartsWith("commit ", StringComparison.Ordinal)).Select(l => ObjectId.Parse(l[7..]))];
                Assert.Equal(commitsEach, commitsByWorker[w].Count);
            }
        }
        finally
        {
            foreach (var process in processes)
            {
                if (!process.HasExited)
                {
                    process.Kill();
                }

                process.Dispose();
            }
        }

        var reopened = await Repository.OpenAsync(OpenStore());
        await AssertLinearHistoryWithAllChunksAsync(reopened, baseId, commitsByWorker, "/grid");
        var messages = (await TestData.LogAsync(reopened)).Select(s => s.Message).ToHashSet();
        for (var w = 0; w < workers; w++)
        {
            for (var i = 0; i < commitsEach; i++)
            {
                Assert.Contains($"worker {w} commit {i}", messages);
            }
        }
    }

    private static async Task<string> ReadErrorsAsync(Process process)
    {
        if (!process.HasExited)
        {
            process.Kill();
        }

        return await process.StandardError.ReadToEndAsync();
    }

    private static Process StartWorker(string location, string? connectionString, int id, int commits)
    {
        var worker = Path.Join(AppContext.BaseDirectory, "concurrency-worker", "Floe.Store.ConcurrencyWorker.dll");
        Assert.True(File.Exists(worker), $"the concurrency worker was not built at {worker}");
        var start = new ProcessStartInfo(DotnetHost.Path())
        {
            RedirectStandardInput = true,
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            UseShellExecute = false,
        };
        start.Environment[ObjectStoreLocation.ConnectionStringVariable] = connectionString;
        foreach (var arg in new[] { worker, location, id.ToString(CultureInfo.InvariantCulture), commits.ToString(CultureInfo.InvariantCulture) })
        {
            start.ArgumentList.Add(arg);
        }

        return Process.Start(start)!;
    }
}

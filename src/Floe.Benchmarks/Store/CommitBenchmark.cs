using System.Collections.Concurrent;
using System.Diagnostics;
using Floe.Core;
using Floe.Storage;
using Floe.Storage.Azure;
using Floe.Store;
using Floe.Tests.Shared;

namespace Floe.Benchmarks.Store;

/// <summary>
/// `floe bench commits`: many writers, each with its own repository instance (its own caches, as separate servers
/// or workers have), commit distinct chunks to one branch, on an Azure Blob container (Azurite) against the embedded
/// filesystem store in the same run. Reports commits per second held, commit latency and the Azure retries, and
/// checks every commit landed in one linear history.
/// </summary>
public sealed class CommitBenchmark(TextWriter output, string workDirectory, int writers, int commitsEach, int rounds, string? nodeDirectory)
{
    public async Task RunAsync(CancellationToken cancellationToken)
    {
        Directory.CreateDirectory(workDirectory);
        using var azurite = AzuriteServer.Start(inMemory: false, Path.Combine(workDirectory, "azurite"), nodeDirectory);
        var results = new Dictionary<string, List<RoundResult>> { ["filesystem"] = [], ["azurite"] = [] };
        for (var round = 0; round < rounds; round++)
        {
            // Alternate which backend goes first, so neither always gets the warmer machine.
            foreach (var backend in round % 2 == 0 ? new[] { "filesystem", "azurite" } : ["azurite", "filesystem"])
            {
                var retries = new ConcurrentBag<AzureBlobClient>();
                IObjectStore Open()
                {
                    if (backend == "filesystem")
                    {
                        return new FileSystemObjectStore(Path.Combine(workDirectory, $"fs-{round}"));
                    }

                    var client = new AzureBlobClient(AzureConnectionString.Parse(azurite.ConnectionString));
                    retries.Add(client);
                    return new AzureBlobObjectStore(client, $"bench-{round}");
                }

                var result = await RunRoundAsync(Open, cancellationToken);
                results[backend].Add(result with { Retries = retries.Sum(c => c.RetryCount) });
                output.WriteLine($"round {round + 1}/{rounds} {backend}: {result.Commits} commits in {result.Seconds:0.00} s");
            }
        }

        var report = new Report(output);
        report.Row("store", "writers", "commits", "median s", "commits/s", "p50 commit", "p99 commit", "retries");
        var figures = new Dictionary<string, object> { ["writers"] = writers, ["commits"] = writers * commitsEach, ["rounds"] = rounds };
        foreach (var (backend, list) in results)
        {
            var seconds = Report.Median(list.Select(r => r.Seconds));
            var perSecond = writers * commitsEach / seconds;
            var latencies = list.SelectMany(r => r.LatenciesMs).Order().ToArray();
            var p50 = latencies[latencies.Length / 2];
            var p99 = latencies[Math.Min(latencies.Length - 1, (int)(latencies.Length * 0.99))];
            report.Row(backend == "azurite" ? "Azure Blob (Azurite)" : "filesystem (peer)", writers.ToString(), (writers * commitsEach).ToString(),
                Report.F(seconds), Report.F(perSecond, "0.0"), Report.Ms(p50), Report.Ms(p99), list.Sum(r => r.Retries).ToString());
            figures[$"{backend}_commits_per_s"] = Math.Round(perSecond, 1);
            figures[$"{backend}_p50_commit_ms"] = Math.Round(p50, 2);
            figures[$"{backend}_p99_commit_ms"] = Math.Round(p99, 2);
            figures[$"{backend}_retries"] = list.Sum(r => r.Retries);
        }

        figures["azurite_vs_filesystem"] = Math.Round((double)figures["azurite_commits_per_s"] / (double)figures["filesystem_commits_per_s"], 3);
        report.PrintTable($"Commits of {writers} concurrent writers to one branch, {commitsEach} each (median of {rounds} rounds; every commit checked in the history)");
        report.PrintJson(figures);
    }

    private async Task<RoundResult> RunRoundAsync(Func<IObjectStore> open, CancellationToken cancellationToken)
    {
        var repository = await Repository.CreateAsync(open(), cancellationToken: cancellationToken);
        var setup = await repository.WritableSessionAsync(cancellationToken: cancellationToken);
        setup.CreateArray("/v", ArrayMetadata.Create([writers, commitsEach], DataType.Int32, [1, 1]));
        var baseId = await setup.CommitAsync("setup", cancellationToken: cancellationToken);

        var latencies = new ConcurrentBag<double>();
        var start = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        var tasks = Enumerable.Range(0, writers).Select(w => Task.Run(async () =>
        {
            var own = await Repository.OpenAsync(open(), cancellationToken: cancellationToken);
            await start.Task;
            for (var i = 0; i < commitsEach; i++)
            {
                var clock = Stopwatch.StartNew();
                var session = await own.WritableSessionAsync(cancellationToken: cancellationToken);
                await session.WriteChunkAsync("/v", [w, i], BitConverter.GetBytes((w * 1000) + i), cancellationToken);
                await session.CommitAsync($"writer {w} commit {i}", cancellationToken: cancellationToken);
                latencies.Add(clock.Elapsed.TotalMilliseconds);
            }
        }, cancellationToken)).ToList();
        var wall = Stopwatch.StartNew();
        start.SetResult();
        await Task.WhenAll(tasks);
        var seconds = wall.Elapsed.TotalSeconds;

        // Nothing lost: one linear history of every commit on top of the setup.
        var history = new List<Snapshot>();
        await foreach (var snapshot in (await Repository.OpenAsync(open(), cancellationToken: cancellationToken)).LogAsync(Repository.MainBranch, cancellationToken))
        {
            if (snapshot.Id == baseId)
            {
                break;
            }

            history.Add(snapshot);
        }

        if (history.Count != writers * commitsEach || history.Select(s => s.Message).Distinct().Count() != history.Count)
        {
            throw new InvalidOperationException($"expected {writers * commitsEach} distinct commits after the setup, found {history.Count}");
        }

        return new RoundResult(writers * commitsEach, seconds, [.. latencies], 0);
    }

    private sealed record RoundResult(int Commits, double Seconds, double[] LatenciesMs, long Retries);
}

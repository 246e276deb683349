using System.Diagnostics;
using System.Globalization;
using System.Reflection;
using System.Text;
using System.Text.RegularExpressions;
using Floe.Tests.Shared;

namespace Floe.Storage.Tests;

/// <summary>Several processes share one <see cref="FileSystemObjectStore"/> root, as separate CLI invocations do.</summary>
public sealed partial class MultiProcessTests : IDisposable
{
    private const int Workers = 4;
    private const int PerWorker = 100;

    private readonly TempDirectory _root = new();

    public void Dispose() => _root.Dispose();

    [Fact]
    public async Task Four_processes_lose_no_increment_and_each_contended_put_if_absent_has_one_winner()
    {
        var processes = Enumerable.Range(0, Workers).Select(StartWorker).ToList();
        try
        {
            // Start them together once all are loaded, so their writes really overlap.
            foreach (var process in processes)
            {
                Assert.Equal("ready", await process.StandardOutput.ReadLineAsync().WaitAsync(TimeSpan.FromSeconds(30)));
            }

            foreach (var process in processes)
            {
                await process.StandardInput.WriteLineAsync("go");
                await process.StandardInput.FlushAsync();
            }

            var results = new List<Match>();
            foreach (var process in processes)
            {
                var output = await process.StandardOutput.ReadToEndAsync().WaitAsync(TimeSpan.FromSeconds(60));
                var errors = await process.StandardError.ReadToEndAsync();
                await process.WaitForExitAsync();
                Assert.True(process.ExitCode == 0, $"worker exited with {process.ExitCode}: {output}{errors}");
                var match = ResultLine().Match(output);
                Assert.True(match.Success, $"unexpected worker output: {output}");
                results.Add(match);
            }

            int Sum(string group) => results.Sum(m => int.Parse(m.Groups[group].Value, CultureInfo.InvariantCulture));

            var store = new FileSystemObjectStore(_root.Path);
            var counter = await store.GetAsync("counter");
            Assert.Equal((Workers * PerWorker).ToString(CultureInfo.InvariantCulture), Encoding.ASCII.GetString(counter!.Data.Span));
            Assert.Equal(Workers * PerWorker, Sum("unique"));
            Assert.Equal(1, Sum("shared"));
            Assert.Equal(PerWorker, Sum("races"));
            var raceKeys = (await store.ListAsync("race/")).Keys;
            Assert.Equal(PerWorker, raceKeys.Count);
            Assert.Equal(Workers * PerWorker, (await store.ListAsync("unique/")).Keys.Count);
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
    }

    private Process StartWorker(int id)
    {
        var worker = typeof(MultiProcessTests).Assembly.GetCustomAttributes<AssemblyMetadataAttribute>()
            .Single(a => a.Key == "ConcurrencyWorkerPath").Value!;
        Assert.True(File.Exists(worker), $"the concurrency worker was not built at {worker}");
        var start = new ProcessStartInfo(DotnetHost.Path())
        {
            RedirectStandardInput = true,
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            UseShellExecute = false,
        };
        foreach (var arg in new[] { worker, _root.Path, "counter", id.ToString(CultureInfo.InvariantCulture), PerWorker.ToString(CultureInfo.InvariantCulture) })
        {
            start.ArgumentList.Add(arg);
        }

        return Process.Start(start)!;
    }

    [GeneratedRegex(@"worker=\d+ increments=\d+ retries=\d+ unique=(?<unique>\d+) shared=(?<shared>\d+) races=(?<races>\d+)")]
    private static partial Regex ResultLine();
}

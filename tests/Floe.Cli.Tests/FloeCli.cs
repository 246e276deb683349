using System.ComponentModel;
using System.Diagnostics;
using System.Globalization;
using System.Text.Json;
using Floe.Benchmarks.Fixtures;
using Floe.Store;
using Floe.Tests.Shared;

namespace Floe.Cli.Tests;

/// <summary>Runs the real floe CLI as its own OS process, and compares what repositories hold.</summary>
internal static class FloeCli
{
    // Only guards against a hung process; nothing is asserted about how fast anything runs.
    public static readonly TimeSpan HangGuard = TimeSpan.FromSeconds(120);

    // The era5.py the tests use, as Floe.Benchmarks embeds it (this project does not copy tests/Fixtures).
    public static List<string> WriteEra5Days(string directory, int days)
    {
        using var resource = typeof(FixtureWriter).Assembly.GetManifestResourceStream("era5.py");
        Assert.NotNull(resource);
        using var reader = new StreamReader(resource);
        var script = reader.ReadToEnd();
        return [.. OraclePython.Run(script, directory, days.ToString(CultureInfo.InvariantCulture), "--start", "2020-01-01", "--small")
            .Split('\n', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries)];
    }

    public static async Task<List<string>> AllRefsAsync(NodeReader reader, IEnumerable<string> arrays)
    {
        var refs = new List<string>();
        foreach (var array in arrays)
        {
            foreach (var coords in GridCoordinates(reader.GetArrayMetadata(array).GridShape))
            {
                var key = $"{array} [{string.Join(",", coords)}]";
                var chunkRef = await reader.GetChunkRefAsync(array, coords);
                refs.Add(chunkRef switch
                {
                    null => $"{key} none",
                    VirtualChunkRef v => $"{key} virtual {v.Location} {v.Offset} {v.Length} {v.Etag} {v.LastModified:o} {v.Codecs}",
                    var other => $"{key} {other.GetType().Name} {Convert.ToHexString(await reader.ReadChunkAsync(array, coords))}",
                });
            }
        }

        return refs;
    }

    public static IEnumerable<long[]> GridCoordinates(long[] grid)
    {
        if (grid.Any(n => n == 0))
        {
            yield break;
        }

        var coords = new long[grid.Length];
        while (true)
        {
            yield return (long[])coords.Clone();
            var d = grid.Length - 1;
            while (d >= 0 && ++coords[d] == grid[d])
            {
                coords[d] = 0;
                d--;
            }

            if (d < 0)
            {
                yield break;
            }
        }
    }

    // Runs floe to the end and returns its final --json line, the summary.
    public static async Task<JsonElement> RunFloeAsync(string[] arguments, IReadOnlyDictionary<string, string>? environment = null, string expectedEvent = "done")
    {
        using var floe = StartFloe(arguments, environment);
        try
        {
            using var guard = new CancellationTokenSource(HangGuard);
            try
            {
                await floe.Process.WaitForExitAsync(guard.Token);
            }
            catch (OperationCanceledException)
            {
                Assert.Fail($"floe {string.Join(' ', arguments)} did not end within {HangGuard}");
            }

            var output = await floe.OutputAsync();
            Assert.True(floe.Process.ExitCode == 0, $"floe exited {floe.Process.ExitCode}: {await floe.ErrorAsync()}\n{output}");
            var last = output.Split('\n', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries)[^1];
            using var summary = JsonDocument.Parse(last);
            Assert.Equal(expectedEvent, summary.RootElement.GetProperty("event").GetString());
            return summary.RootElement.Clone();
        }
        finally
        {
            floe.KillIfRunning();
        }
    }

    /// <summary>Runs floe expecting it to fail; returns its exit code and everything it printed.</summary>
    public static async Task<(int ExitCode, string Output)> RunFailingAsync(string[] arguments)
    {
        using var floe = StartFloe(arguments);
        try
        {
            using var guard = new CancellationTokenSource(HangGuard);
            await floe.Process.WaitForExitAsync(guard.Token);
            return (floe.Process.ExitCode, await floe.ErrorAsync() + await floe.OutputAsync());
        }
        finally
        {
            floe.KillIfRunning();
        }
    }

    public static FloeProcess StartFloe(string[] arguments, IReadOnlyDictionary<string, string>? environment = null)
    {
        var floe = Path.Combine(AppContext.BaseDirectory, "floe.dll");
        Assert.True(File.Exists(floe), $"floe.dll was not built at {floe}");
        var start = new ProcessStartInfo(DotnetHost.Path())
        {
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            UseShellExecute = false,
        };
        start.ArgumentList.Add(floe);
        foreach (var (name, value) in environment ?? new Dictionary<string, string>())
        {
            start.Environment[name] = value;
        }

        foreach (var argument in arguments)
        {
            start.ArgumentList.Add(argument);
        }

        try
        {
            return new FloeProcess(Process.Start(start)!);
        }
        catch (Win32Exception ex)
        {
            Assert.Fail($"could not start {start.FileName}: {ex.Message}");
            throw;
        }
    }

    /// <summary>A floe process with its output drained as it runs, so a full pipe never stalls it.</summary>
    public sealed class FloeProcess : IDisposable
    {
        private readonly Task<string> _output;
        private readonly Task<string> _error;

        public FloeProcess(Process process)
        {
            Process = process;
            _output = process.StandardOutput.ReadToEndAsync();
            _error = process.StandardError.ReadToEndAsync();
        }

        public Process Process { get; }

        public Task<string> OutputAsync() => _output;

        public Task<string> ErrorAsync() => _error;

        public void KillIfRunning()
        {
            if (!Process.HasExited)
            {
                Process.Kill(entireProcessTree: true);
                Process.WaitForExit();
            }
        }

        public void Dispose() => Process.Dispose();
    }
}

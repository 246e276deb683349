using System.Text.Json;
using Floe.Benchmarks.Formats;

namespace Floe.Cli.Tests;

public sealed class Hdf5BenchmarkTests : IDisposable
{
    private readonly string _directory = Path.Combine(Path.GetTempPath(), "floe-bench-hdf5-tests-" + Guid.NewGuid().ToString("N"));

    public void Dispose()
    {
        if (Directory.Exists(_directory))
        {
            Directory.Delete(_directory, recursive: true);
        }
    }

    [Fact]
    public async Task Hdf5_benchmark_reads_the_same_references_as_its_peer_and_ends_with_a_json_line()
    {
        var output = new StringWriter();
        await new Hdf5Benchmark(output, _directory, fileCount: 1, rounds: 2).RunAsync();

        var lines = output.ToString().Split('\n', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries);
        using var figures = JsonDocument.Parse(lines[^1]);
        var root = figures.RootElement;
        Assert.Equal("hdf5", root.GetProperty("benchmark").GetString());
        // Counts, not times: the same chunks as h5py finds, and a bounded number of requests over HTTP.
        Assert.Equal(root.GetProperty("peer_refs_per_file").GetInt32(), root.GetProperty("refs_per_file").GetInt32());
        Assert.Equal(99, root.GetProperty("refs_per_file").GetInt32());
        Assert.InRange(root.GetProperty("http_requests_per_file").GetDouble(), 1, 8);
        Assert.Equal(4, root.GetProperty("http_multi_range_requests_per_file").GetDouble());
        Assert.Equal(4, root.GetProperty("http_round_trips_per_file").GetDouble());
    }
}

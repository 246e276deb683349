using System.Text.Json;
using Floe.Benchmarks.Ingest;

namespace Floe.Cli.Tests;

public sealed class IngestBenchmarkTests : IDisposable
{
    private readonly string _directory = Path.Combine(Path.GetTempPath(), "floe-bench-ingest-tests-" + Guid.NewGuid().ToString("N"));

    public void Dispose()
    {
        if (Directory.Exists(_directory))
        {
            Directory.Delete(_directory, recursive: true);
        }
    }

    [Fact]
    public async Task Ingest_benchmark_builds_the_record_with_one_commit_per_period_and_ends_with_a_json_line()
    {
        var output = new StringWriter();
        await new IngestBenchmark(output, _directory, IngestScale.Days(2)).RunAsync();

        var lines = output.ToString().Split('\n', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries);
        using var figures = JsonDocument.Parse(lines[^1]);
        var root = figures.RootElement;
        Assert.Equal("ingest", root.GetProperty("benchmark").GetString());
        // Counts and bytes, not times: these hold on any machine.
        var files = root.GetProperty("files").GetInt64();
        Assert.Equal(2 * 48, files);
        Assert.Equal(2, root.GetProperty("commits").GetInt32());
        Assert.Equal("1998-01-01", root.GetProperty("first_commit").GetString());
        Assert.Equal("1998-01-02", root.GetProperty("last_commit").GetString());
        var refsPerFile = root.GetProperty("refs_per_file").GetInt64();
        Assert.True(refsPerFile > 0);
        Assert.Equal(files * refsPerFile, root.GetProperty("refs").GetInt64());
        Assert.Equal(files * refsPerFile, root.GetProperty("refs_in_store").GetInt64());
        // h5py, reading the same stand-ins independently, finds the same chunks per file.
        Assert.Equal(refsPerFile, root.GetProperty("peer_refs_per_file").GetDouble());
        Assert.Equal(files, root.GetProperty("peer_files").GetInt64());
        Assert.True(root.GetProperty("manifest_bytes").GetInt64() > 0);
        Assert.InRange(root.GetProperty("live_manifest_bytes").GetInt64(), 1, root.GetProperty("manifest_bytes").GetInt64());
        Assert.True(root.GetProperty("last_snapshot_bytes").GetInt64() > 0);
        Assert.True(root.GetProperty("peak_rss_bytes").GetInt64() > 0);
        Assert.True(root.GetProperty("peer_peak_rss_bytes").GetInt64() > 0);
    }
}

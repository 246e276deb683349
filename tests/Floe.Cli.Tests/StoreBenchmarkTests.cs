using System.Text.Json;
using Floe.Benchmarks.Store;

namespace Floe.Cli.Tests;

public sealed class StoreBenchmarkTests : IDisposable
{
    private readonly string _directory = Path.Combine(Path.GetTempPath(), "floe-bench-tests-" + Guid.NewGuid().ToString("N"));

    public void Dispose()
    {
        if (Directory.Exists(_directory))
        {
            Directory.Delete(_directory, recursive: true);
        }
    }

    [Fact]
    public async Task Small_store_benchmark_ends_with_a_json_line_whose_size_figures_meet_the_format_targets()
    {
        var output = new StringWriter();
        await new StoreBenchmark(output, _directory, full: false).RunAsync();

        var lines = output.ToString().Split('\n', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries);
        using var figures = JsonDocument.Parse(lines[^1]);
        var root = figures.RootElement;
        Assert.Equal("store", root.GetProperty("benchmark").GetString());
        Assert.Equal(730 * 27 * 84L, root.GetProperty("refs").GetInt64());
        // Byte counts, not times: these hold on any machine.
        Assert.InRange(root.GetProperty("bytes_per_ref").GetDouble(), 0.5, 6.0);
        Assert.Equal(0, root.GetProperty("open_list_manifest_bytes").GetInt64());
        Assert.InRange(root.GetProperty("cold_lookup_manifest_bytes").GetInt64(), 1, 1 << 20);
        Assert.True(root.GetProperty("kerchunk_json_bytes_per_ref").GetDouble() > 100);
    }
}

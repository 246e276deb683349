using System.Text.Json;
using Floe.Benchmarks.Read;

namespace Floe.Cli.Tests;

public sealed class ReadBenchmarkTests : IDisposable
{
    private readonly string _directory = Path.Combine(Path.GetTempPath(), "floe-bench-read-tests-" + Guid.NewGuid().ToString("N"));

    public void Dispose()
    {
        if (Directory.Exists(_directory))
        {
            Directory.Delete(_directory, recursive: true);
        }
    }

    [Fact]
    public async Task Read_benchmark_checks_every_reader_against_floe_and_ends_with_a_json_line()
    {
        var output = new StringWriter();
        // The benchmark throws when netCDF4-python, xarray + zarr or the native copy read other values than the virtual array.
        await new ReadBenchmark(output, Path.Combine(_directory, "work"), Path.Combine(_directory, "files"), files: 48, rounds: 1, budgetBytes: 256L << 20, chunks: "time=24,lon=30,lat=30")
            .RunAsync(CancellationToken.None);

        var lines = output.ToString().Split('\n', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries);
        using var figures = JsonDocument.Parse(lines[^1]);
        var root = figures.RootElement;
        Assert.Equal("read", root.GetProperty("benchmark").GetString());
        // Counts, not times: chunks each layout touches for each pattern.
        Assert.Equal(48, root.GetProperty("point_year_virtual_chunks").GetInt64());
        Assert.Equal(2, root.GetProperty("point_year_native_chunks").GetInt64());
        Assert.Equal(24, root.GetProperty("map_virtual_chunks").GetInt64());
        Assert.Equal(12 * 6, root.GetProperty("map_native_chunks").GetInt64());
        Assert.Equal(48L * 360 * 180 * 4, root.GetProperty("rechunk_decoded_bytes").GetInt64());
        Assert.True(root.GetProperty("rechunk_stored_bytes").GetInt64() > 0);
    }
}

using System.Text.Json;
using Floe.Benchmarks.Serve;

namespace Floe.Cli.Tests;

public sealed class ServeBenchmarkTests : IDisposable
{
    private readonly string _directory = Path.Combine(Path.GetTempPath(), "floe-bench-serve-tests-" + Guid.NewGuid().ToString("N"));

    public void Dispose()
    {
        if (Directory.Exists(_directory))
        {
            Directory.Delete(_directory, recursive: true);
        }
    }

    [Fact]
    public async Task Tiny_serve_benchmark_ends_with_a_json_line_whose_figures_are_present_and_consistent()
    {
        var output = new StringWriter();
        // One time step (25 chunks per array), short cells, one round: the figures' shape, not their speed.
        await new ServeBenchmark(output, _directory, chunks: 10, seconds: 0.2, rounds: 1).RunAsync();

        var lines = output.ToString().Split('\n', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries);
        Assert.Contains(lines, l => l.StartsWith("warm-up: every chunk", StringComparison.Ordinal));
        using var figures = JsonDocument.Parse(lines[^1]);
        var root = figures.RootElement;
        Assert.Equal("serve", root.GetProperty("benchmark").GetString());
        Assert.Equal(ServeBenchmark.ChunksPerStep, root.GetProperty("chunks_per_array").GetInt32());
        Assert.Equal(145 * 1800 * 4, root.GetProperty("chunk_bytes").GetInt32());
        Assert.Equal([1, 16, 64], root.GetProperty("clients").EnumerateArray().Select(c => c.GetInt32()));
        var chunkMb = ServeBenchmark.ChunkBytes / 1048576.0;

        foreach (var kind in ServeBenchmark.Kinds)
        {
            foreach (var c in ServeBenchmark.Clients)
            {
                var prefix = $"{kind}_c{c}_";
                foreach (var path in new[] { "direct_", "server_", "stream_" })
                {
                    var reads = root.GetProperty(prefix + path + "reads_per_s").GetDouble();
                    var mb = root.GetProperty(prefix + path + "mb_per_s").GetDouble();
                    Assert.True(reads > 0, $"{prefix}{path}reads_per_s is {reads}");
                    // Every chunk is the same size, so MB/s is reads/s times the chunk's MB (both rounded to 0.1).
                    Assert.InRange(mb, (reads * chunkMb) - 0.2, (reads * chunkMb) + 0.2);
                }

                foreach (var path in new[] { "direct_", "server_" })
                {
                    var p50 = root.GetProperty(prefix + path + "p50_ms").GetDouble();
                    var p99 = root.GetProperty(prefix + path + "p99_ms").GetDouble();
                    Assert.True(p50 > 0 && p50 <= p99, $"{prefix}{path}: p50 {p50}, p99 {p99}");
                }

                var ratio = root.GetProperty(prefix + "ratio").GetDouble();
                var expected = root.GetProperty(prefix + "server_mb_per_s").GetDouble() / root.GetProperty(prefix + "direct_mb_per_s").GetDouble();
                Assert.InRange(ratio, (expected * 0.98) - 0.002, (expected * 1.02) + 0.002);
            }

            foreach (var c in ServeBenchmark.BreakdownClients)
            {
                Assert.True(root.GetProperty($"{kind}_c{c}_snapshot_reads_per_s").GetDouble() > 0);
                Assert.True(root.GetProperty($"{kind}_c{c}_store_reads_per_s").GetDouble() > 0);
            }

            foreach (var c in ServeBenchmark.RegionClients)
            {
                var prefix = $"{kind}_region_c{c}_";
                var regions = root.GetProperty(prefix + "server_regions_per_s").GetDouble();
                var mb = root.GetProperty(prefix + "server_mb_per_s").GetDouble();
                Assert.True(regions > 0 && root.GetProperty(prefix + "direct_regions_per_s").GetDouble() > 0);
                // A region is one time step's whole 3600 × 1800 float32 field.
                var regionMb = 3600 * 1800 * 4 / 1048576.0;
                Assert.InRange(mb, (regions - 0.01) * regionMb - 0.1, (regions + 0.01) * regionMb + 0.1);
                Assert.True(root.GetProperty(prefix + "server_p50_ms").GetDouble() <= root.GetProperty(prefix + "server_p99_ms").GetDouble());
            }

            var met = root.GetProperty($"{kind}_target_met").GetBoolean();
            Assert.Equal(root.GetProperty($"{kind}_c64_ratio").GetDouble() >= ServeBenchmark.TargetRatio, met);
        }

        Assert.True(root.GetProperty("write_native_mb_per_s").GetDouble() > 0);
        Assert.True(root.GetProperty("write_virtual_refs_per_s").GetDouble() > 0);
    }
}

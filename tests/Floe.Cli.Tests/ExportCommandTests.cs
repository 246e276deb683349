using System.Text.Json;
using Floe.Benchmarks.Export;

namespace Floe.Cli.Tests;

/// <summary>floe export parquet and floe query as a user runs them, and a small floe bench export run.</summary>
public sealed class ExportCommandTests : IDisposable
{
    private readonly string _directory = Path.Combine(Path.GetTempPath(), "floe-export-cli-tests-" + Guid.NewGuid().ToString("N"));

    public void Dispose()
    {
        if (Directory.Exists(_directory))
        {
            Directory.Delete(_directory, recursive: true);
        }
    }

    [Fact]
    public async Task Export_then_query_from_the_command_line()
    {
        var files = FloeCli.WriteEra5Days(Path.Combine(_directory, "files"), 2);
        var repo = Path.Combine(_directory, "repo");
        await FloeCli.RunFloeAsync(["ingest", "--repo", repo, "--json", .. files]);
        var output = Path.Combine(_directory, "export");
        var export = await FloeCli.RunFloeAsync(["export", "parquet", "--repo", repo, "--array", "/tp", "--out", output, "--bbox", "170,-30,-170,30",
            "--resolution", "3", "--drop", "zero", "--row-group-rows", "200", "--json"]);
        Assert.Equal(2, export.GetProperty("files_written").GetInt32());
        Assert.Equal(3, export.GetProperty("h3_resolution").GetInt32());
        var rows = export.GetProperty("rows").GetInt64();
        Assert.True(rows > 0);

        var query = await FloeCli.RunFloeAsync(["query", output, "--start", "2020-01-01", "--end", "2020-01-02", "--bbox", "170,-30,-170,30", "--aggregate", "--format", "json", "--json"]);
        Assert.True(query.GetProperty("rows_matched").GetInt64() > 0);
        Assert.True(query.GetProperty("rows_matched").GetInt64() < rows);
        Assert.Equal(1, query.GetProperty("files_read").GetInt32());

        // A rerun skips both files; a changed resolution is refused with the reason.
        var again = await FloeCli.RunFloeAsync(["export", "parquet", "--repo", repo, "--array", "/tp", "--out", output, "--bbox", "170,-30,-170,30",
            "--resolution", "3", "--drop", "zero", "--row-group-rows", "200", "--json"]);
        Assert.Equal(2, again.GetProperty("files_skipped").GetInt32());
        var (code, text) = await FloeCli.RunFailingAsync(["export", "parquet", "--repo", repo, "--array", "/tp", "--out", output, "--resolution", "4"]);
        Assert.Equal(1, code);
        Assert.Contains("holds an export made with other options", text, StringComparison.Ordinal);
    }

    [Theory]
    [InlineData(new[] { "--resolution", "16" }, "--resolution 16 is not an H3 resolution")]
    [InlineData(new[] { "--bbox", "10,20,30" }, "--bbox \"10,20,30\" must be WEST,SOUTH,EAST,NORTH")]
    [InlineData(new[] { "--start", "2020-01-05", "--end", "2020-01-01" }, "the end must be after the start")]
    [InlineData(new[] { "--drop", "rain" }, "\"rain\" is neither zero nor missing")]
    public async Task Bad_export_options_fail_with_one_clear_line(string[] extra, string message)
    {
        var files = FloeCli.WriteEra5Days(Path.Combine(_directory, "files"), 1);
        var repo = Path.Combine(_directory, "repo");
        await FloeCli.RunFloeAsync(["ingest", "--repo", repo, "--json", .. files]);
        var (code, text) = await FloeCli.RunFailingAsync(["export", "parquet", "--repo", repo, "--array", "/tp", "--out", Path.Combine(_directory, "out"), .. extra]);
        Assert.Equal(1, code);
        Assert.Contains(message, text, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Export_benchmark_agrees_with_duckdb_and_ends_with_a_json_line()
    {
        var output = new StringWriter();
        // The benchmark throws when DuckDB's row count or query answer differs from Floe's.
        await new ExportBenchmark(output, Path.Combine(_directory, "work"), Path.Combine(_directory, "fixtures"), days: 2, rounds: 1, queryRounds: 2, small: true, nodeDirectory: null)
            .RunAsync(CancellationToken.None);
        var lines = output.ToString().Split('\n', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries);
        using var figures = JsonDocument.Parse(lines[^1]);
        var root = figures.RootElement;
        Assert.Equal("export", root.GetProperty("benchmark").GetString());
        Assert.Equal(2 * 24 * 19 * 36, root.GetProperty("rows").GetInt64());
        Assert.True(root.GetProperty("query_row_groups_read").GetInt32() <= root.GetProperty("query_row_groups").GetInt32());
    }
}

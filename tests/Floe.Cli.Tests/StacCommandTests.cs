using System.Globalization;
using System.Text.Json;
using System.Text.Json.Nodes;

namespace Floe.Cli.Tests;

/// <summary>floe export parquet writes a STAC catalog; floe stac search finds files in it; floe query reads only those.</summary>
public sealed class StacCommandTests : IDisposable
{
    private readonly string _directory = Path.Combine(Path.GetTempPath(), "floe-stac-cli-tests-" + Guid.NewGuid().ToString("N"));

    public void Dispose()
    {
        if (Directory.Exists(_directory))
        {
            Directory.Delete(_directory, recursive: true);
        }
    }

    [Fact]
    public async Task Search_the_catalog_an_export_wrote_then_query_the_files_found()
    {
        var files = FloeCli.WriteEra5Days(Path.Combine(_directory, "files"), 2);
        var repo = Path.Combine(_directory, "era5");
        await FloeCli.RunFloeAsync(["ingest", "--repo", repo, "--json", .. files]);
        var output = Path.Combine(_directory, "exports", "daily");
        var export = await FloeCli.RunFloeAsync(["export", "parquet", "--repo", repo, "--array", "/tp", "--out", output, "--json"]);
        Assert.Equal(("era5-daily", 2), (export.GetProperty("stac_collection").GetString(), export.GetProperty("stac_items").GetInt32()));
        Assert.True(File.Exists(export.GetProperty("stac_catalog").GetString()));

        // The second day, by date: one href, its Parquet file.
        var hrefs = Lines(await RunTextAsync(["stac", "search", "--catalog", Path.Combine(_directory, "exports"), "--datetime", "2020-01-02", "--format", "hrefs"]));
        var href = Assert.Single(hrefs);
        Assert.EndsWith(Path.Combine("date=2020-01-02", "tp-20200102T000000Z.parquet"), href, StringComparison.Ordinal);

        // A filter on the per-file maximum picks the day the manifest says is wetter.
        var manifest = JsonNode.Parse(File.ReadAllText(Path.Combine(output, "_floe_export.json")))!["files"]!.AsArray();
        var maxima = manifest.Select(f => f!["values"]!["tp_mm"]!["max"]!.GetValue<double>()).ToArray();
        var threshold = (maxima[0] + maxima[1]) / 2;
        var wetter = maxima[0] > maxima[1] ? 0 : 1;
        var found = Lines(await RunTextAsync(["stac", "search", "--catalog", output, "--filter", $"max_tp_mm > {threshold.ToString("R", CultureInfo.InvariantCulture)}", "--format", "json"]));
        var item = JsonNode.Parse(Assert.Single(found))!;
        Assert.Equal(manifest[wetter]!["date"]!.GetValue<string>(), item["properties"]!["floe:date"]!.GetValue<string>());

        // The table lists both days, sorted by time.
        var table = await RunTextAsync(["stac", "search", "--catalog", output, "--sortby", "-datetime"]);
        Assert.Contains("2 item(s)", table, StringComparison.Ordinal);
        Assert.True(table.IndexOf("tp-20200102T000000Z", StringComparison.Ordinal) < table.IndexOf("tp-20200101T000000Z", StringComparison.Ordinal), table);

        // floe query reads only the file the search found.
        var list = Path.Combine(_directory, "found.txt");
        await File.WriteAllLinesAsync(list, hrefs);
        var query = await FloeCli.RunFloeAsync(["query", output, "--files", list, "--aggregate", "--format", "json", "--json"]);
        Assert.Equal(1, query.GetProperty("files_read").GetInt32());
        Assert.Equal(manifest[1]!["rows"]!.GetValue<long>(), query.GetProperty("rows_matched").GetInt64());

        // floe stac write renames the collection.
        var rewrite = await RunTextAsync(["stac", "write", "--repo", repo, output, "--collection", "era5-tp"]);
        Assert.Contains("collection era5-tp, 2 item(s)", rewrite, StringComparison.Ordinal);
        Assert.Equal("era5-tp", JsonNode.Parse(File.ReadAllText(Path.Combine(output, "stac", "collection.json")))!["id"]!.GetValue<string>());
    }

    [Theory]
    [InlineData(new[] { "stac", "search" }, "give --catalog DIR")]
    [InlineData(new[] { "stac", "search", "--catalog", "CATALOG", "--datetime", "soon" }, "datetime: \"soon\" is not an RFC 3339 date-time")]
    [InlineData(new[] { "stac", "search", "--catalog", "CATALOG", "--filter", "max_tp_mm >" }, "filter: ")]
    [InlineData(new[] { "stac", "search", "--catalog", "CATALOG", "--bbox", "0,0,1" }, "bbox: 4 or 6 numbers expected")]
    [InlineData(new[] { "stac", "search", "--catalog", "CATALOG", "--collections", "nope" }, "collections: no collection nope")]
    [InlineData(new[] { "stac", "search", "--catalog", "CATALOG", "--format", "xml" }, "--format xml")]
    [InlineData(new[] { "query", "CATALOG", "--files", "CATALOG/missing.txt" }, "--files")]
    public async Task Bad_searches_fail_with_one_line_naming_the_parameter(string[] arguments, string message)
    {
        var files = FloeCli.WriteEra5Days(Path.Combine(_directory, "files"), 1);
        var repo = Path.Combine(_directory, "era5");
        await FloeCli.RunFloeAsync(["ingest", "--repo", repo, "--json", .. files]);
        var output = Path.Combine(_directory, "export");
        await FloeCli.RunFloeAsync(["export", "parquet", "--repo", repo, "--array", "/tp", "--out", output, "--json"]);
        var (code, text) = await FloeCli.RunFailingAsync(arguments.Select(a => a.Replace("CATALOG", output, StringComparison.Ordinal)).ToArray());
        Assert.Equal(1, code);
        Assert.Contains(message, text, StringComparison.Ordinal);
        Assert.StartsWith("floe: error:", text, StringComparison.Ordinal);
    }

    private static string[] Lines(string text) => text.Split('\n', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries);

    private static async Task<string> RunTextAsync(string[] arguments)
    {
        using var floe = FloeCli.StartFloe(arguments);
        try
        {
            using var guard = new CancellationTokenSource(FloeCli.HangGuard);
            await floe.Process.WaitForExitAsync(guard.Token);
            var output = await floe.OutputAsync();
            Assert.True(floe.Process.ExitCode == 0, $"floe {string.Join(' ', arguments)} exited {floe.Process.ExitCode}: {await floe.ErrorAsync()}\n{output}");
            return output;
        }
        finally
        {
            floe.KillIfRunning();
        }
    }
}

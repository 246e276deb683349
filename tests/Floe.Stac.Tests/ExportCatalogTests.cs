using System.Text.Json;
using System.Text.Json.Nodes;
using Floe.Export;
using Floe.Tests.Shared;

namespace Floe.Stac.Tests;

/// <summary>The static catalog of an export, checked against DuckDB and h3-js reading the Parquet files and against the STAC schemas.</summary>
public sealed class ExportCatalogTests(StacFixtures fixtures) : IClassFixture<StacFixtures>
{
    private static readonly DateTimeOffset Day1 = new(2021, 2, 27, 0, 0, 0, TimeSpan.Zero);

    [Fact]
    public async Task Every_document_validates_and_each_item_says_what_duckdb_and_h3_js_find_in_its_file()
    {
        var output = fixtures.NewDirectory("drop");
        // A regional box with zero rows dropped: each file holds its own subset of points, so its bbox and coarse cells are its own.
        await new ParquetExporter(fixtures.Repository, new ExportOptions
        {
            Arrays = ["/tp"],
            OutputDirectory = output,
            Resolution = 3,
            DropZero = true,
            Box = GeoBox.Parse("-40,-60,60,60"),
            RepositoryName = "era5",
        }).RunAsync();

        var result = await ExportCatalog.WriteAsync(output, fixtures.Repository);

        Assert.Equal(("era5-" + Path.GetFileName(output), 3, 0), (result.CollectionId, result.Items, result.ItemsRemoved));
        var stac = Path.Combine(output, "stac");
        var documents = Directory.EnumerateFiles(stac, "*.json", SearchOption.AllDirectories).Order(StringComparer.Ordinal).ToList();
        Assert.Equal(5, documents.Count);
        AssertValid(documents);
        Assert.Empty(Directory.EnumerateFiles(stac, "*.partial", SearchOption.AllDirectories));

        var loaded = ExportCatalog.Load(output);
        Assert.Equal(3, loaded.Items.Count);
        var hrefs = loaded.Items.Select(i => i["assets"]!["data"]!["href"]!.GetValue<string>()).ToList();
        Assert.All(hrefs, h => Assert.True(File.Exists(h), h));
        var oracle = OracleNode.RunJson("stac-export-check.mjs", [], JsonSerializer.Serialize(new { files = hrefs, value = "tp_mm" }));
        for (var i = 0; i < loaded.Items.Count; i++)
        {
            var item = loaded.Items[i];
            var truth = oracle[i];
            var p = item["properties"]!;
            Assert.Equal(Day1.AddDays(i), DateTimeOffset.Parse(p["start_datetime"]!.GetValue<string>(), System.Globalization.CultureInfo.InvariantCulture));
            Assert.Equal(truth.GetProperty("first_us").GetInt64(), Micros(p["start_datetime"]!));
            Assert.Equal(truth.GetProperty("last_us").GetInt64(), Micros(p["end_datetime"]!));
            Assert.Equal(truth.GetProperty("rows").GetInt64(), p["table:row_count"]!.GetValue<long>());
            Assert.Equal(truth.GetProperty("max").GetDouble(), p["max_tp_mm"]!.GetValue<double>());
            Assert.Equal(truth.GetProperty("min").GetDouble(), p["min_tp_mm"]!.GetValue<double>());
            Assert.Equal(truth.GetProperty("mean").GetDouble(), p["mean_tp_mm"]!.GetValue<double>(), 1e-9);
            Assert.Equal((double)truth.GetProperty("wet").GetInt64() / truth.GetProperty("present").GetInt64(), p["wet_fraction_tp_mm"]!.GetValue<double>(), 12);
            Assert.Equal(3, p["floe:h3_resolution"]!.GetValue<int>());

            // bbox: DuckDB's extent of the file's points (the box is not across the antimeridian).
            var lons = truth.GetProperty("lons").EnumerateArray().Select(l => l.GetDouble()).ToList();
            double[] expected = [lons.Min(), truth.GetProperty("south").GetDouble(), lons.Max(), truth.GetProperty("north").GetDouble()];
            Assert.Equal(expected, item["bbox"]!.AsArray().Select(v => v!.GetValue<double>()));
            var ring = item["geometry"]!["coordinates"]![0]!.AsArray().Select(c => (c![0]!.GetValue<double>(), c[1]!.GetValue<double>())).ToList();
            Assert.Equal([(expected[0], expected[1]), (expected[2], expected[1]), (expected[2], expected[3]), (expected[0], expected[3]), (expected[0], expected[1])], ring);

            // Coarse cells: h3-js's resolution-1 parents of the cells DuckDB finds in the file; never the cells themselves.
            var coarse = p["floe:coarse_cells"]!.AsArray().Select(c => c!.GetValue<string>()).ToList();
            Assert.Equal(truth.GetProperty("coarse").EnumerateArray().Select(c => c.GetString()!), coarse);
            Assert.Equal(1, p["floe:coarse_resolution"]!.GetValue<int>());
        }

        // The collection: extent over the items, the datacube and table extensions, a license.
        var collection = loaded.Collection;
        var interval = collection["extent"]!["temporal"]!["interval"]![0]!.AsArray();
        Assert.Equal("2021-02-27T00:00:00Z", interval[0]!.GetValue<string>());
        Assert.Equal("2021-03-01T23:00:00Z", interval[1]!.GetValue<string>());
        var union = collection["extent"]!["spatial"]!["bbox"]![0]!.AsArray().Select(v => v!.GetValue<double>()).ToArray();
        var boxes = loaded.Items.Select(it => it["bbox"]!.AsArray().Select(v => v!.GetValue<double>()).ToArray()).ToList();
        Assert.Equal([boxes.Min(b => b[0]), boxes.Min(b => b[1]), boxes.Max(b => b[2]), boxes.Max(b => b[3])], union);
        Assert.Equal("other", collection["license"]!.GetValue<string>());
        Assert.Equal(["time", "h3", "lat", "lon", "tp", "tp_mm"], collection["table:columns"]!.AsArray().Select(c => c!["name"]!.GetValue<string>()));
        var cube = collection["cube:dimensions"]!;
        Assert.Equal("PT1H", cube["time"]!["step"]!.GetValue<string>());
        Assert.Equal(10, cube["longitude"]!["step"]!.GetValue<double>());
        Assert.Equal([-180.0, 170.0], cube["longitude"]!["extent"]!.AsArray().Select(v => v!.GetValue<double>()));
        Assert.Equal(["time", "latitude", "longitude"], collection["cube:variables"]!["tp"]!["dimensions"]!.AsArray().Select(d => d!.GetValue<string>()));
        Assert.Equal("m", collection["cube:variables"]!["tp"]!["unit"]!.GetValue<string>());
        var maxRange = collection["summaries"]!["max_tp_mm"]!;
        Assert.Equal(oracle.EnumerateArray().Max(o => o.GetProperty("max").GetDouble()), maxRange["maximum"]!.GetValue<double>());
    }

    [Fact]
    public async Task A_box_across_the_antimeridian_gives_a_multipolygon_and_the_schemas_accept_it()
    {
        var output = fixtures.NewDirectory("antimeridian");
        await new ParquetExporter(fixtures.Repository, new ExportOptions
        {
            Arrays = ["/tp"],
            OutputDirectory = output,
            Box = GeoBox.Parse("150,-20,-150,20"),
            End = Day1.AddDays(1),
            RepositoryName = "era5",
        }).RunAsync();

        await ExportCatalog.WriteAsync(output, fixtures.Repository, new ExportCatalogOptions { CollectionId = "pacific", License = "CC-BY-4.0" });

        var loaded = ExportCatalog.Load(output);
        var item = Assert.Single(loaded.Items);
        Assert.Equal([150.0, -20, -150, 20], item["bbox"]!.AsArray().Select(v => v!.GetValue<double>()));
        Assert.Equal("MultiPolygon", item["geometry"]!["type"]!.GetValue<string>());
        var parts = item["geometry"]!["coordinates"]!.AsArray();
        Assert.Equal([150.0, 180.0], parts[0]![0]!.AsArray().Select(c => c![0]!.GetValue<double>()).Distinct().Order());
        Assert.Equal([-180.0, -150.0], parts[1]![0]!.AsArray().Select(c => c![0]!.GetValue<double>()).Distinct().Order());
        Assert.Equal(("pacific", "CC-BY-4.0"), (loaded.Id, loaded.Collection["license"]!.GetValue<string>()));
        AssertValid(Directory.EnumerateFiles(Path.Combine(output, "stac"), "*.json", SearchOption.AllDirectories).ToList());

        // A search by a box on either side of the antimeridian finds it; one in between does not.
        var index = new StacIndex([loaded]);
        Assert.Single(index.Search(SearchRequest.FromQuery([new("bbox", "170,-5,175,5")])).Items);
        Assert.Single(index.Search(SearchRequest.FromQuery([new("bbox", "-170,-5,-160,5")])).Items);
        Assert.Empty(index.Search(SearchRequest.FromQuery([new("bbox", "0,-5,10,5")])).Items);
    }

    [Fact]
    public async Task A_rewrite_keeps_the_collection_id_and_publishes_items_before_the_collection_that_links_them()
    {
        var output = fixtures.NewDirectory("rewrite");
        var options = new ExportOptions { Arrays = ["/tp"], OutputDirectory = output, End = Day1.AddDays(2), RepositoryName = "era5" };
        await new ParquetExporter(fixtures.Repository, options).RunAsync();
        var first = await ExportCatalog.WriteAsync(output, fixtures.Repository, new ExportCatalogOptions { CollectionId = "era5-daily" });
        Assert.Equal(2, first.Items);

        // The export goes on a day further; the rewrite keeps the id given before and adds the new day's item.
        await new ParquetExporter(fixtures.Repository, new ExportOptions { Arrays = ["/tp"], OutputDirectory = output, RepositoryName = "era5" }).RunAsync();
        var second = await ExportCatalog.WriteAsync(output, fixtures.Repository);
        Assert.Equal(("era5-daily", 3), (second.CollectionId, second.Items));

        // Every item the collection links exists; an item the manifest no longer lists is deleted after the collection stops linking it.
        var stale = Path.Combine(output, "stac", "items", "stale.json");
        File.Copy(Path.Combine(output, "stac", "items", "tp-20210227T000000Z.json"), stale);
        var third = await ExportCatalog.WriteAsync(output, fixtures.Repository);
        Assert.Equal(1, third.ItemsRemoved);
        Assert.False(File.Exists(stale));
        var collection = JsonNode.Parse(File.ReadAllText(Path.Combine(output, "stac", "collection.json")))!;
        var items = collection["links"]!.AsArray().Where(l => l!["rel"]!.GetValue<string>() == "item").Select(l => l!["href"]!.GetValue<string>()).ToList();
        Assert.Equal(3, items.Count);
        Assert.All(items, href => Assert.True(File.Exists(Path.Combine(output, "stac", href)), href));
        var catalog = JsonNode.Parse(File.ReadAllText(Path.Combine(output, "stac", "catalog.json")))!;
        Assert.Contains(catalog["links"]!.AsArray(), l => l!["rel"]!.GetValue<string>() == "child" && l["href"]!.GetValue<string>() == "collection.json");
    }

    [Fact]
    public async Task Bad_input_is_refused_naming_what_is_wrong()
    {
        var empty = fixtures.NewDirectory("empty");
        Directory.CreateDirectory(empty);
        var missing = await Assert.ThrowsAsync<StacCatalogException>(() => ExportCatalog.WriteAsync(empty, fixtures.Repository));
        Assert.Contains("_floe_export.json", missing.Message, StringComparison.Ordinal);

        var output = fixtures.NewDirectory("bad");
        await new ParquetExporter(fixtures.Repository, new ExportOptions { Arrays = ["/tp"], OutputDirectory = output, End = Day1.AddDays(1) }).RunAsync();
        var id = await Assert.ThrowsAsync<StacRequestException>(() => ExportCatalog.WriteAsync(output, fixtures.Repository, new ExportCatalogOptions { CollectionId = "a b/c" }));
        Assert.Equal("--collection", id.Parameter);
        var license = await Assert.ThrowsAsync<StacRequestException>(() => ExportCatalog.WriteAsync(output, fixtures.Repository, new ExportCatalogOptions { License = "Creative Commons" }));
        Assert.Equal("--license", license.Parameter);

        await ExportCatalog.WriteAsync(output, fixtures.Repository);
        File.WriteAllText(Path.Combine(output, "stac", "items", "tp-20210227T000000Z.json"), "{ not json");
        var broken = Assert.Throws<StacCatalogException>(() => ExportCatalog.Load(output));
        Assert.Contains("tp-20210227T000000Z.json", broken.Message, StringComparison.Ordinal);
    }

    private static long Micros(JsonNode time) =>
        SearchRequest.Micros(DateTimeOffset.Parse(time.GetValue<string>(), System.Globalization.CultureInfo.InvariantCulture));

    /// <summary>stac-node-validator with the published schemas, offline.</summary>
    internal static void AssertValid(IReadOnlyList<string> files)
    {
        var report = OracleNode.RunJson("stac-validate.mjs", files);
        Assert.Equal(files.Count, report.GetProperty("total").GetInt32());
        Assert.True(report.GetProperty("invalid").GetArrayLength() == 0, report.GetProperty("invalid").ToString());
    }
}

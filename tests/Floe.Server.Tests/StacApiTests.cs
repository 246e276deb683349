using System.Collections.Concurrent;
using System.Globalization;
using System.Net;
using System.Net.Http.Headers;
using System.Net.Sockets;
using System.Text;
using System.Text.Json;
using System.Text.Json.Nodes;
using Floe.Api.V1;
using Floe.Rpc;
using Floe.Server.Grains;
using Floe.Server.Stac;
using Floe.Tests.Shared;
using Microsoft.Extensions.DependencyInjection;

namespace Floe.Server.Tests;

/// <summary>A server with its HTTP port open, and helpers to fill it through gRPC and read its STAC API.</summary>
public sealed class StacServer : IAsyncDisposable
{
    /// <summary>A token that may read only "zeta", a repository that does not exist: it sees no collection at all.</summary>
    public const string NobodyToken = "floe_test_nobody_token";

    private StacServer(RunningServer server, int port)
    {
        Server = server;
        Admin = server.Client();
        Root = $"http://127.0.0.1:{port.ToString(CultureInfo.InvariantCulture)}";
        Http = Client(RunningServer.AdminToken);
    }

    public RunningServer Server { get; }

    public FloeClient Admin { get; }

    /// <summary>The HTTP port's root URL, without a trailing slash.</summary>
    public string Root { get; }

    public string Stac => Root + "/stac";

    /// <summary>An HTTP client with the admin token.</summary>
    public HttpClient Http { get; }

    public string ExportRoot => Server.Services.GetRequiredService<ExportOutputs>().Root;

    public static async Task<StacServer> StartAsync(IDictionary<string, string?>? settings = null)
    {
        int port;
        using (var probe = new TcpListener(IPAddress.Loopback, 0))
        {
            probe.Start();
            port = ((IPEndPoint)probe.LocalEndpoint).Port;
        }

        var config = new Dictionary<string, string?>
        {
            ["Floe:Server:HttpListen"] = $"http://127.0.0.1:{port.ToString(CultureInfo.InvariantCulture)}",
            // The tests refresh when they need to; a periodic refresh would only blur what they check.
            ["Floe:Server:StacRefreshSeconds"] = "3600",
            ["Floe:Auth:Tokens:3:Name"] = "nobody",
            ["Floe:Auth:Tokens:3:Sha256"] = AccessPolicy.Hash(NobodyToken),
            ["Floe:Auth:Tokens:3:Read:0"] = "zeta",
        };
        foreach (var (key, value) in settings ?? new Dictionary<string, string?>())
        {
            config[key] = value;
        }

        return new StacServer(await RunningServer.StartAsync(config), port);
    }

    public static HttpClient Client(string? token)
    {
        var client = new HttpClient();
        if (token is not null)
        {
            client.DefaultRequestHeaders.Authorization = new AuthenticationHeaderValue("Bearer", token);
        }

        return client;
    }

    public Task RefreshAsync() => Server.Services.GetRequiredService<StacCatalog>().RefreshAsync(CancellationToken.None);

    /// <summary>Creates a repository and ingests ERA5-layout days (19 × 36 grid of 10°, 24 steps a day, from 2020-01-01) into /tp.</summary>
    public async Task IngestEra5Async(string repository, int days)
    {
        var script = await File.ReadAllTextAsync(Path.Combine(AppContext.BaseDirectory, "Fixtures", "era5.py"));
        var output = OraclePython.Run(script, Path.Combine(Server.SourceDirectory, repository), days.ToString(CultureInfo.InvariantCulture), "--small");
        await Admin.Repositories.CreateRepositoryAsync(new CreateRepositoryRequest { Repository = repository });
        var request = new StartIngestionRequest { Repository = repository };
        request.Files.AddRange(output.Split('\n', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries).Select(Path.GetFullPath));
        var started = await Admin.Ingestion.StartIngestionAsync(request);
        var final = (await ReadAllAsync(Admin.Ingestion.WatchIngestion(new IngestionRequest { JobId = started.JobId })))[^1];
        Assert.True(final.State == IngestionState.Succeeded, final.ToString());
    }

    /// <summary>Runs an export job of /tp to its end (it must succeed) and returns the export's manifest.</summary>
    public async Task<JsonObject> ExportAsync(string repository, string output, string? start = null, string? end = null, double[]? bbox = null, string? reference = null)
    {
        var request = new StartExportRequest { Repository = repository, Reference = reference ?? "", Output = output, Arrays = { "/tp" }, Start = start ?? "", End = end ?? "" };
        request.Bbox.AddRange(bbox ?? []);
        var started = await Admin.Exports.StartExportAsync(request);
        var final = (await ReadAllAsync(Admin.Exports.WatchExport(new ExportRequest { JobId = started.JobId })))[^1];
        Assert.True(final.State == ExportState.Succeeded, final.ToString());
        return Manifest(repository, output);
    }

    public JsonObject Manifest(string repository, string output) =>
        JsonNode.Parse(File.ReadAllBytes(Path.Combine(ExportRoot, repository, output, "_floe_export.json")))!.AsObject();

    /// <summary>Commits a change of the root group's attributes on main and returns the new snapshot id.</summary>
    public async Task<string> CommitAttributesAsync(string repository, string json)
    {
        var session = await Admin.Writes.OpenSessionAsync(new OpenSessionRequest { Repository = repository });
        using (var call = Admin.Writes.WriteChanges())
        {
            var request = new WriteChangesRequest { SessionId = session.SessionId };
            request.Changes.Add(new Change { UpdateAttributes = new UpdateAttributes { Path = "/", AttributesJson = json } });
            await call.RequestStream.WriteAsync(request);
            await call.RequestStream.CompleteAsync();
            await call.ResponseAsync;
        }

        return (await Admin.Writes.CommitAsync(new CommitRequest { SessionId = session.SessionId, Message = json })).SnapshotId;
    }

    public async Task<(HttpStatusCode Status, JsonObject? Json, HttpResponseMessage Response)> SendAsync(HttpClient client, HttpMethod method, string url, string? body = null)
    {
        using var request = new HttpRequestMessage(method, new Uri(url));
        if (body is not null)
        {
            request.Content = new StringContent(body, Encoding.UTF8, "application/json");
        }

        var response = await client.SendAsync(request);
        var text = await response.Content.ReadAsStringAsync();
        JsonObject? json = null;
        if (response.Content.Headers.ContentType?.MediaType is "application/json" or "application/geo+json" or "application/schema+json")
        {
            json = JsonNode.Parse(text)!.AsObject();
        }

        return (response.StatusCode, json, response);
    }

    /// <summary>GET a JSON document that must answer 200.</summary>
    public async Task<JsonObject> GetAsync(string url, HttpClient? client = null)
    {
        var (status, json, response) = await SendAsync(client ?? Http, HttpMethod.Get, url);
        using (response)
        {
            Assert.True(status == HttpStatusCode.OK, $"GET {url}: {(int)status} {json?.ToJsonString()}");
            return json!;
        }
    }

    /// <summary>POST a search that must answer 200.</summary>
    public async Task<JsonObject> PostAsync(string url, JsonNode body, HttpClient? client = null)
    {
        var (status, json, response) = await SendAsync(client ?? Http, HttpMethod.Post, url, body.ToJsonString());
        using (response)
        {
            Assert.True(status == HttpStatusCode.OK, $"POST {url} {body.ToJsonString()}: {(int)status} {json?.ToJsonString()}");
            Assert.Equal("application/geo+json", response.Content.Headers.ContentType?.MediaType);
            return json!;
        }
    }

    /// <summary>Every page of a GET search from <paramref name="url"/>, following next links; each page must say the same numberMatched.</summary>
    public async Task<List<JsonObject>> PagesAsync(string url, HttpClient? client = null)
    {
        var pages = new List<JsonObject>();
        for (string? next = url; next is not null; next = NextLink(pages[^1])?["href"]!.GetValue<string>())
        {
            pages.Add(await GetAsync(next, client));
            Assert.True(pages.Count < 100, "more than 100 pages");
        }

        return pages;
    }

    public static JsonObject? NextLink(JsonObject page) =>
        page["links"]!.AsArray().Select(l => l!.AsObject()).SingleOrDefault(l => l["rel"]!.GetValue<string>() == "next");

    public static IEnumerable<JsonObject> Features(JsonObject page) => page["features"]!.AsArray().Select(f => f!.AsObject());

    /// <summary>"collection/id" of each feature, in order.</summary>
    public static List<string> Keys(JsonObject page) => Features(page).Select(Key).ToList();

    public static string Key(JsonObject item) => $"{item["collection"]!.GetValue<string>()}/{item["id"]!.GetValue<string>()}";

    private static async Task<List<T>> ReadAllAsync<T>(AsyncServerStreamingCall<T> call)
    {
        using (call)
        {
            var list = new List<T>();
            await foreach (var item in call.ResponseStream.ReadAllAsync())
            {
                list.Add(item);
            }

            return list;
        }
    }

    public async ValueTask DisposeAsync()
    {
        Http.Dispose();
        Admin.Dispose();
        await Server.DisposeAsync();
    }
}

/// <summary>What the tests know of an item independently of the API: from the export's manifest or the ingested grid.</summary>
public sealed record KnownItem(string Collection, string Id, DateTimeOffset Start, DateTimeOffset End, double[]? Bbox, double? MaxTpMm, string? Date, long? Rows)
{
    public string Key => $"{Collection}/{Id}";

    /// <summary>Whether the item's bbox meets the box (both may cross the antimeridian), edges included.</summary>
    public bool Meets(double west, double south, double east, double north) =>
        Bbox is { } b && Split(b[0], b[1], b[2], b[3]).Any(a => Split(west, south, east, north)
            .Any(q => a.West <= q.East && q.West <= a.East && a.South <= q.North && q.South <= a.North));

    public bool During(DateTimeOffset from, DateTimeOffset to) => Start <= to && End >= from;

    private static (double West, double South, double East, double North)[] Split(double west, double south, double east, double north) =>
        west <= east ? [(west, south, east, north)] : [(west, south, 180, north), (-180, south, east, north)];
}

/// <summary>
/// One server for the read-only STAC API tests: "alpha" (ERA5 layout, 2020-01-01 to 2020-01-04, branches main and
/// dev) exported three times (everything; two days across the antimeridian; Europe from noon of 2020-01-03), and
/// "beta", a repository without a time/latitude/longitude grid.
/// </summary>
public sealed class StacApiFixture : IAsyncLifetime
{
    public const string All = "alpha:era5:all";
    public const string Pacific = "alpha:era5:pacific";
    public const string Europe = "alpha:era5:europe";

    // The ERA5 fixture's grid: latitudes 90 to -90 and longitudes 0 to 350 every 10°, which the export writes as -180 to 170.
    public static readonly double[] GridBbox = [-180, -90, 170, 90];

    public StacServer Api { get; private set; } = null!;

    public Dictionary<string, JsonObject> Manifests { get; } = [];

    public List<KnownItem> Known { get; } = [];

    /// <summary>When beta was created: its item's datetime (its head's commit time) lies in this window.</summary>
    public (DateTimeOffset From, DateTimeOffset To) BetaCreated { get; private set; }

    public async Task InitializeAsync()
    {
        Api = await StacServer.StartAsync();
        await Api.IngestEra5Async("alpha", 4);
        Manifests[All] = await Api.ExportAsync("alpha", "era5/all");
        Manifests[Pacific] = await Api.ExportAsync("alpha", "era5/pacific", "2020-01-02", "2020-01-04", [170, -20, -170, 20]);
        Manifests[Europe] = await Api.ExportAsync("alpha", "era5/europe", "2020-01-03T12:00:00Z", "2020-01-05", [0, 30, 40, 60]);
        await Api.Admin.Repositories.CreateBranchAsync(new CreateRefRequest { Repository = "alpha", Name = "dev" });
        var before = DateTimeOffset.UtcNow.AddSeconds(-1);
        await Api.Admin.Repositories.CreateRepositoryAsync(new CreateRepositoryRequest { Repository = "beta" });
        BetaCreated = (before, DateTimeOffset.UtcNow.AddSeconds(1));
        await Api.RefreshAsync();

        foreach (var (collection, manifest) in Manifests)
        {
            foreach (var file in manifest["files"]!.AsArray().Select(f => f!.AsObject()))
            {
                Known.Add(new KnownItem(collection, Path.GetFileNameWithoutExtension(file["path"]!.GetValue<string>()),
                    Time(file["start"]), Time(file["last"]), [.. file["bbox"]!.AsArray().Select(v => v!.GetValue<double>())],
                    file["values"]!["tp_mm"]!["max"]!.GetValue<double>(), file["date"]!.GetValue<string>(), file["rows"]!.GetValue<long>()));
            }
        }

        // 4 days of 24 hourly steps from 2020-01-01T00.
        var first = new DateTimeOffset(2020, 1, 1, 0, 0, 0, TimeSpan.Zero);
        foreach (var branch in new[] { "main", "dev" })
        {
            Known.Add(new KnownItem("alpha", $"alpha@{branch}", first, first.AddHours(95), GridBbox, null, null, null));
        }

        // beta has no grid: its item's time is its head's commit time, which only the API can say exactly (checked against BetaCreated).
        var beta = await Api.GetAsync(Api.Stac + "/collections/beta/items/beta@main");
        var betaTime = Time(beta["properties"]!["datetime"]);
        Known.Add(new KnownItem("beta", "beta@main", betaTime, betaTime, null, null, null, null));
    }

    public static DateTimeOffset Time(JsonNode? node) => DateTimeOffset.Parse(node!.GetValue<string>(), CultureInfo.InvariantCulture);

    public async Task DisposeAsync() => await Api.DisposeAsync();
}

/// <summary>The server's STAC API (docs/stac.md) over exports and datacubes that do not change during these tests.</summary>
public sealed class StacApiTests(StacApiFixture fixture) : IClassFixture<StacApiFixture>
{
    private const string All = StacApiFixture.All;
    private const string Pacific = StacApiFixture.Pacific;
    private const string Europe = StacApiFixture.Europe;

    private static readonly string[] CollectionIds = ["alpha", All, Europe, Pacific, "beta"];

    private StacServer Api => fixture.Api;

    private string Stac => Api.Stac;

    private static string Q(string text) => Uri.EscapeDataString(text);

    private static DateTimeOffset At(string text) => DateTimeOffset.Parse(text, CultureInfo.InvariantCulture);

    /// <summary>The keys of the known items that match, in the default order: datetime, collection, id.</summary>
    private List<string> Expected(Func<KnownItem, bool> match) =>
        fixture.Known.Where(match).OrderBy(k => k.Start).ThenBy(k => k.Collection, StringComparer.Ordinal).ThenBy(k => k.Id, StringComparer.Ordinal).Select(k => k.Key).ToList();

    private static void AssertPage(List<string> expected, JsonObject page, string what)
    {
        Assert.True(expected.SequenceEqual(StacServer.Keys(page)), $"{what}:\nexpected {string.Join(", ", expected)}\nserved   {string.Join(", ", StacServer.Keys(page))}");
        Assert.Equal(expected.Count, page["numberMatched"]!.GetValue<long>());
        Assert.Equal(expected.Count, page["numberReturned"]!.GetValue<long>());
        Assert.Equal("FeatureCollection", page["type"]!.GetValue<string>());
    }

    /// <summary>The same search as GET query parameters and as a POST body must both answer <paramref name="expected"/>.</summary>
    private async Task AssertSearchAsync(List<string> expected, string query, JsonObject body)
    {
        AssertPage(expected, await Api.GetAsync($"{Stac}/search?limit=100&{query}"), "GET " + query);
        body["limit"] = 100;
        AssertPage(expected, await Api.PostAsync(Stac + "/search", body), "POST " + body.ToJsonString());
    }

    private static JsonObject Body(string json) => JsonNode.Parse(json)!.AsObject();

    private static void Validate(List<JsonNode> documents)
    {
        var report = OracleNode.RunJson("stac-validate.mjs", [], new JsonArray([.. documents.Select(d => d.DeepClone())]).ToJsonString());
        Assert.True(report.GetProperty("total").GetInt32() > 0, report.ToString());
        Assert.True(report.GetProperty("invalid").GetArrayLength() == 0, report.ToString());
    }

    [Fact]
    public void The_manifests_say_what_the_grid_and_the_export_requests_imply()
    {
        // The tests below predict answers from the manifests, so first the manifests against what the exports asked for.
        static string[] Dates(JsonObject manifest) => [.. manifest["files"]!.AsArray().Select(f => f!["date"]!.GetValue<string>())];
        static double[][] Boxes(JsonObject manifest) => [.. manifest["files"]!.AsArray().Select(f => f!["bbox"]!.AsArray().Select(v => v!.GetValue<double>()).ToArray())];

        Assert.Equal(["2020-01-01", "2020-01-02", "2020-01-03", "2020-01-04"], Dates(fixture.Manifests[All]));
        Assert.Equal(["2020-01-02", "2020-01-03"], Dates(fixture.Manifests[Pacific]));
        Assert.Equal(["2020-01-03", "2020-01-04"], Dates(fixture.Manifests[Europe]));
        Assert.All(Boxes(fixture.Manifests[All]), b => Assert.Equal(StacApiFixture.GridBbox, b));
        Assert.All(Boxes(fixture.Manifests[Pacific]), b => Assert.Equal([170, -20, -170, 20], b));
        Assert.All(Boxes(fixture.Manifests[Europe]), b => Assert.Equal([0, 30, 40, 60], b));
        Assert.Equal(At("2020-01-03T12:00:00Z"), fixture.Known.Single(k => k.Collection == Europe && k.Date == "2020-01-03").Start);
        // 4 latitudes × 5 longitudes, 12 hours, then 24.
        Assert.Equal([240L, 480L], fixture.Known.Where(k => k.Collection == Europe).Select(k => k.Rows!.Value));
        Assert.Equal(11, fixture.Known.Count);
    }

    [Fact]
    public async Task The_landing_page_conformance_and_collections_describe_every_collection_and_link_to_each_other()
    {
        var landing = await Api.GetAsync(Stac);
        var conformance = await Api.GetAsync(Stac + "/conformance");
        var collections = await Api.GetAsync(Stac + "/collections");

        Assert.Equal(("Catalog", "1.0.0", "floe"), (landing["type"]!.GetValue<string>(), landing["stac_version"]!.GetValue<string>(), landing["id"]!.GetValue<string>()));
        var conformsTo = landing["conformsTo"]!.AsArray().Select(c => c!.GetValue<string>()).ToList();
        Assert.Equal(conformsTo, conformance["conformsTo"]!.AsArray().Select(c => c!.GetValue<string>()));
        foreach (var required in new[]
        {
            "https://api.stacspec.org/v1.0.0/core", "https://api.stacspec.org/v1.0.0/collections", "https://api.stacspec.org/v1.0.0/item-search",
            "https://api.stacspec.org/v1.0.0/item-search#filter", "https://api.stacspec.org/v1.0.0/item-search#sort",
            "http://www.opengis.net/spec/cql2/1.0/conf/cql2-text", "http://www.opengis.net/spec/cql2/1.0/conf/cql2-json",
            "http://www.opengis.net/spec/cql2/1.0/conf/basic-cql2", "http://www.opengis.net/spec/cql2/1.0/conf/advanced-comparison-operators",
        })
        {
            Assert.Contains(required, conformsTo);
        }

        var links = landing["links"]!.AsArray().Select(l => l!.AsObject()).ToList();
        string Href(string rel, string? method = null) => links.Single(l => l["rel"]!.GetValue<string>() == rel && l["method"]?.GetValue<string>() == method)["href"]!.GetValue<string>();
        Assert.Equal(Stac, Href("self"));
        Assert.Equal(Stac, Href("root"));
        Assert.Equal(Stac + "/conformance", Href("conformance"));
        Assert.Equal(Stac + "/collections", Href("data"));
        Assert.Equal(Stac + "/search", Href("search"));
        Assert.Equal(Stac + "/search", Href("search", "POST"));
        Assert.Equal(Stac + "/queryables", Href("http://www.opengis.net/def/rel/ogc/1.0/queryables"));
        Assert.Equal(CollectionIds.Order(StringComparer.Ordinal).Select(c => $"{Stac}/collections/{c}"),
            links.Where(l => l["rel"]!.GetValue<string>() == "child").Select(l => l["href"]!.GetValue<string>()));

        // /collections lists the same documents /collections/{id} serves, each with its own links.
        var listed = collections["collections"]!.AsArray().Select(c => c!.AsObject()).ToList();
        Assert.Equal(CollectionIds.Order(StringComparer.Ordinal), listed.Select(c => c["id"]!.GetValue<string>()));
        Assert.Equal([("self", Stac + "/collections"), ("root", Stac)], collections["links"]!.AsArray().Select(l => (l!["rel"]!.GetValue<string>(), l["href"]!.GetValue<string>())));
        foreach (var collection in listed)
        {
            var self = $"{Stac}/collections/{collection["id"]!.GetValue<string>()}";
            var alone = await Api.GetAsync(self);
            Assert.True(JsonNode.DeepEquals(collection, alone), $"{self} differs from its entry in /collections");
            Assert.Equal(
                [("self", self), ("root", Stac), ("parent", Stac), ("items", self + "/items"), ("http://www.opengis.net/def/rel/ogc/1.0/queryables", self + "/queryables")],
                alone["links"]!.AsArray().Select(l => (l!["rel"]!.GetValue<string>(), l["href"]!.GetValue<string>())));
        }

        // Export collections: extents and summaries from the manifest.
        foreach (var id in new[] { All, Pacific, Europe })
        {
            var collection = listed.Single(c => c["id"]!.GetValue<string>() == id);
            var known = fixture.Known.Where(k => k.Collection == id).ToList();
            Assert.Equal("Collection", collection["type"]!.GetValue<string>());
            Assert.Equal("alpha", collection["floe:repository"]!.GetValue<string>());
            Assert.Equal(known[0].Bbox, collection["extent"]!["spatial"]!["bbox"]![0]!.AsArray().Select(v => v!.GetValue<double>()));
            Assert.Equal([known.Min(k => k.Start), known.Max(k => k.End)], collection["extent"]!["temporal"]!["interval"]![0]!.AsArray().Select(StacApiFixture.Time));
            var range = collection["summaries"]!["max_tp_mm"]!;
            Assert.Equal((known.Min(k => k.MaxTpMm!.Value), known.Max(k => k.MaxTpMm!.Value)), (range["minimum"]!.GetValue<double>(), range["maximum"]!.GetValue<double>()));
        }

        // Datacube collections: one per repository, extent from its branches' grids (none for beta).
        var alpha = listed.Single(c => c["id"]!.GetValue<string>() == "alpha");
        Assert.Equal(StacApiFixture.GridBbox, alpha["extent"]!["spatial"]!["bbox"]![0]!.AsArray().Select(v => v!.GetValue<double>()));
        Assert.Equal(["2020-01-01T00:00:00Z", "2020-01-04T23:00:00Z"], alpha["extent"]!["temporal"]!["interval"]![0]!.AsArray().Select(v => v!.GetValue<string>()));
        Assert.Equal("alpha", alpha["floe:repository"]!.GetValue<string>());
        Assert.Equal(["time", "latitude", "longitude"], alpha["cube:variables"]!["tp"]!["dimensions"]!.AsArray().Select(v => v!.GetValue<string>()));
    }

    [Fact]
    public async Task Export_items_match_the_manifest_file_by_file_and_their_assets_are_the_exported_files()
    {
        foreach (var id in new[] { All, Pacific, Europe })
        {
            var page = await Api.GetAsync($"{Stac}/collections/{id}/items?limit=100");
            AssertPage(Expected(k => k.Collection == id), page, id);
            var manifest = fixture.Manifests[id];
            var output = id["alpha:".Length..].Replace(":", "/", StringComparison.Ordinal);
            foreach (var (item, file) in StacServer.Features(page).Zip(manifest["files"]!.AsArray().Select(f => f!.AsObject())))
            {
                var properties = item["properties"]!;
                var path = file["path"]!.GetValue<string>();
                Assert.Equal(Path.GetFileNameWithoutExtension(path), item["id"]!.GetValue<string>());
                Assert.Equal(file["start"]!.GetValue<string>(), properties["datetime"]!.GetValue<string>());
                Assert.Equal(file["start"]!.GetValue<string>(), properties["start_datetime"]!.GetValue<string>());
                Assert.Equal(file["last"]!.GetValue<string>(), properties["end_datetime"]!.GetValue<string>());
                Assert.Equal(file["rows"]!.GetValue<long>(), properties["table:row_count"]!.GetValue<long>());
                Assert.Equal(file["bytes"]!.GetValue<long>(), properties["floe:bytes"]!.GetValue<long>());
                Assert.Equal(file["snapshot"]!.GetValue<string>(), properties["floe:snapshot"]!.GetValue<string>());
                Assert.Equal(file["date"]!.GetValue<string>(), properties["floe:date"]!.GetValue<string>());
                foreach (var stat in new[] { "min", "max", "mean" })
                {
                    Assert.Equal(file["values"]!["tp_mm"]![stat]!.GetValue<double>(), properties[$"{stat}_tp_mm"]!.GetValue<double>());
                }

                Assert.True(JsonNode.DeepEquals(file["bbox"], item["bbox"]), item["bbox"]!.ToJsonString());
                // Across the antimeridian the geometry is two boxes, one each side.
                var geometry = item["geometry"]!;
                if (id == Pacific)
                {
                    Assert.Equal("MultiPolygon", geometry["type"]!.GetValue<string>());
                    Assert.True(JsonNode.DeepEquals(JsonNode.Parse("[[[[170,-20],[180,-20],[180,20],[170,20],[170,-20]]],[[[-180,-20],[-170,-20],[-170,20],[-180,20],[-180,-20]]]]"), geometry["coordinates"]),
                        geometry.ToJsonString());
                }
                else
                {
                    Assert.Equal("Polygon", geometry["type"]!.GetValue<string>());
                }

                // The asset is the file, served by /exports with its manifest size.
                var asset = item["assets"]!["data"]!;
                // Path segments may come percent-encoded (date%3D...): decoded, the href is the file under /exports.
                Assert.Equal($"{Api.Root}/exports/alpha/{output}/{path}", Uri.UnescapeDataString(asset["href"]!.GetValue<string>()));
                Assert.Equal("application/vnd.apache.parquet", asset["type"]!.GetValue<string>());
                using var head = await Api.Http.SendAsync(new HttpRequestMessage(HttpMethod.Head, new Uri(asset["href"]!.GetValue<string>())));
                Assert.Equal(HttpStatusCode.OK, head.StatusCode);
                Assert.Equal(file["bytes"]!.GetValue<long>(), head.Content.Headers.ContentLength);

                // Links: self is the single item, which is the same document; parent and collection the collection.
                var links = item["links"]!.AsArray().ToDictionary(l => l!["rel"]!.GetValue<string>(), l => l!["href"]!.GetValue<string>());
                Assert.Equal($"{Stac}/collections/{id}/items/{item["id"]!.GetValue<string>()}", links["self"]);
                Assert.Equal((Stac, $"{Stac}/collections/{id}", $"{Stac}/collections/{id}"), (links["root"], links["parent"], links["collection"]));
                Assert.True(JsonNode.DeepEquals(item, await Api.GetAsync(links["self"])), links["self"]);
            }
        }
    }

    [Fact]
    public async Task Datacube_items_describe_each_branch_with_its_zarr_view_and_the_grpc_address()
    {
        var page = await Api.GetAsync(Stac + "/collections/alpha/items");
        AssertPage(["alpha/alpha@dev", "alpha/alpha@main"], page, "alpha's items");
        var heads = (await Api.Admin.Repositories.ListBranchesAsync(new ListRefsRequest { Repository = "alpha" })).Refs.ToDictionary(r => r.Name, r => r.SnapshotId);
        foreach (var item in StacServer.Features(page))
        {
            var branch = item["properties"]!["floe:branch"]!.GetValue<string>();
            var properties = item["properties"]!;
            Assert.Equal($"alpha@{branch}", item["id"]!.GetValue<string>());
            Assert.Equal(heads[branch], properties["floe:snapshot"]!.GetValue<string>());
            Assert.Equal(("2020-01-01T00:00:00Z", "2020-01-04T23:00:00Z"), (properties["start_datetime"]!.GetValue<string>(), properties["end_datetime"]!.GetValue<string>()));
            Assert.Equal(96, properties["floe:time_steps"]!.GetValue<int>());
            Assert.Equal(StacApiFixture.GridBbox, item["bbox"]!.AsArray().Select(v => v!.GetValue<double>()));
            Assert.Equal(["time", "latitude", "longitude"], properties["cube:variables"]!["tp"]!["dimensions"]!.AsArray().Select(v => v!.GetValue<string>()));

            // The zarr asset is the branch's Zarr view: its consolidated metadata holds /tp with the ingested shape.
            var zarr = item["assets"]!["zarr"]!;
            Assert.Equal($"{Api.Root}/zarr/alpha/{branch}/", zarr["href"]!.GetValue<string>());
            Assert.Equal("application/vnd+zarr", zarr["type"]!.GetValue<string>());
            var metadata = JsonNode.Parse(await Api.Http.GetStringAsync(new Uri(zarr["href"]!.GetValue<string>() + ".zmetadata")))!;
            Assert.Equal([96, 19, 36], metadata["metadata"]!["tp/.zarray"]!["shape"]!.AsArray().Select(v => v!.GetValue<int>()));

            // The grpc asset is the address this server answers gRPC on, with what to open there.
            var grpc = item["assets"]!["grpc"]!;
            Assert.Equal(Api.Server.Address, new Uri(grpc["href"]!.GetValue<string>()));
            Assert.Equal(("application/grpc", "alpha", branch), (grpc["type"]!.GetValue<string>(), grpc["floe:repository"]!.GetValue<string>(), grpc["floe:reference"]!.GetValue<string>()));
        }

        // beta has no time/latitude/longitude array: no geometry, and its head's commit time as datetime.
        var beta = await Api.GetAsync(Stac + "/collections/beta/items/beta@main");
        Assert.Null(beta["geometry"]);
        Assert.False(beta.ContainsKey("bbox"));
        var time = StacApiFixture.Time(beta["properties"]!["datetime"]);
        Assert.InRange(time, fixture.BetaCreated.From, fixture.BetaCreated.To);
        Assert.Equal($"{Api.Root}/zarr/beta/main/", beta["assets"]!["zarr"]!["href"]!.GetValue<string>());
    }

    [Fact]
    public async Task Queryables_are_a_json_schema_of_the_properties_of_each_collection()
    {
        var (status, all, response) = await Api.SendAsync(Api.Http, HttpMethod.Get, Stac + "/queryables");
        using (response)
        {
            Assert.Equal(HttpStatusCode.OK, status);
            Assert.Equal("application/schema+json", response.Content.Headers.ContentType?.MediaType);
        }

        var alpha = await Api.GetAsync(Stac + "/collections/alpha/queryables");
        var export = await Api.GetAsync($"{Stac}/collections/{All}/queryables");

        Assert.Equal((Stac + "/queryables", "object", false), (all!["$id"]!.GetValue<string>(), all["type"]!.GetValue<string>(), all["additionalProperties"]!.GetValue<bool>()));
        Assert.Equal(Stac + "/collections/alpha/queryables", alpha["$id"]!.GetValue<string>());
        Assert.Equal($"{Stac}/collections/{All}/queryables", export["$id"]!.GetValue<string>());
        static JsonNode Property(JsonObject schema, string name) => schema["properties"]![name] ?? throw new InvalidOperationException($"{schema["$id"]} has no {name}");
        Assert.Equal("number", Property(all, "max_tp_mm")["type"]!.GetValue<string>());
        Assert.Equal("number", Property(export, "table:row_count")["type"]!.GetValue<string>());
        Assert.Equal("string", Property(export, "floe:date")["type"]!.GetValue<string>());
        Assert.Equal("date-time", Property(export, "datetime")["format"]!.GetValue<string>());
        Assert.Equal("string", Property(alpha, "floe:branch")["type"]!.GetValue<string>());
        foreach (var name in new[] { "id", "collection", "datetime" })
        {
            Property(alpha, name);
            Property(export, name);
        }

        // Each collection's own properties only.
        Assert.Null(alpha["properties"]!["max_tp_mm"]);
        Assert.Null(export["properties"]!["floe:branch"]);
        Assert.NotNull(all["properties"]!["floe:branch"]);
    }

    [Fact]
    public async Task Bbox_selects_the_items_whose_box_meets_it_across_the_antimeridian_too()
    {
        var cases = new (double[] Box, string[] Collections)[]
        {
            // Across the antimeridian: the Pacific export, and the whole grid (its west edge is -180).
            ([160, -10, -160, 10], ["alpha", All, Pacific]),
            // Between the grid's last longitude (170) and 180: only the Pacific export's east half.
            ([172, -5, 178, 5], [Pacific]),
            ([-175, -5, -172, 5], ["alpha", All, Pacific]),
            ([10, 40, 20, 50], ["alpha", All, Europe]),
            // Touching Europe's corner counts; just beyond it does not.
            ([40, 60, 50, 70], ["alpha", All, Europe]),
            ([41, 61, 50, 70], ["alpha", All]),
        };
        foreach (var (box, collections) in cases)
        {
            var expected = Expected(k => k.Meets(box[0], box[1], box[2], box[3]));
            Assert.Equal(collections.Order(StringComparer.Ordinal), expected.Select(k => k.Split('/')[0]).Distinct().Order(StringComparer.Ordinal));
            var text = string.Join(',', box.Select(v => v.ToString(CultureInfo.InvariantCulture)));
            await AssertSearchAsync(expected, "bbox=" + text, new JsonObject { ["bbox"] = new JsonArray([.. box.Select(v => (JsonNode)v)]) });
        }

        // Six numbers: heights are ignored.
        await AssertSearchAsync(Expected(k => k.Meets(0, 30, 40, 60)), "bbox=0,30,-100,40,60,100", Body("""{"bbox": [0, 30, -100, 40, 60, 100]}"""));
        // The items of one collection, by bbox.
        AssertPage(Expected(k => k.Collection == Pacific), await Api.GetAsync($"{Stac}/collections/{Pacific}/items?bbox=-175,-5,-172,5"), "pacific items");
        AssertPage([], await Api.GetAsync($"{Stac}/collections/{Europe}/items?bbox=160,-10,-160,10"), "europe items");
    }

    [Fact]
    public async Task Intersects_selects_by_geometry_in_get_as_json_text_and_in_post()
    {
        string[] Of(params string[] collections) => [.. Expected(k => collections.Contains(k.Collection))];
        var cases = new (string Geometry, string[] Expected)[]
        {
            ("""{"type": "Point", "coordinates": [-175, 5]}""", Of("alpha", All, Pacific)),
            ("""{"type": "Point", "coordinates": [175, 0]}""", Of(Pacific)),
            ("""{"type": "Point", "coordinates": [100, 80]}""", Of("alpha", All)),
            // A triangle whose bounds overlap Europe's box while the triangle itself passes above it.
            ("""{"type": "Polygon", "coordinates": [[[30, 80], [60, 80], [60, 30], [30, 80]]]}""", Of("alpha", All)),
            ("""{"type": "Polygon", "coordinates": [[[10, 40], [20, 40], [20, 50], [10, 50], [10, 40]]]}""", Of("alpha", All, Europe)),
            // A polygon around Europe's box with a hole holding it: the box sits in the hole.
            ("""{"type": "Polygon", "coordinates": [[[-10, 20], [50, 20], [50, 70], [-10, 70], [-10, 20]], [[-5, 25], [45, 25], [45, 65], [-5, 65], [-5, 25]]]}""", Of("alpha", All)),
            ("""{"type": "MultiPolygon", "coordinates": [[[[172, -5], [178, -5], [178, 5], [172, 5], [172, -5]]], [[[10, 40], [20, 40], [20, 50], [10, 50], [10, 40]]]]}""", Of("alpha", All, Pacific, Europe)),
            ("""{"type": "LineString", "coordinates": [[171, 0], [179, 1]]}""", Of(Pacific)),
        };
        foreach (var (geometry, expected) in cases)
        {
            await AssertSearchAsync([.. expected], "intersects=" + Q(geometry), new JsonObject { ["intersects"] = JsonNode.Parse(geometry) });
        }
    }

    [Fact]
    public async Task Datetime_selects_items_whose_time_range_meets_an_instant_a_day_or_an_interval()
    {
        var cases = new (string Datetime, DateTimeOffset From, DateTimeOffset To)[]
        {
            ("2020-01-02T05:00:00Z", At("2020-01-02T05:00:00Z"), At("2020-01-02T05:00:00Z")),
            // An instant with an offset is that UTC instant: Europe's first file starts then.
            ("2020-01-03T13:00:00+01:00", At("2020-01-03T12:00:00Z"), At("2020-01-03T12:00:00Z")),
            // Midnight alone misses Europe's first file (from noon); the date alone is the whole day and meets it.
            ("2020-01-03T00:00:00Z", At("2020-01-03T00:00:00Z"), At("2020-01-03T00:00:00Z")),
            ("2020-01-03", At("2020-01-03T00:00:00Z"), At("2020-01-03T23:59:59.999999Z")),
            ("2020-01-02T12:00:00Z/2020-01-03T06:00:00Z", At("2020-01-02T12:00:00Z"), At("2020-01-03T06:00:00Z")),
            ("2020-01-01/2020-01-02", At("2020-01-01T00:00:00Z"), At("2020-01-02T23:59:59.999999Z")),
            ("../2020-01-01T12:00:00Z", DateTimeOffset.MinValue, At("2020-01-01T12:00:00Z")),
            ("/2020-01-01T12:00:00Z", DateTimeOffset.MinValue, At("2020-01-01T12:00:00Z")),
            ("2020-01-04T12:00:00Z/..", At("2020-01-04T12:00:00Z"), DateTimeOffset.MaxValue),
            ("2020-01-04T12:00:00Z/", At("2020-01-04T12:00:00Z"), DateTimeOffset.MaxValue),
            ("2019-12-31T23:00:00Z", At("2019-12-31T23:00:00Z"), At("2019-12-31T23:00:00Z")),
        };
        var distinct = new HashSet<string>();
        foreach (var (datetime, from, to) in cases)
        {
            var expected = Expected(k => k.During(from, to));
            distinct.Add(string.Join(',', expected));
            await AssertSearchAsync(expected, "datetime=" + Q(datetime), new JsonObject { ["datetime"] = datetime });
        }

        // The day and its midnight differ exactly by Europe's first file.
        Assert.Contains($"{Europe}/tp-20200103T120000Z", Expected(k => k.During(At("2020-01-03T00:00:00Z"), At("2020-01-03T23:59:59Z"))));
        Assert.DoesNotContain($"{Europe}/tp-20200103T120000Z", Expected(k => k.During(At("2020-01-03T00:00:00Z"), At("2020-01-03T00:00:00Z"))));
        Assert.True(distinct.Count >= 7, "the cases should tell different answers apart");

        // Datetime and bbox together, on a collection's items.
        AssertPage(Expected(k => k.Collection == Pacific && k.During(At("2020-01-03T00:00:00Z"), At("2020-01-03T23:59:59.999999Z"))),
            await Api.GetAsync($"{Stac}/collections/{Pacific}/items?datetime=2020-01-03&bbox=175,-5,-175,5"), "pacific on 2020-01-03");
    }

    [Fact]
    public async Task Ids_and_collections_select_items_by_name()
    {
        const string Day2 = "tp-20200102T000000Z";
        await AssertSearchAsync(Expected(k => k.Id == Day2), "ids=" + Day2, Body($$"""{"ids": ["{{Day2}}"]}"""));
        Assert.Equal(2, Expected(k => k.Id == Day2).Count);
        await AssertSearchAsync(Expected(k => k.Id == Day2 && k.Collection == Pacific), $"ids={Day2}&collections={Pacific}",
            Body($$"""{"ids": ["{{Day2}}"], "collections": ["{{Pacific}}"]}"""));
        await AssertSearchAsync(Expected(k => k.Id is "alpha@main" or "tp-20200104T000000Z"), "ids=alpha@main,tp-20200104T000000Z",
            Body("""{"ids": ["alpha@main", "tp-20200104T000000Z"]}"""));
        await AssertSearchAsync(Expected(k => k.Collection is "alpha" or "beta"), "collections=alpha,beta", Body("""{"collections": ["alpha", "beta"]}"""));
        await AssertSearchAsync(Expected(k => k.Collection is All && k.Date == "2020-01-03"), $"collections={All}&datetime=2020-01-03T06:00:00Z",
            Body($$"""{"collections": ["{{All}}"], "datetime": "2020-01-03T06:00:00Z"}"""));

        var none = await Api.GetAsync(Stac + "/search?ids=nosuch");
        AssertPage([], none, "ids=nosuch");
        Assert.Null(StacServer.NextLink(none));
    }

    [Fact]
    public async Task Get_pages_follow_next_links_and_return_every_match_once_in_sort_order()
    {
        var everything = Expected(_ => true);
        foreach (var limit in new[] { 1, 2, 3, 4, 10, 11, 12, 10_000 })
        {
            var pages = await Api.PagesAsync($"{Stac}/search?limit={limit}");
            Assert.Equal(everything, pages.SelectMany(StacServer.Keys));
            Assert.Equal((everything.Count + limit - 1) / limit, pages.Count);
            Assert.All(pages, p => Assert.Equal(everything.Count, p["numberMatched"]!.GetValue<long>()));
            Assert.All(pages[..^1], p => Assert.Equal(limit, p["numberReturned"]!.GetValue<long>()));
            // The next link is this URL with a token.
            Assert.All(pages[..^1], p => Assert.StartsWith($"{Stac}/search?limit={limit}&token=", StacServer.NextLink(p)!["href"]!.GetValue<string>(), StringComparison.Ordinal));
        }

        // A limit above the maximum (10,000) is the maximum, not an error.
        AssertPage(everything, await Api.GetAsync($"{Stac}/search?limit=1000000"), "limit=1000000");

        // Sorted by a property with nulls (datacube items have no max_tp_mm), with a filter and a bbox kept in every next link.
        var descending = fixture.Known.OrderBy(k => k.MaxTpMm is null).ThenByDescending(k => k.MaxTpMm).ThenBy(k => k.Collection, StringComparer.Ordinal)
            .ThenBy(k => k.Id, StringComparer.Ordinal).Select(k => k.Key).ToList();
        var sorted = await Api.PagesAsync($"{Stac}/search?limit=2&sortby=-max_tp_mm");
        Assert.Equal(descending, sorted.SelectMany(StacServer.Keys));
        var filtered = await Api.PagesAsync($"{Stac}/search?limit=1&bbox=0,30,40,60&filter={Q("max_tp_mm > 0")}&sortby={Q("+floe:date")}");
        Assert.Equal(fixture.Known.Where(k => k.MaxTpMm > 0 && k.Meets(0, 30, 40, 60)).OrderBy(k => k.Date, StringComparer.Ordinal)
            .ThenBy(k => k.Collection, StringComparer.Ordinal).ThenBy(k => k.Id, StringComparer.Ordinal).Select(k => k.Key), filtered.SelectMany(StacServer.Keys));

        // A collection's items page the same way.
        var items = await Api.PagesAsync($"{Stac}/collections/{All}/items?limit=1");
        Assert.Equal(Expected(k => k.Collection == All), items.SelectMany(StacServer.Keys));
        Assert.All(items[..^1], p => Assert.StartsWith($"{Stac}/collections/{All}/items?limit=1&token=", StacServer.NextLink(p)!["href"]!.GetValue<string>(), StringComparison.Ordinal));
    }

    [Fact]
    public async Task Post_pages_repeat_the_body_with_a_token_in_next_links()
    {
        var body = Body("""{"limit": 3, "sortby": [{"field": "properties.max_tp_mm", "direction": "desc"}], "filter": {"op": "isNull", "args": [{"property": "floe:branch"}]}}""");
        var expected = fixture.Known.Where(k => !k.Id.Contains('@', StringComparison.Ordinal)).OrderByDescending(k => k.MaxTpMm)
            .ThenBy(k => k.Collection, StringComparer.Ordinal).ThenBy(k => k.Id, StringComparer.Ordinal).Select(k => k.Key).ToList();
        var pages = new List<JsonObject> { await Api.PostAsync(Stac + "/search", body) };
        while (StacServer.NextLink(pages[^1]) is { } next)
        {
            Assert.Equal(("POST", Stac + "/search", false), (next["method"]!.GetValue<string>(), next["href"]!.GetValue<string>(), next["merge"]!.GetValue<bool>()));
            var nextBody = next["body"]!.AsObject();
            Assert.False(string.IsNullOrEmpty(nextBody["token"]?.GetValue<string>()));
            var withoutToken = nextBody.DeepClone().AsObject();
            withoutToken.Remove("token");
            Assert.True(JsonNode.DeepEquals(body, withoutToken), nextBody.ToJsonString());
            pages.Add(await Api.PostAsync(next["href"]!.GetValue<string>(), nextBody));
            Assert.True(pages.Count < 20);
        }

        Assert.Equal(8, expected.Count);
        Assert.Equal(expected, pages.SelectMany(StacServer.Keys));
        Assert.Equal(3, pages.Count);
        Assert.All(pages, p => Assert.Equal(8, p["numberMatched"]!.GetValue<long>()));
    }

    [Fact]
    public async Task Sortby_orders_by_properties_either_way_in_get_and_post()
    {
        static List<string> Order(IEnumerable<KnownItem> items) => [.. items.Select(k => k.Key)];
        var exports = fixture.Known.Where(k => k.MaxTpMm is not null).ToList();
        var byMaxDescending = Order(exports.Where(k => k.Collection == All).OrderByDescending(k => k.MaxTpMm));
        Assert.Equal(4, byMaxDescending.Count);

        Assert.Equal(byMaxDescending, StacServer.Keys(await Api.GetAsync($"{Stac}/search?collections={All}&sortby=-max_tp_mm")));
        Assert.Equal(byMaxDescending, StacServer.Keys(await Api.GetAsync($"{Stac}/search?collections={All}&sortby=-properties.max_tp_mm")));
        Assert.Equal(byMaxDescending.AsEnumerable().Reverse(), StacServer.Keys(await Api.GetAsync($"{Stac}/search?collections={All}&sortby=max_tp_mm")));
        Assert.Equal(byMaxDescending, StacServer.Keys(await Api.PostAsync(Stac + "/search",
            Body($$"""{"collections": ["{{All}}"], "sortby": [{"field": "max_tp_mm", "direction": "desc"}]}"""))));

        // +datetime, encoded or not ('+' unencoded arrives as a space), is the default order; -datetime keeps collection and id ascending.
        var everything = Expected(_ => true);
        Assert.Equal(everything, StacServer.Keys(await Api.GetAsync($"{Stac}/search?limit=100&sortby=%2Bdatetime")));
        Assert.Equal(everything, StacServer.Keys(await Api.GetAsync($"{Stac}/search?limit=100&sortby=+datetime")));
        Assert.Equal(Order(fixture.Known.OrderByDescending(k => k.Start).ThenBy(k => k.Collection, StringComparer.Ordinal).ThenBy(k => k.Id, StringComparer.Ordinal)),
            StacServer.Keys(await Api.GetAsync($"{Stac}/search?limit=100&sortby=-datetime")));

        // Two fields: the date descending, then the maximum ascending.
        Assert.Equal(Order(exports.OrderByDescending(k => k.Date, StringComparer.Ordinal).ThenBy(k => k.MaxTpMm)),
            StacServer.Keys(await Api.PostAsync(Stac + "/search", Body("""{"limit": 100, "filter": "max_tp_mm IS NOT NULL", "sortby": [{"field": "floe:date", "direction": "desc"}, {"field": "max_tp_mm"}]}"""))));
        Assert.Equal(Order(exports.OrderByDescending(k => k.Date, StringComparer.Ordinal).ThenBy(k => k.MaxTpMm)),
            StacServer.Keys(await Api.GetAsync($"{Stac}/search?limit=100&filter={Q("max_tp_mm IS NOT NULL")}&sortby={Q("-floe:date,max_tp_mm")}")));
        Assert.Equal(Order(fixture.Known.OrderBy(k => k.Collection, StringComparer.Ordinal).ThenByDescending(k => k.Id, StringComparer.Ordinal)),
            StacServer.Keys(await Api.GetAsync($"{Stac}/search?limit=100&sortby=collection,-id")));
    }

    [Fact]
    public async Task Cql2_text_filters_match_the_items_the_manifests_predict()
    {
        var maxima = fixture.Known.Where(k => k.MaxTpMm is not null).Select(k => k.MaxTpMm!.Value).Order().ToList();
        Assert.Equal(8, maxima.Count);
        string N(double v) => v.ToString("R", CultureInfo.InvariantCulture);
        var (low, middle, high) = (maxima[2], maxima[4], maxima[6]);
        var cases = new (string Filter, Func<KnownItem, bool> Match)[]
        {
            ($"max_tp_mm > {N(middle)}", k => k.MaxTpMm > middle),
            ($"max_tp_mm >= {N(low)} AND max_tp_mm < {N(high)}", k => k.MaxTpMm >= low && k.MaxTpMm < high),
            ($"max_tp_mm < {N(low)} OR floe:date = '2020-01-04'", k => k.MaxTpMm < low || k.Date == "2020-01-04"),
            // NOT of UNKNOWN (no max_tp_mm on datacube items) stays UNKNOWN: they do not match either way.
            ($"NOT (max_tp_mm > {N(middle)})", k => k.MaxTpMm <= middle),
            ($"max_tp_mm BETWEEN {N(low)} AND {N(high)}", k => k.MaxTpMm >= low && k.MaxTpMm <= high),
            ($"max_tp_mm NOT BETWEEN {N(low)} AND {N(high)}", k => k.MaxTpMm < low || k.MaxTpMm > high),
            ("floe:date IN ('2020-01-02', '2020-01-04')", k => k.Date is "2020-01-02" or "2020-01-04"),
            ("max_tp_mm IS NULL", k => k.MaxTpMm is null),
            ($"max_tp_mm IS NOT NULL AND collection = '{Europe}'", k => k.MaxTpMm is not null && k.Collection == Europe),
            ("datetime >= TIMESTAMP('2020-01-03T12:00:00Z')", k => k.Start >= At("2020-01-03T12:00:00Z")),
            ("datetime < DATE('2020-01-03') AND max_tp_mm > 0", k => k.Start < At("2020-01-03T00:00:00Z") && k.MaxTpMm > 0),
            ("id LIKE 'tp-2020010%' AND table:row_count = 240", k => k.Rows == 240),
            ("collection = 'alpha' AND floe:branch = 'dev'", k => k.Id == "alpha@dev"),
            ("properties.max_tp_mm > 20", k => k.MaxTpMm > 20),
        };
        foreach (var (filter, match) in cases)
        {
            var expected = Expected(match);
            await AssertSearchAsync(expected, "filter=" + Q(filter), new JsonObject { ["filter"] = filter, ["filter-lang"] = "cql2-text" });
            // A string filter in POST is CQL2-text without saying so.
            AssertPage(expected, await Api.PostAsync(Stac + "/search", new JsonObject { ["filter"] = filter, ["limit"] = 100 }), "POST text " + filter);
        }

        AssertPage(Expected(k => k.Collection == All && k.MaxTpMm > middle),
            await Api.GetAsync($"{Stac}/collections/{All}/items?filter-lang=cql2-text&filter={Q($"max_tp_mm > {N(middle)}")}"), "items filter");
    }

    [Fact]
    public async Task Cql2_json_filters_match_in_get_and_post()
    {
        var maxima = fixture.Known.Where(k => k.MaxTpMm is not null).Select(k => k.MaxTpMm!.Value).Order().ToList();
        var (low, middle, high) = (maxima[2], maxima[4], maxima[6]);
        string N(double v) => v.ToString("R", CultureInfo.InvariantCulture);
        var cases = new (string Filter, Func<KnownItem, bool> Match)[]
        {
            ($$"""{"op": ">", "args": [{"property": "max_tp_mm"}, {{N(middle)}}]}""", k => k.MaxTpMm > middle),
            ($$"""{"op": "and", "args": [{"op": ">=", "args": [{"property": "max_tp_mm"}, {{N(low)}}]}, {"op": "not", "args": [{"op": "in", "args": [{"property": "floe:date"}, ["2020-01-04"]]}]}]}""",
                k => k.MaxTpMm >= low && k.Date != "2020-01-04"),
            ($$"""{"op": "or", "args": [{"op": "<", "args": [{"property": "max_tp_mm"}, {{N(low)}}]}, {"op": "=", "args": [{"property": "id"}, "alpha@main"]}]}""",
                k => k.MaxTpMm < low || k.Id == "alpha@main"),
            ($$"""{"op": "between", "args": [{"property": "max_tp_mm"}, {{N(low)}}, {{N(high)}}]}""", k => k.MaxTpMm >= low && k.MaxTpMm <= high),
            ("""{"op": "isNull", "args": [{"property": "max_tp_mm"}]}""", k => k.MaxTpMm is null),
            ("""{"op": ">=", "args": [{"property": "datetime"}, {"timestamp": "2020-01-03T12:00:00Z"}]}""", k => k.Start >= At("2020-01-03T12:00:00Z")),
            ("""{"op": "like", "args": [{"property": "floe:date"}, "2020-01-0_"]}""", k => k.Date is not null),
        };
        foreach (var (filter, match) in cases)
        {
            var expected = Expected(match);
            await AssertSearchAsync(expected, "filter-lang=cql2-json&filter=" + Q(filter), new JsonObject { ["filter"] = JsonNode.Parse(filter) });
            AssertPage(expected, await Api.PostAsync(Stac + "/search", new JsonObject { ["filter"] = JsonNode.Parse(filter), ["filter-lang"] = "cql2-json", ["limit"] = 100 }), "POST json " + filter);
        }
    }

    [Theory]
    [InlineData("bbox=1,2,3", "bbox", "got 3")]
    [InlineData("bbox=a,b,c,d", "bbox", "\"a\"")]
    [InlineData("bbox=0,50,10,40", "bbox", "south")]
    [InlineData("bbox=0,0,200,10", "bbox", "200")]
    [InlineData("bbox=", "bbox", "")]
    [InlineData("datetime=yesterday", "datetime", "yesterday")]
    [InlineData("datetime=2020-01-03/2020-01-02", "datetime", "before it starts")]
    [InlineData("datetime=../..", "datetime", "")]
    [InlineData("datetime=2020-13-01", "datetime", "2020-13-01")]
    [InlineData("datetime=2020-01-01T00:00:00", "datetime", "")]
    [InlineData("datetime=2020-01-01/2020-01-02/2020-01-03", "datetime", "")]
    [InlineData("filter=max_tp_mm%20%3E%3E%203", "filter", "")]
    [InlineData("filter=nosuch%20%3E%203", "filter", "nosuch")]
    [InlineData("filter=max_tp_mm%20%3E%203&filter-lang=cql3", "filter-lang", "cql3")]
    [InlineData("filter-lang=cql2-json&filter=%7Bnot%20json", "filter", "")]
    [InlineData("filter-lang=cql2-json&filter=%7B%22op%22%3A%22~%22%2C%22args%22%3A%5B%5D%7D", "filter", "")]
    [InlineData("filter=max_tp_mm%20%3E%203&filter-crs=EPSG%3A4326", "filter-crs", "")]
    [InlineData("limit=0", "limit", "")]
    [InlineData("limit=abc", "limit", "abc")]
    [InlineData("limit=-5", "limit", "")]
    [InlineData("limit=1&limit=2", "limit", "more than once")]
    [InlineData("sortby=", "sortby", "")]
    [InlineData("sortby=max%20tp", "sortby", "")]
    [InlineData("token=%21%21%21", "token", "")]
    [InlineData("token=WzEsMl0", "token", "another sort order")]
    [InlineData("token=bnVsbA", "token", "")]
    [InlineData("intersects=notjson", "intersects", "")]
    [InlineData("intersects=%7B%22type%22%3A%22Polygon%22%2C%22coordinates%22%3A%5B%5B%5B0%2C0%5D%2C%5B1%2C1%5D%2C%5B0%2C0%5D%5D%5D%7D", "intersects", "")]
    [InlineData("intersects=%7B%22type%22%3A%22Circle%22%2C%22coordinates%22%3A%5B0%2C0%5D%7D", "intersects", "Circle")]
    [InlineData("intersects=%7B%22type%22%3A%22Point%22%2C%22coordinates%22%3A%5B0%2C0%5D%7D&bbox=0,0,1,1", "intersects", "")]
    [InlineData("foo=1", "foo", "unknown parameter")]
    [InlineData("ids=", "ids", "")]
    [InlineData("ids=a,,b", "ids", "")]
    [InlineData("collections=nosuch", "collections", "nosuch")]
    [InlineData("collections=alpha,nosuch", "collections", "nosuch")]
    public async Task Malformed_get_search_parameters_answer_400_naming_the_parameter(string query, string parameter, string mentions)
    {
        await AssertBadRequestAsync(HttpMethod.Get, $"{Stac}/search?{query}", null, parameter, mentions);
    }

    [Theory]
    [InlineData("not json", "body")]
    [InlineData("[1, 2]", "body")]
    [InlineData("""{"bbox": [1, 2, 3]}""", "bbox")]
    [InlineData("""{"bbox": "1,2,3,4"}""", "bbox")]
    [InlineData("""{"bbox": [0, "a", 1, 1]}""", "bbox")]
    [InlineData("""{"datetime": 5}""", "datetime")]
    [InlineData("""{"datetime": "2020-01-02/2020-01-01"}""", "datetime")]
    [InlineData("""{"limit": 0}""", "limit")]
    [InlineData("""{"limit": 1.5}""", "limit")]
    [InlineData("""{"sortby": [{"field": "datetime", "direction": "up"}]}""", "sortby")]
    [InlineData("""{"sortby": 5}""", "sortby")]
    [InlineData("""{"sortby": [{"direction": "asc"}]}""", "sortby")]
    [InlineData("""{"filter": {"op": "~", "args": []}}""", "filter")]
    [InlineData("""{"filter": {"op": ">", "args": [{"property": "nosuch"}, 1]}}""", "filter")]
    [InlineData("""{"filter": "max_tp_mm >", "filter-lang": "cql2-text"}""", "filter")]
    [InlineData("""{"filter": {"op": ">", "args": [{"property": "max_tp_mm"}, 1]}, "filter-lang": "cql2-text"}""", "filter")]
    [InlineData("""{"filter": "max_tp_mm > 1", "filter-lang": "cql2-xml"}""", "filter-lang")]
    [InlineData("""{"ids": "abc"}""", "ids")]
    [InlineData("""{"ids": [1]}""", "ids")]
    [InlineData("""{"collections": ["nosuch"]}""", "collections")]
    [InlineData("""{"intersects": {"type": "Point", "coordinates": [200, 0]}}""", "intersects")]
    [InlineData("""{"intersects": "POINT(0 0)"}""", "intersects")]
    [InlineData("""{"bbox": [0, 0, 1, 1], "intersects": {"type": "Point", "coordinates": [0, 0]}}""", "intersects")]
    [InlineData("""{"foo": 1}""", "foo")]
    [InlineData("""{"token": "!!"}""", "token")]
    public async Task Malformed_post_search_bodies_answer_400_naming_the_parameter(string body, string parameter)
    {
        await AssertBadRequestAsync(HttpMethod.Post, Stac + "/search", body, parameter, "");
    }

    [Fact]
    public async Task Collection_items_refuse_the_collections_parameter_and_malformed_ones()
    {
        await AssertBadRequestAsync(HttpMethod.Get, $"{Stac}/collections/{All}/items?collections=alpha", null, "collections", "unknown parameter");
        await AssertBadRequestAsync(HttpMethod.Get, $"{Stac}/collections/{All}/items?bbox=1", null, "bbox", "got 1");
        await AssertBadRequestAsync(HttpMethod.Get, $"{Stac}/collections/{All}/items?limit=x", null, "limit", "");
        // max_tp_mm is a queryable of the exports, not of the datacube collection.
        await AssertBadRequestAsync(HttpMethod.Get, $"{Stac}/collections/alpha/items?filter={Q("max_tp_mm > 1")}", null, "filter", "max_tp_mm");
        await AssertBadRequestAsync(HttpMethod.Get, $"{Stac}/search?collections=alpha&filter={Q("max_tp_mm > 1")}", null, "filter", "max_tp_mm");
    }

    private async Task AssertBadRequestAsync(HttpMethod method, string url, string? body, string parameter, string mentions)
    {
        var (status, json, response) = await Api.SendAsync(Api.Http, method, url, body);
        using (response)
        {
            Assert.True(status == HttpStatusCode.BadRequest, $"{method} {url} {body}: {(int)status} {json?.ToJsonString()}");
            Assert.Equal("application/json", response.Content.Headers.ContentType?.MediaType);
            Assert.Equal("InvalidParameterValue", json!["code"]!.GetValue<string>());
            var description = json["description"]!.GetValue<string>();
            Assert.StartsWith(parameter + ": ", description, StringComparison.Ordinal);
            Assert.Contains(mentions, description, StringComparison.Ordinal);
        }
    }

    [Theory]
    [InlineData("/collections/nosuch", "nosuch")]
    [InlineData("/collections/nosuch/items", "nosuch")]
    [InlineData("/collections/nosuch/queryables", "nosuch")]
    [InlineData("/collections/nosuch/items/alpha@main", "nosuch")]
    [InlineData("/collections/alpha:era5:all/items/nosuch", "nosuch")]
    // An item of another collection is not this collection's.
    [InlineData("/collections/alpha/items/tp-20200101T000000Z", "tp-20200101T000000Z")]
    [InlineData("/collections/alpha:era5:europe/items/tp-20200101T000000Z", "tp-20200101T000000Z")]
    public async Task Unknown_collections_and_items_answer_404(string path, string mentions)
    {
        var (status, json, response) = await Api.SendAsync(Api.Http, HttpMethod.Get, Stac + path);
        using (response)
        {
            Assert.Equal(HttpStatusCode.NotFound, status);
            Assert.Equal("NotFound", json!["code"]!.GetValue<string>());
            Assert.Contains(mentions, json["description"]!.GetValue<string>(), StringComparison.Ordinal);
        }
    }

    [Fact]
    public async Task Every_document_served_validates_and_every_link_in_it_answers()
    {
        var documents = new List<JsonNode>();
        var links = new List<(string From, JsonObject Link)>();
        async Task<JsonObject> Fetch(string url)
        {
            var document = await Api.GetAsync(url);
            documents.Add(document);
            links.AddRange(document["links"]!.AsArray().Select(l => (url, l!.AsObject())));
            foreach (var feature in document["features"]?.AsArray() ?? [])
            {
                links.AddRange(feature!["links"]!.AsArray().Select(l => (url + " " + feature["id"], l!.AsObject())));
            }

            foreach (var collection in document["collections"]?.AsArray() ?? [])
            {
                links.AddRange(collection!["links"]!.AsArray().Select(l => (url + " " + collection["id"], l!.AsObject())));
            }

            return document;
        }

        await Fetch(Stac);
        await Fetch(Stac + "/collections");
        foreach (var id in CollectionIds)
        {
            await Fetch($"{Stac}/collections/{id}");
            foreach (var page in await Api.PagesAsync($"{Stac}/collections/{id}/items?limit=1"))
            {
                documents.Add(page);
                links.AddRange(page["links"]!.AsArray().Select(l => ($"{id} items", l!.AsObject())));
                foreach (var feature in StacServer.Features(page))
                {
                    await Fetch(feature["links"]!.AsArray().Single(l => l!["rel"]!.GetValue<string>() == "self")!["href"]!.GetValue<string>());
                }
            }
        }

        await Fetch($"{Stac}/search?limit=4&sortby=-max_tp_mm");
        await Fetch($"{Stac}/search?bbox=160,-10,-160,10&datetime=2020-01-03&filter={Q("max_tp_mm > 1 OR max_tp_mm IS NULL")}");
        var post = await Api.PostAsync(Stac + "/search", Body("""{"limit": 2, "intersects": {"type": "Point", "coordinates": [20, 45]}}"""));
        documents.Add(post);

        Validate(documents);
        Assert.True(documents.Count > 20);

        // Every link is absolute and answers; POST next links with their body.
        var broken = new List<string>();
        foreach (var (from, link) in links.Append(("POST search", StacServer.NextLink(post)!)))
        {
            var href = link["href"]!.GetValue<string>();
            Assert.StartsWith(Api.Root + "/", href, StringComparison.Ordinal);
            var method = link["method"]?.GetValue<string>() == "POST" ? HttpMethod.Post : HttpMethod.Get;
            // The landing page's POST search link comes without a body: the client brings its own.
            var (status, _, response) = await Api.SendAsync(Api.Http, method, href, link["body"]?.ToJsonString() ?? (method == HttpMethod.Post ? "{}" : null));
            response.Dispose();
            if (status != HttpStatusCode.OK)
            {
                broken.Add($"{from}: {link["rel"]} {method} {href} answers {(int)status}");
            }
        }

        Assert.True(links.Count > 50);
        Assert.True(broken.Count == 0, string.Join('\n', broken));
    }

    [Fact]
    public async Task A_token_sees_only_the_collections_of_repositories_it_may_read()
    {
        using var reader = StacServer.Client(RunningServer.ReaderToken);
        using var other = StacServer.Client(RunningServer.OtherToken);

        // reader may read alpha: its datacube and its exports, never beta.
        var alphaOnly = CollectionIds.Where(c => c != "beta").Order(StringComparer.Ordinal).ToList();
        var collections = await Api.GetAsync(Stac + "/collections", reader);
        Assert.Equal(alphaOnly, collections["collections"]!.AsArray().Select(c => c!["id"]!.GetValue<string>()));
        var landing = await Api.GetAsync(Stac, reader);
        Assert.Equal(alphaOnly.Select(c => $"{Stac}/collections/{c}"),
            landing["links"]!.AsArray().Where(l => l!["rel"]!.GetValue<string>() == "child").Select(l => l!["href"]!.GetValue<string>()));
        AssertPage(Expected(k => k.Collection != "beta"), await Api.GetAsync(Stac + "/search?limit=100", reader), "reader's search");
        AssertPage(Expected(k => k.Collection != "beta"), await Api.PostAsync(Stac + "/search", Body("""{"limit": 100}"""), reader), "reader's POST search");
        AssertPage([], await Api.GetAsync(Stac + "/search?ids=beta@main", reader), "reader asks for beta's item");
        foreach (var path in new[] { "/collections/beta", "/collections/beta/items", "/collections/beta/items/beta@main", "/collections/beta/queryables" })
        {
            var (status, json, response) = await Api.SendAsync(reader, HttpMethod.Get, Stac + path);
            response.Dispose();
            Assert.True(status == HttpStatusCode.NotFound, $"{path}: {(int)status}");
            Assert.Equal("NotFound", json!["code"]!.GetValue<string>());
        }

        var (refused, error, answer) = await Api.SendAsync(reader, HttpMethod.Get, Stac + "/search?collections=beta");
        answer.Dispose();
        Assert.Equal((HttpStatusCode.BadRequest, "InvalidParameterValue"), (refused, error!["code"]!.GetValue<string>()));
        Assert.StartsWith("collections: ", error["description"]!.GetValue<string>(), StringComparison.Ordinal);

        // other may write (and so read) beta only.
        Assert.Equal(["beta"], (await Api.GetAsync(Stac + "/collections", other))["collections"]!.AsArray().Select(c => c!["id"]!.GetValue<string>()));
        AssertPage(["beta/beta@main"], await Api.GetAsync(Stac + "/search", other), "other's search");
        Assert.Null((await Api.GetAsync(Stac + "/queryables", other))["properties"]!["max_tp_mm"]);

        // Without a token (and no anonymous reads configured), or with an unknown one: 401.
        using var anonymous = StacServer.Client(null);
        using var unknown = StacServer.Client("floe_not_a_configured_token");
        foreach (var client in new[] { anonymous, unknown })
        {
            foreach (var path in new[] { "", "/collections", "/collections/alpha", $"/collections/{All}/items", "/search", "/queryables" })
            {
                var (status, json, response) = await Api.SendAsync(client, HttpMethod.Get, Stac + path);
                using (response)
                {
                    Assert.True(status == HttpStatusCode.Unauthorized, $"{path}: {(int)status}");
                    Assert.Equal("Unauthorized", json!["code"]!.GetValue<string>());
                    Assert.Equal("Bearer", response.Headers.WwwAuthenticate.Single().Scheme);
                }
            }

            var (post, _, posted) = await Api.SendAsync(client, HttpMethod.Post, Stac + "/search", "{}");
            posted.Dispose();
            Assert.Equal(HttpStatusCode.Unauthorized, post);
        }
    }

    [Fact]
    public async Task A_token_that_sees_no_collection_is_shown_no_other_collections_properties()
    {
        // "nobody" may read only zeta, which does not exist: it sees no collection, so no export's properties either.
        using var nobody = StacServer.Client(StacServer.NobodyToken);
        Assert.Empty((await Api.GetAsync(Stac + "/collections", nobody))["collections"]!.AsArray());
        AssertPage([], await Api.GetAsync(Stac + "/search", nobody), "nobody's search");
        var queryables = await Api.GetAsync(Stac + "/queryables", nobody);
        Assert.Null(queryables["properties"]!["max_tp_mm"]);
        Assert.Null(queryables["properties"]!["floe:branch"]);
    }

    [Fact]
    public async Task A_filter_may_use_only_the_queryables_the_caller_is_shown()
    {
        // other sees beta only; its queryables (additionalProperties false) have no max_tp_mm, so a filter on it is unknown.
        using var other = StacServer.Client(RunningServer.OtherToken);
        Assert.Null((await Api.GetAsync(Stac + "/queryables", other))["properties"]!["max_tp_mm"]);
        var (status, json, response) = await Api.SendAsync(other, HttpMethod.Get, $"{Stac}/search?filter={Q("max_tp_mm > 1")}");
        response.Dispose();
        Assert.True(status == HttpStatusCode.BadRequest, $"{(int)status} {json?.ToJsonString()}");
        Assert.StartsWith("filter: ", json!["description"]!.GetValue<string>(), StringComparison.Ordinal);
    }

    [Fact]
    public async Task Exported_files_are_served_with_range_requests_to_readers_of_their_repository_only()
    {
        var file = fixture.Manifests[All]["files"]![1]!;
        var size = file["bytes"]!.GetValue<long>();
        var item = await Api.GetAsync($"{Stac}/collections/{All}/items/{Path.GetFileNameWithoutExtension(file["path"]!.GetValue<string>())}");
        var href = item["assets"]!["data"]!["href"]!.GetValue<string>();
        var onDisk = await File.ReadAllBytesAsync(Path.Combine(Api.ExportRoot, "alpha", "era5", "all", file["path"]!.GetValue<string>()));

        using (var whole = await Api.Http.GetAsync(new Uri(href)))
        {
            Assert.Equal(HttpStatusCode.OK, whole.StatusCode);
            Assert.Equal("application/vnd.apache.parquet", whole.Content.Headers.ContentType?.MediaType);
            Assert.Equal(onDisk, await whole.Content.ReadAsByteArrayAsync());
            Assert.Equal(size, onDisk.Length);
            Assert.Contains("bytes", whole.Headers.AcceptRanges);
        }

        // The first and last four bytes are Parquet's magic; a middle range is those bytes of the file.
        foreach (var (range, from, length) in new[] { (new RangeHeaderValue(0, 3), 0L, 4L), (new RangeHeaderValue(null, 4), size - 4, 4L), (new RangeHeaderValue(100, 199), 100L, 100L) })
        {
            using var request = new HttpRequestMessage(HttpMethod.Get, new Uri(href));
            request.Headers.Range = range;
            using var partial = await Api.Http.SendAsync(request);
            Assert.Equal(HttpStatusCode.PartialContent, partial.StatusCode);
            Assert.Equal((from, from + length - 1, size), (partial.Content.Headers.ContentRange!.From, partial.Content.Headers.ContentRange.To, partial.Content.Headers.ContentRange.Length));
            Assert.Equal(onDisk.AsSpan((int)from, (int)length).ToArray(), await partial.Content.ReadAsByteArrayAsync());
        }

        // reader may read alpha; other may not (403); nobody without a token (401).
        using var reader = StacServer.Client(RunningServer.ReaderToken);
        using var other = StacServer.Client(RunningServer.OtherToken);
        using var anonymous = StacServer.Client(null);
        Assert.Equal(onDisk, await reader.GetByteArrayAsync(new Uri(href)));
        foreach (var (client, expected) in new[] { (other, HttpStatusCode.Forbidden), (anonymous, HttpStatusCode.Unauthorized) })
        {
            using var refused = await client.GetAsync(new Uri(href));
            Assert.Equal(expected, refused.StatusCode);
        }

        // Beside the files: the manifest is served, hidden files are not, nor what is not there.
        Assert.Equal(fixture.Manifests[All].ToJsonString(), JsonNode.Parse(await Api.Http.GetStringAsync(new Uri($"{Api.Root}/exports/alpha/era5/all/_floe_export.json")))!.ToJsonString());
        await File.WriteAllTextAsync(Path.Combine(Api.ExportRoot, "alpha", "era5", "all", ".hidden"), "secret");
        foreach (var missing in new[] { "era5/all/.hidden", "era5/all/nosuch.parquet", "era5/all", "era5" })
        {
            using var answer = await Api.Http.GetAsync(new Uri($"{Api.Root}/exports/alpha/{missing}"));
            Assert.True(answer.StatusCode == HttpStatusCode.NotFound, $"{missing}: {(int)answer.StatusCode}");
        }
    }

    [Fact]
    public async Task Exported_file_paths_that_climb_out_of_the_repository_folder_answer_404()
    {
        // Files that exist outside alpha's export folder: the store's repository config beside the export root, and a
        // file of alpha reached from beta's folder. Sent as written (HttpClient would resolve the dot segments itself).
        var config = Path.Combine(Api.Server.StoreDirectory, "repos", "alpha", "config");
        Assert.True(File.Exists(config));
        var secret = Path.Combine(Api.ExportRoot, "alpha", "secret.txt");
        await File.WriteAllTextAsync(secret, "floe-secret");
        Assert.Equal(Path.GetDirectoryName(Api.ExportRoot), Path.GetDirectoryName(Api.Server.StoreDirectory));
        var store = Path.GetFileName(Api.Server.StoreDirectory);
        var exports = Path.GetFileName(Api.ExportRoot);
        var configBytes = await File.ReadAllTextAsync(config);
        foreach (var path in new[]
        {
            $"/exports/alpha/../../{store}/repos/alpha/config",
            $"/exports/alpha/era5/all/../../../../{store}/repos/alpha/config",
            $"/exports/alpha/%2E%2E/%2E%2E/{store}/repos/alpha/config",
            $"/exports/alpha/era5/.%2E/.%2E/.%2E/{store}/repos/alpha/config",
            $"/exports/alpha/..%2F..%2F{store}%2Frepos%2Falpha%2Fconfig",
            $"/exports/alpha/era5/..%2F..%2F..%2F{store}%2Frepos%2Falpha%2Fconfig",
            $"/exports/beta/..%2Falpha%2Fsecret.txt",
            $"/exports/beta/..%2F..%2F{exports}%2Falpha%2Fsecret.txt",
            $"/exports/..%2F{store}/repos/alpha/config",
        })
        {
            var (status, body) = await RawGetAsync(path);
            Assert.True(status == 404, $"{path}: {status} {body}");
            Assert.DoesNotContain("floe-secret", body, StringComparison.Ordinal);
            Assert.DoesNotContain(configBytes, body, StringComparison.Ordinal);
        }

        // The same file by its own path is served: the 404s above are the climbing, not the file.
        Assert.Equal("floe-secret", await Api.Http.GetStringAsync(new Uri($"{Api.Root}/exports/alpha/secret.txt")));
    }

    /// <summary>A GET sent on a socket as written (HttpClient would resolve the dot segments itself).</summary>
    private async Task<(int Status, string Body)> RawGetAsync(string path)
    {
        var uri = new Uri(Api.Root);
        using var tcp = new TcpClient();
        await tcp.ConnectAsync(uri.Host, uri.Port);
        var stream = tcp.GetStream();
        var request = $"GET {path} HTTP/1.1\r\nHost: {uri.Authority}\r\nAuthorization: Bearer {RunningServer.AdminToken}\r\nConnection: close\r\n\r\n";
        await stream.WriteAsync(Encoding.ASCII.GetBytes(request));
        using var reader = new StreamReader(stream, Encoding.UTF8);
        var answer = await reader.ReadToEndAsync();
        var status = int.Parse(answer.Split(' ', 3)[1], CultureInfo.InvariantCulture);
        return (status, answer);
    }
}

/// <summary>
/// Tests that change what the catalog holds, each on a server of its own: searches while exports grow and branches
/// appear (docs/stac.md: Index and updates) must each see one whole version of the index, never a mix or one mutated
/// while it was read.
/// </summary>
public sealed class StacApiUpdateTests
{
    [Fact]
    public async Task Searches_during_exports_and_commits_see_each_index_version_whole()
    {
        await using var api = await StacServer.StartAsync();
        await api.IngestEra5Async("gamma", 4);
        string[] days = ["tp-20200101T000000Z", "tp-20200102T000000Z", "tp-20200103T000000Z", "tp-20200104T000000Z"];
        var commits = new List<string> { (await api.Admin.Repositories.ListBranchesAsync(new ListRefsRequest { Repository = "gamma" })).Refs.Single().SnapshotId };
        // Exported from the first snapshot every time, so a file once exported never changes while main moves on.
        await api.ExportAsync("gamma", "grow", end: "2020-01-02", reference: commits[0]);
        await api.RefreshAsync();
        var search = $"{api.Stac}/search?collections=gamma,gamma:grow&limit=10000";
        var pageWalk = $"{api.Stac}/search?collections=gamma:grow&limit=1";

        using var stop = new CancellationTokenSource();
        var latest = (Files: 0, Branches: 0);
        var seenItems = new ConcurrentDictionary<string, ConcurrentBag<string>>();
        var answers = 0;
        var walks = 0;
        var gate = new Lock();

        // Each answer: numberMatched is what it returns; the export's files are a prefix of the days (as the manifest
        // had them at some moment), the branches a prefix of those created, and no answer goes back to an older version.
        async Task SearchLoopAsync()
        {
            var last = (Files: 0, Branches: 0);
            while (!stop.IsCancellationRequested)
            {
                var page = await api.GetAsync(search);
                var features = StacServer.Features(page).ToList();
                Assert.Equal(features.Count, page["numberMatched"]!.GetValue<long>());
                Assert.Equal(features.Count, page["numberReturned"]!.GetValue<long>());
                var files = features.Where(f => f["collection"]!.GetValue<string>() == "gamma:grow").Select(f => f["id"]!.GetValue<string>()).ToList();
                var branches = features.Where(f => f["collection"]!.GetValue<string>() == "gamma").Select(f => f["id"]!.GetValue<string>()).Order(StringComparer.Ordinal).ToList();
                Assert.InRange(files.Count, 1, days.Length);
                Assert.Equal(days.Take(files.Count), files);
                var created = branches.Count - 1;
                Assert.Equal(Enumerable.Range(1, created).Select(b => $"gamma@b{b}").Append("gamma@main"), branches);
                Assert.True(files.Count >= last.Files && created >= last.Branches, $"went back from {last} to {(files.Count, created)}");
                last = (files.Count, created);
                foreach (var feature in features)
                {
                    seenItems.GetOrAdd(StacServer.Key(feature), _ => []).Add(feature["properties"]!.ToJsonString());
                }

                lock (gate)
                {
                    latest = (Math.Max(latest.Files, last.Files), Math.Max(latest.Branches, last.Branches));
                }

                Interlocked.Increment(ref answers);
            }
        }

        // Paging across versions: the token names the last item's sort key, so no item comes twice, the order holds,
        // and every file there before the walk began is met.
        async Task PageLoopAsync()
        {
            while (!stop.IsCancellationRequested)
            {
                var before = StacServer.Keys(await api.GetAsync(pageWalk.Replace("limit=1", "limit=100", StringComparison.Ordinal)));
                var walked = (await api.PagesAsync(pageWalk)).SelectMany(StacServer.Keys).ToList();
                Assert.Equal(walked.Count, walked.Distinct().Count());
                Assert.Equal(walked.Order(StringComparer.Ordinal), walked);
                Assert.All(before, key => Assert.Contains(key, walked));
                Interlocked.Increment(ref walks);
            }
        }

        var readers = new List<Task> { Task.Run(SearchLoopAsync), Task.Run(SearchLoopAsync), Task.Run(SearchLoopAsync), Task.Run(PageLoopAsync) };
        async Task UntilAsync(Func<bool> condition, string what)
        {
            // Not a timing assertion: the readers must get there, however long that takes (the bound only stops a hang).
            for (var wait = 0; wait < 6000; wait++)
            {
                if (readers.FirstOrDefault(r => r.IsFaulted) is { } failed)
                {
                    await failed;
                }

                lock (gate)
                {
                    if (condition())
                    {
                        return;
                    }
                }

                await Task.Delay(10);
            }

            Assert.Fail($"the readers never {what}");
        }

        Task UntilSeenAsync(int files, int branches) =>
            UntilAsync(() => latest.Files >= files && latest.Branches >= branches, $"saw {files} files and {branches} branches");

        try
        {
            await UntilSeenAsync(1, 0);
            for (var step = 1; step <= 3; step++)
            {
                // A commit on main, a branch from it, and one more day exported: each refresh publishes a new index.
                commits.Add(await api.CommitAttributesAsync("gamma", $$"""{"step": {{step}}}"""));
                await api.Admin.Repositories.CreateBranchAsync(new CreateRefRequest { Repository = "gamma", Name = $"b{step}" });
                await api.ExportAsync("gamma", "grow", end: $"2020-01-0{step + 2}", reference: commits[0]);
                await api.RefreshAsync();
                await UntilSeenAsync(step + 1, step);
            }

            await UntilAsync(() => Volatile.Read(ref walks) > 0, "finished a walk through the pages");
        }
        finally
        {
            await stop.CancelAsync();
            await Task.WhenAll(readers);
        }

        Assert.True(answers >= 4 && walks > 0);
        // The final index: every file of the manifest and every branch, each item as the final answer has it, and each
        // item as every answer had it (files never change once exported; a branch's item is its head's).
        var manifest = api.Manifest("gamma", "grow");
        Assert.Equal(days, manifest["files"]!.AsArray().Select(f => Path.GetFileNameWithoutExtension(f!["path"]!.GetValue<string>())));
        var final = await api.GetAsync(search);
        foreach (var feature in StacServer.Features(final).Where(f => f["collection"]!.GetValue<string>() == "gamma:grow"))
        {
            var file = manifest["files"]!.AsArray().Single(f => Path.GetFileNameWithoutExtension(f!["path"]!.GetValue<string>()) == feature["id"]!.GetValue<string>())!;
            Assert.Equal(file["values"]!["tp_mm"]!["max"]!.GetValue<double>(), feature["properties"]!["max_tp_mm"]!.GetValue<double>());
            Assert.All(seenItems[StacServer.Key(feature)], seen => Assert.Equal(feature["properties"]!.ToJsonString(), seen));
        }

        var heads = (await api.Admin.Repositories.ListBranchesAsync(new ListRefsRequest { Repository = "gamma" })).Refs.ToDictionary(r => r.Name, r => r.SnapshotId);
        Assert.Equal(commits[^1], heads["main"]);
        Assert.Equal([.. commits.Skip(1)], Enumerable.Range(1, 3).Select(b => heads[$"b{b}"]));
        foreach (var feature in StacServer.Features(final).Where(f => f["collection"]!.GetValue<string>() == "gamma"))
        {
            var branch = feature["properties"]!["floe:branch"]!.GetValue<string>();
            Assert.Equal(heads[branch], feature["properties"]!["floe:snapshot"]!.GetValue<string>());
            // Every answer showed a branch at one of main's commits.
            Assert.All(seenItems[StacServer.Key(feature)], seen => Assert.Contains(JsonNode.Parse(seen)!["floe:snapshot"]!.GetValue<string>(), commits));
        }
    }

    [Fact]
    public async Task Exports_whose_output_paths_differ_only_by_slash_or_dash_are_both_searchable()
    {
        // Links come from Floe:Server:PublicUrl when it is set (a proxy in front of the server).
        await using var api = await StacServer.StartAsync(new Dictionary<string, string?> { ["Floe:Server:PublicUrl"] = "https://stac.example.org/floe/" });
        await api.IngestEra5Async("delta", 1);
        await api.ExportAsync("delta", "era5/all");
        await api.ExportAsync("delta", "era5-all");

        var page = await api.GetAsync(api.Stac + "/search?ids=tp-20200101T000000Z");
        var self = page["links"]!.AsArray().Single(l => l!["rel"]!.GetValue<string>() == "self")!["href"]!.GetValue<string>();
        Assert.Equal("https://stac.example.org/floe/stac/search?ids=tp-20200101T000000Z", self);
        // Two exports, two files: a search for the day's id must find both, each pointing at its own file.
        var hrefs = StacServer.Features(page).Select(f => Uri.UnescapeDataString(f["assets"]!["data"]!["href"]!.GetValue<string>())).Order(StringComparer.Ordinal).ToList();
        Assert.Equal(
            ["https://stac.example.org/floe/exports/delta/era5-all/date=2020-01-01/tp-20200101T000000Z.parquet", "https://stac.example.org/floe/exports/delta/era5/all/date=2020-01-01/tp-20200101T000000Z.parquet"],
            hrefs);
        Assert.Equal(["delta:era5-all", "delta:era5:all"], StacServer.Features(page).Select(f => f["collection"]!.GetValue<string>()).Order(StringComparer.Ordinal));
    }
}

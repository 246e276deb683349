using System.Globalization;
using System.Text.Json.Nodes;

namespace Floe.Stac.Tests;

/// <summary>
/// The index against a plain scan: random items and random searches must give the same answers whichever index
/// picks the candidates, and pages must cover the answer exactly once, in order.
/// </summary>
public sealed class StacIndexTests
{
    private static readonly DateTimeOffset Origin = new(2020, 1, 1, 0, 0, 0, TimeSpan.Zero);

    [Fact]
    public void Random_searches_answer_as_a_scan_of_every_item_does()
    {
        var random = new Random(7);
        var collections = Enumerable.Range(0, 3).Select(c => RandomCollection(random, $"c{c}", 400)).ToList();
        var index = new StacIndex(collections);
        var all = collections.SelectMany(c => c.Items.Select(i => (Collection: c.Id, Item: i))).ToList();
        Assert.Equal(1200, index.ItemCount);

        for (var trial = 0; trial < 300; trial++)
        {
            var query = new List<KeyValuePair<string, string?>>();
            (double W, double S, double E, double N)? box = null;
            (long From, long To)? time = null;
            if (random.Next(2) == 0)
            {
                var w = Math.Round(random.NextDouble() * 360 - 180, 1);
                var e = Math.Round(random.NextDouble() * 360 - 180, 1);
                var s = Math.Round(random.NextDouble() * 170 - 85, 1);
                var n = Math.Min(90, Math.Round(s + random.NextDouble() * 40, 1));
                box = (w, s, e, n);
                query.Add(new("bbox", string.Join(',', new[] { w, s, e, n }.Select(v => v.ToString(CultureInfo.InvariantCulture)))));
            }

            if (random.Next(2) == 0)
            {
                var from = Origin.AddHours(random.Next(0, 24 * 60));
                var to = from.AddHours(random.Next(0, 24 * 5));
                var kind = random.Next(3);
                var text = kind switch
                {
                    0 => $"{StacJson.Time(from)}/{StacJson.Time(to)}",
                    1 => $"../{StacJson.Time(to)}",
                    _ => $"{StacJson.Time(from)}/..",
                };
                time = (kind == 1 ? long.MinValue : SearchRequest.Micros(from), kind == 2 ? long.MaxValue : SearchRequest.Micros(to));
                query.Add(new("datetime", text));
            }

            string[]? only = null;
            if (random.Next(4) == 0)
            {
                only = random.Next(2) == 0 ? ["c1"] : ["c0", "c2"];
                query.Add(new("collections", string.Join(',', only)));
            }

            double? above = null;
            if (random.Next(3) == 0)
            {
                above = Math.Round(random.NextDouble() * 50, 2);
                query.Add(new("filter", $"max_precip > {above.Value.ToString(CultureInfo.InvariantCulture)} AND rows >= 0"));
            }

            query.Add(new("limit", "10000"));
            var page = index.Search(SearchRequest.FromQuery(query));

            var expected = all.Where(x =>
            {
                var p = x.Item["properties"]!;
                var start = SearchRequest.Micros(DateTimeOffset.Parse(p["start_datetime"]!.GetValue<string>(), CultureInfo.InvariantCulture));
                var end = SearchRequest.Micros(DateTimeOffset.Parse(p["end_datetime"]!.GetValue<string>(), CultureInfo.InvariantCulture));
                var b = x.Item["bbox"]!.AsArray().Select(v => v!.GetValue<double>()).ToArray();
                return (only is null || only.Contains(x.Collection))
                    && (time is not { } t || (start <= t.To && end >= t.From))
                    && (box is not { } q || BoxesMeet(q, b))
                    && (above is not { } a || p["max_precip"]!.GetValue<double>() > a);
            }).Select(x => $"{x.Collection}/{x.Item["id"]}").Order(StringComparer.Ordinal).ToList();
            var actual = page.Items.Select(i => $"{i.Collection}/{i.Id}").Order(StringComparer.Ordinal).ToList();
            Assert.Equal(expected, actual);
            Assert.Equal(expected.Count, page.Matched);
        }
    }

    [Fact]
    public void Pages_cover_every_match_once_in_sort_order_in_both_directions()
    {
        var random = new Random(11);
        var index = new StacIndex([RandomCollection(random, "a", 257), RandomCollection(random, "b", 100)]);
        foreach (var sortby in new[] { "datetime", "-datetime", "-max_precip", "+rows,-id", "collection,-end_datetime" })
        {
            var seen = new List<IndexedItem>();
            string? token = null;
            do
            {
                var query = new List<KeyValuePair<string, string?>> { new("limit", "17"), new("sortby", sortby) };
                if (token is not null)
                {
                    query.Add(new("token", token));
                }

                var page = index.Search(SearchRequest.FromQuery(query));
                Assert.Equal(357, page.Matched);
                Assert.True(page.Items.Count <= 17);
                seen.AddRange(page.Items);
                token = page.NextToken;
            }
            while (token is not null);

            Assert.Equal(357, seen.Select(i => (i.Collection, i.Id)).Distinct().Count());
            var field = sortby.Split(',')[0].TrimStart('+', '-');
            var descending = sortby.StartsWith('-');
            var keys = seen.Select(i => field switch
            {
                "datetime" => (double)i.Start,
                "end_datetime" => i.End,
                "collection" => i.Collection == "a" ? 0 : 1,
                _ => i.Properties[field]!.GetValue<double>(),
            }).ToList();
            var sorted = descending ? keys.OrderDescending().ToList() : keys.Order().ToList();
            Assert.Equal(sorted, keys);
        }
    }

    [Fact]
    public void A_page_token_stays_valid_when_the_index_is_replaced_and_skips_nothing_that_sorts_after_it()
    {
        var random = new Random(3);
        var first = RandomCollection(random, "a", 50);
        var before = new StacIndex([first]);
        var page = before.Search(SearchRequest.FromQuery([new("limit", "20")]));
        // An update adds a collection; the next page continues after the last item seen, in the new index.
        var after = new StacIndex([first, RandomCollection(random, "b", 30)]);
        var rest = after.Search(SearchRequest.FromQuery([new("limit", "1000"), new("token", page.NextToken)]));
        var last = page.Items[^1];
        var expected = after.Search(SearchRequest.FromQuery([new("limit", "1000")])).Items
            .SkipWhile(i => !(i.Collection == last.Collection && i.Id == last.Id)).Skip(1).Select(i => i.Id);
        Assert.Equal(expected, rest.Items.Select(i => i.Id));
    }

    [Fact]
    public void Intersects_tests_polygons_lines_and_points_against_item_boxes()
    {
        var items = new[]
        {
            Item("west", [-10, -10, 0, 0], Origin, 0),
            Item("east", [20, 20, 30, 30], Origin, 0),
            Item("pacific", [170, -5, -170, 5], Origin, 0),
        };
        var index = new StacIndex([new StacCollection(Collection("g"), items)]);
        string[] Ids(string geometry) => index.Search(SearchRequest.FromJson(JsonNode.Parse($"{{\"intersects\": {geometry}}}"))).Items.Select(i => i.Id).Order(StringComparer.Ordinal).ToArray();

        Assert.Equal(["west"], Ids("""{"type": "Point", "coordinates": [-5, -5]}"""));
        Assert.Equal(["east", "west"], Ids("""{"type": "LineString", "coordinates": [[-20, -5], [40, 25]]}"""));
        // A triangle whose corners are all outside the box but whose edge crosses it, and one that holds the box.
        Assert.Equal(["west"], Ids("""{"type": "Polygon", "coordinates": [[[-20, -1], [-5, 15], [10, -1], [-20, -1]]]}"""));
        Assert.Equal(["east"], Ids("""{"type": "Polygon", "coordinates": [[[1, 1], [60, 1], [60, 60], [1, 60], [1, 1]], [[21, 21], [22, 21], [22, 22], [21, 21]]]}"""));
        // The box inside the polygon's hole meets nothing of it.
        Assert.Empty(Ids("""{"type": "Polygon", "coordinates": [[[10, 10], [40, 10], [40, 40], [10, 40], [10, 10]], [[15, 15], [35, 15], [35, 35], [15, 35], [15, 15]]]}"""));
        Assert.Equal(["pacific"], Ids("""{"type": "MultiPolygon", "coordinates": [[[[175, -1], [179, -1], [179, 1], [175, -1]]], [[[-179, 50], [-178, 50], [-178, 51], [-179, 50]]]]}"""));
        Assert.Equal(["pacific"], Ids("""{"type": "Point", "coordinates": [-175, 0]}"""));
    }

    [Theory]
    [InlineData("bbox", "1,2,3", "bbox")]
    [InlineData("bbox", "a,2,3,4", "bbox")]
    [InlineData("bbox", "0,50,10,40", "bbox")]
    [InlineData("bbox", "0,-95,10,40", "bbox")]
    [InlineData("datetime", "yesterday", "datetime")]
    [InlineData("datetime", "2021-02-28/2021-02-27", "datetime")]
    [InlineData("datetime", "../..", "datetime")]
    [InlineData("datetime", "2021-02-27T25:00:00Z", "datetime")]
    [InlineData("datetime", "2021-02-27T12:00:00", "datetime")]
    [InlineData("limit", "0", "limit")]
    [InlineData("limit", "ten", "limit")]
    [InlineData("filter", "max_precip >", "filter")]
    [InlineData("filter-lang", "sql", "filter-lang")]
    [InlineData("intersects", "{\"type\": \"Circle\", \"coordinates\": [0, 0]}", "intersects")]
    [InlineData("intersects", "{\"type\": \"Polygon\", \"coordinates\": [[[0, 0], [1, 0], [1, 1], [0, 1]]]}", "intersects")]
    [InlineData("ids", "a,,b", "ids")]
    [InlineData("sortby", "-", "sortby")]
    [InlineData("datetim", "2021-02-27", "datetim")]
    public void Malformed_parameters_are_refused_naming_the_parameter(string key, string value, string parameter)
    {
        List<KeyValuePair<string, string?>> query = [new(key, value)];
        if (key == "filter-lang")
        {
            query.Add(new("filter", "rows > 1"));
        }

        var error = Assert.Throws<StacRequestException>(() => SearchRequest.FromQuery(query));
        Assert.Equal(parameter, error.Parameter);
        Assert.StartsWith(parameter + ":", error.Message, StringComparison.Ordinal);
        Assert.Equal(400, error.Status);
    }

    [Fact]
    public void Filters_on_unknown_properties_and_tokens_of_another_search_are_refused()
    {
        var index = new StacIndex([RandomCollection(new Random(1), "a", 5)]);
        var unknown = Assert.Throws<StacRequestException>(() => index.Search(SearchRequest.FromQuery([new("filter", "max_precipitation > 1")])));
        Assert.Equal("filter", unknown.Parameter);
        Assert.Contains("'max_precipitation'", unknown.Message, StringComparison.Ordinal);
        Assert.Contains("max_precip", unknown.Message, StringComparison.Ordinal);

        var token = index.Search(SearchRequest.FromQuery([new("limit", "1")])).NextToken;
        var other = Assert.Throws<StacRequestException>(() => index.Search(SearchRequest.FromQuery([new("sortby", "rows,id"), new("token", token)])));
        Assert.Equal("token", other.Parameter);
        Assert.Equal("token", Assert.Throws<StacRequestException>(() => index.Search(SearchRequest.FromQuery([new("token", "!!")]))).Parameter);
    }

    [Fact]
    public void Post_bodies_read_like_get_parameters_and_the_next_body_repeats_the_search()
    {
        var body = JsonNode.Parse("""
            {"bbox": [0, 0, 10, 10], "datetime": "2020-01-02", "collections": ["a"], "limit": 5,
             "filter": {"op": ">", "args": [{"property": "max_precip"}, 1]}, "sortby": [{"field": "properties.max_precip", "direction": "desc"}]}
            """);
        var request = SearchRequest.FromJson(body);
        Assert.Equal((SearchRequest.Micros(Origin.AddDays(1)), SearchRequest.Micros(Origin.AddDays(2)) - 1), request.Datetime);
        Assert.Equal([new SortField("max_precip", true)], request.SortBy);
        Assert.Equal(5, request.Limit);
        var next = request.NextBody("T");
        Assert.Equal("T", next["token"]!.GetValue<string>());
        Assert.True(JsonNode.DeepEquals(body!["filter"], next["filter"]));

        Assert.Equal("bbox", Assert.Throws<StacRequestException>(() => SearchRequest.FromJson(JsonNode.Parse("""{"bbox": "0,0,1,1"}"""))).Parameter);
        Assert.Equal("sortby", Assert.Throws<StacRequestException>(() => SearchRequest.FromJson(JsonNode.Parse("""{"sortby": [{"field": "x", "direction": "up"}]}"""))).Parameter);
        Assert.Equal("body", Assert.Throws<StacRequestException>(() => SearchRequest.FromJson(JsonNode.Parse("[]"))).Parameter);
        Assert.Equal("intersects", Assert.Throws<StacRequestException>(() => SearchRequest.FromJson(JsonNode.Parse("""{"bbox": [0, 0, 1, 1], "intersects": {"type": "Point", "coordinates": [0, 0]}}"""))).Parameter);
        Assert.Equal(SearchRequest.MaxLimit, SearchRequest.FromJson(JsonNode.Parse("""{"limit": 1000000}""")).Limit);
    }

    private static bool BoxesMeet((double W, double S, double E, double N) q, double[] b)
    {
        static IEnumerable<(double W, double E)> Spans(double w, double e) => w <= e ? [(w, e)] : [(w, 180), (-180, e)];
        return q.S <= b[3] && b[1] <= q.N && Spans(q.W, q.E).Any(a => Spans(b[0], b[2]).Any(c => a.W <= c.E && c.W <= a.E));
    }

    private static StacCollection RandomCollection(Random random, string id, int count)
    {
        var items = new List<JsonObject>();
        for (var i = 0; i < count; i++)
        {
            var west = Math.Round(random.NextDouble() * 360 - 180, 1);
            var width = random.Next(4) == 0 ? 200 : random.NextDouble() * 30;
            var east = Math.Round(west + width > 180 ? west + width - 360 : west + width, 1);
            var south = Math.Round(random.NextDouble() * 150 - 75, 1);
            var north = Math.Round(Math.Min(90, south + random.NextDouble() * 30), 1);
            var start = Origin.AddHours(random.Next(0, 24 * 60));
            var hours = random.Next(4) == 0 ? 24 * 10 : random.Next(0, 24);
            items.Add(Item($"{id}-{i:D4}", [west, south, east, north], start, hours, Math.Round(random.NextDouble() * 60, 3), random.Next(0, 1000)));
        }

        return new StacCollection(Collection(id), items);
    }

    private static JsonObject Collection(string id) => new() { ["type"] = "Collection", ["id"] = id, ["links"] = new JsonArray() };

    private static JsonObject Item(string id, double[] bbox, DateTimeOffset start, int hours, double maxPrecip = 0, int rows = 0) => new()
    {
        ["type"] = "Feature",
        ["id"] = id,
        ["bbox"] = StacJson.Numbers(bbox),
        ["geometry"] = StacJson.BboxGeometry(bbox[0], bbox[1], bbox[2], bbox[3]),
        ["properties"] = new JsonObject
        {
            ["datetime"] = StacJson.Time(start),
            ["start_datetime"] = StacJson.Time(start),
            ["end_datetime"] = StacJson.Time(start.AddHours(hours)),
            ["max_precip"] = maxPrecip,
            ["rows"] = rows,
        },
    };
}

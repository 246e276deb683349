using System.Globalization;
using System.Text.Json;
using System.Text.Json.Nodes;
using System.Text.RegularExpressions;

namespace Floe.Stac;

/// <summary>A sort field: a property (or <c>id</c>, <c>collection</c>) and its direction.</summary>
public sealed record SortField(string Field, bool Descending);

/// <summary>
/// An item search (docs/stac.md: Search parameters), read from GET query parameters or a POST body, every parameter
/// checked: a malformed one throws <see cref="StacRequestException"/> naming it.
/// </summary>
public sealed partial class SearchRequest
{
    public const int DefaultLimit = 10;
    public const int MaxLimit = 10_000;

    private static readonly string[] QueryParameters =
        ["bbox", "intersects", "datetime", "ids", "collections", "limit", "filter", "filter-lang", "filter-crs", "sortby", "token"];

    /// <summary>The bbox as rectangles that do not cross the antimeridian (two for a box across it).</summary>
    public GeoRect[]? Boxes { get; private init; }

    public double[]? Bbox { get; private init; }

    public Geometry? Intersects { get; private init; }

    /// <summary>The datetime range in microseconds since 1970 UTC, both ends inclusive (long.MinValue/MaxValue when open).</summary>
    public (long Start, long End)? Datetime { get; private init; }

    public IReadOnlyList<string>? Ids { get; private init; }

    public IReadOnlyList<string>? Collections { get; private set; }

    public int Limit { get; private init; } = DefaultLimit;

    public Cql2Expression? Filter { get; private init; }

    public IReadOnlyList<SortField> SortBy { get; private init; } = [];

    public string? Token { get; private init; }

    /// <summary>The POST body as given (to repeat it, with another token, in a next link).</summary>
    public JsonObject? Body { get; private init; }

    /// <summary>Reads GET query parameters; <paramref name="allowCollections"/> is false for /collections/{id}/items.</summary>
    public static SearchRequest FromQuery(IEnumerable<KeyValuePair<string, string?>> query, bool allowCollections = true)
    {
        ArgumentNullException.ThrowIfNull(query);
        var values = new Dictionary<string, string>(StringComparer.Ordinal);
        foreach (var (key, value) in query)
        {
            if (!QueryParameters.Contains(key) || (!allowCollections && key == "collections"))
            {
                throw new StacRequestException(key, $"unknown parameter; this request takes {string.Join(", ", QueryParameters.Where(p => allowCollections || p != "collections"))}");
            }

            if (!values.TryAdd(key, value ?? ""))
            {
                throw new StacRequestException(key, "given more than once");
            }
        }

        string? Get(string key) => values.TryGetValue(key, out var v) ? v : null;
        if (Get("bbox") is not null && Get("intersects") is not null)
        {
            throw new StacRequestException("intersects", "give bbox or intersects, not both");
        }

        var bbox = Get("bbox") is { } b ? ParseBbox(b.Split(',').Select(p => ParseNumber(p, "bbox")).ToArray()) : null;
        Geometry? intersects = null;
        if (Get("intersects") is { } text)
        {
            JsonNode? json;
            try
            {
                json = JsonNode.Parse(text);
            }
            catch (JsonException e)
            {
                throw new StacRequestException("intersects", $"not GeoJSON: {e.Message}");
            }

            intersects = Geometry.Parse(json, "intersects");
        }

        var language = Get("filter-lang") ?? "cql2-text";
        return new SearchRequest
        {
            Bbox = bbox,
            Boxes = bbox is null ? null : GeoRect.Split(bbox[0], bbox[1], bbox[2], bbox[3]),
            Intersects = intersects,
            Datetime = Get("datetime") is { } d ? ParseDatetime(d) : null,
            Ids = Get("ids") is { } ids ? List(ids.Split(','), "ids") : null,
            Collections = Get("collections") is { } c ? List(c.Split(','), "collections") : null,
            Limit = Get("limit") is { } l ? ParseLimit(l) : DefaultLimit,
            Filter = Get("filter") is { } f ? ParseFilter(language == "cql2-json" ? ParseJsonText(f) : JsonValue.Create(f), language, Get("filter-crs")) : null,
            SortBy = Get("sortby") is { } s ? ParseSortText(s) : [],
            Token = Get("token") is { Length: > 0 } t ? t : null,
        };
    }

    /// <summary>Reads a POST body.</summary>
    public static SearchRequest FromJson(JsonNode? body)
    {
        if (body is not JsonObject json)
        {
            throw new StacRequestException("body", "a JSON object with the search parameters is expected");
        }

        foreach (var (key, _) in json)
        {
            if (!QueryParameters.Contains(key))
            {
                throw new StacRequestException(key, $"unknown parameter; a search takes {string.Join(", ", QueryParameters)}");
            }
        }

        if (json["bbox"] is not null && json["intersects"] is not null)
        {
            throw new StacRequestException("intersects", "give bbox or intersects, not both");
        }

        double[]? bbox = null;
        if (json["bbox"] is { } b)
        {
            if (b is not JsonArray array)
            {
                throw new StacRequestException("bbox", "an array of 4 or 6 numbers is expected");
            }

            bbox = ParseBbox(array.Select(v => v is JsonValue value && value.TryGetValue<double>(out var n) ? n
                : throw new StacRequestException("bbox", $"{v?.ToJsonString() ?? "null"} is not a number")).ToArray());
        }

        var language = String(json, "filter-lang") ?? (json["filter"] is JsonValue ? "cql2-text" : "cql2-json");
        return new SearchRequest
        {
            Bbox = bbox,
            Boxes = bbox is null ? null : GeoRect.Split(bbox[0], bbox[1], bbox[2], bbox[3]),
            Intersects = json["intersects"] is { } g ? Geometry.Parse(g, "intersects") : null,
            Datetime = String(json, "datetime") is { } d ? ParseDatetime(d) : null,
            Ids = Strings(json, "ids"),
            Collections = Strings(json, "collections"),
            Limit = json["limit"] is { } l ? ParseLimit(l is JsonValue v && v.TryGetValue<double>(out var n) ? n.ToString(CultureInfo.InvariantCulture) : l.ToJsonString()) : DefaultLimit,
            Filter = json["filter"] is { } f ? ParseFilter(f, language, String(json, "filter-crs")) : null,
            SortBy = json["sortby"] switch
            {
                null => [],
                JsonValue text when text.TryGetValue<string>(out var s) => ParseSortText(s),
                JsonArray fields => fields.Select(ParseSortObject).ToArray(),
                _ => throw new StacRequestException("sortby", "an array of {\"field\", \"direction\"} objects is expected"),
            },
            Token = String(json, "token"),
            Body = json.DeepClone().AsObject(),
        };
    }

    /// <summary>This search limited to <paramref name="collections"/> (the items endpoint of a collection).</summary>
    public SearchRequest WithCollections(IReadOnlyList<string> collections)
    {
        var copy = (SearchRequest)MemberwiseClone();
        copy.Collections = collections;
        return copy;
    }

    /// <summary>The body of the next page's POST request: this request's with <paramref name="token"/>.</summary>
    public JsonObject NextBody(string token)
    {
        var body = Body?.DeepClone().AsObject() ?? [];
        body["token"] = token;
        return body;
    }

    private static double[] ParseBbox(double[] numbers)
    {
        if (numbers.Length is not (4 or 6))
        {
            throw new StacRequestException("bbox", $"4 or 6 numbers expected (west,south,east,north), got {numbers.Length}");
        }

        double[] box = numbers.Length == 4 ? numbers : [numbers[0], numbers[1], numbers[3], numbers[4]];
        var (west, south, east, north) = (box[0], box[1], box[2], box[3]);
        if (west is < -180 or > 180 || east is < -180 or > 180)
        {
            throw new StacRequestException("bbox", $"longitudes must lie in [-180, 180], got west {west} and east {east}");
        }

        if (south is < -90 or > 90 || north is < -90 or > 90)
        {
            throw new StacRequestException("bbox", $"latitudes must lie in [-90, 90], got south {south} and north {north}");
        }

        if (south > north)
        {
            throw new StacRequestException("bbox", $"south {south} is above north {north}");
        }

        return box;
    }

    private static double ParseNumber(string text, string parameter) =>
        double.TryParse(text, NumberStyles.Float, CultureInfo.InvariantCulture, out var value) && double.IsFinite(value)
            ? value
            : throw new StacRequestException(parameter, $"\"{text}\" is not a number");

    private static int ParseLimit(string text)
    {
        if (!long.TryParse(text, NumberStyles.Integer, CultureInfo.InvariantCulture, out var limit) || limit < 1)
        {
            throw new StacRequestException("limit", $"\"{text}\" is not a whole number from 1 to {MaxLimit}");
        }

        // OGC API Features: a limit above the maximum is not an error; the maximum is used.
        return (int)Math.Min(limit, MaxLimit);
    }

    private static string[] List(IEnumerable<string> values, string parameter)
    {
        var list = values.Select(v => v.Trim()).ToArray();
        if (list.Length == 0 || list.Any(v => v.Length == 0))
        {
            throw new StacRequestException(parameter, "a comma-separated list without empty entries is expected");
        }

        return list;
    }

    private static string? String(JsonObject json, string key) => json[key] switch
    {
        null => null,
        JsonValue value when value.TryGetValue<string>(out var text) => text,
        var other => throw new StacRequestException(key, $"a string is expected, got {other.ToJsonString()}"),
    };

    private static string[]? Strings(JsonObject json, string key) => json[key] switch
    {
        null => null,
        JsonArray array => List(array.Select(v => v is JsonValue s && s.TryGetValue<string>(out var text) ? text
            : throw new StacRequestException(key, $"{v?.ToJsonString() ?? "null"} is not a string")), key),
        _ => throw new StacRequestException(key, "an array of strings is expected"),
    };

    /// <summary>An instant, or an interval "start/end" whose ends may be open ("..", or empty); both ends inclusive.</summary>
    public static (long Start, long End) ParseDatetime(string text)
    {
        ArgumentNullException.ThrowIfNull(text);
        var parts = text.Split('/');
        if (parts.Length == 1)
        {
            var (from, to) = ParseInstant(parts[0]);
            return (from, to);
        }

        if (parts.Length != 2)
        {
            throw new StacRequestException("datetime", $"\"{text}\" is neither an instant nor an interval START/END");
        }

        var open0 = parts[0] is "" or "..";
        var open1 = parts[1] is "" or "..";
        if (open0 && open1)
        {
            throw new StacRequestException("datetime", $"\"{text}\": at least one end of the interval must be given");
        }

        var start = open0 ? long.MinValue : ParseInstant(parts[0]).From;
        var end = open1 ? long.MaxValue : ParseInstant(parts[1]).To;
        if (start > end)
        {
            throw new StacRequestException("datetime", $"\"{text}\": the interval ends before it starts");
        }

        return (start, end);
    }

    // A date-time is itself; a date alone is the whole day.
    private static (long From, long To) ParseInstant(string text)
    {
        var match = InstantPattern().Match(text);
        if (!match.Success || !DateTimeOffset.TryParse(text.ToUpperInvariant().Replace(' ', 'T'), CultureInfo.InvariantCulture,
                DateTimeStyles.AssumeUniversal | DateTimeStyles.AdjustToUniversal, out var time))
        {
            throw new StacRequestException("datetime", $"\"{text}\" is not an RFC 3339 date-time (2021-02-27T12:00:00Z) or date (2021-02-27)");
        }

        var micros = Micros(time);
        return match.Groups["time"].Success ? (micros, micros) : (micros, micros + (86_400_000_000L - 1));
    }

    public static long Micros(DateTimeOffset time) => (time.UtcTicks - DateTimeOffset.UnixEpoch.UtcTicks) / 10;

    private static JsonNode? ParseJsonText(string text)
    {
        try
        {
            return JsonNode.Parse(text);
        }
        catch (JsonException e)
        {
            throw new StacRequestException("filter", $"not CQL2-JSON: {e.Message}");
        }
    }

    private static Cql2Expression ParseFilter(JsonNode? filter, string language, string? crs)
    {
        if (crs is not null && crs != "http://www.opengis.net/def/crs/OGC/1.3/CRS84")
        {
            throw new StacRequestException("filter-crs", $"\"{crs}\" is not supported; only http://www.opengis.net/def/crs/OGC/1.3/CRS84");
        }

        try
        {
            return language switch
            {
                "cql2-text" when filter is JsonValue v && v.TryGetValue<string>(out var text) => Cql2Expression.ParseText(text),
                "cql2-text" => throw new StacRequestException("filter", "with filter-lang cql2-text the filter must be a string"),
                "cql2-json" => Cql2Expression.ParseJson(filter),
                _ => throw new StacRequestException("filter-lang", $"\"{language}\" is not cql2-text or cql2-json"),
            };
        }
        catch (Cql2Exception e)
        {
            throw new StacRequestException("filter", e.Message);
        }
    }

    private static SortField[] ParseSortText(string text)
    {
        var fields = new List<SortField>();
        foreach (var raw in text.Split(','))
        {
            // An unencoded '+' in a query string arrives as a space.
            var part = raw.TrimEnd();
            var descending = part.StartsWith('-');
            var name = part.TrimStart('+', '-', ' ');
            fields.Add(new SortField(SortName(name), descending));
        }

        return fields.ToArray();
    }

    private static SortField ParseSortObject(JsonNode? node)
    {
        if (node is not JsonObject o || o["field"] is not JsonValue f || !f.TryGetValue<string>(out var field))
        {
            throw new StacRequestException("sortby", $"{node?.ToJsonString() ?? "null"} is not {{\"field\": ..., \"direction\": \"asc\"|\"desc\"}}");
        }

        var direction = o["direction"] is JsonValue d && d.TryGetValue<string>(out var text) ? text : "asc";
        return direction switch
        {
            "asc" => new SortField(SortName(field), false),
            "desc" => new SortField(SortName(field), true),
            _ => throw new StacRequestException("sortby", $"direction \"{direction}\" is not asc or desc"),
        };
    }

    private static string SortName(string name)
    {
        var field = name.StartsWith("properties.", StringComparison.Ordinal) ? name["properties.".Length..] : name;
        if (field.Length == 0 || field.Any(char.IsWhiteSpace))
        {
            throw new StacRequestException("sortby", $"\"{name}\" is not a field name");
        }

        return field;
    }

    [GeneratedRegex(@"^\d{4}-\d{2}-\d{2}(?<time>[Tt ]\d{2}:\d{2}:\d{2}(\.\d+)?([Zz]|[+-]\d{2}:\d{2}))?$")]
    private static partial Regex InstantPattern();
}

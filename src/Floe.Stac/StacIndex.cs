using System.Globalization;
using System.Text;
using System.Text.Json;
using System.Text.Json.Nodes;

namespace Floe.Stac;

/// <summary>One item in the index: its document and what searches test, decoded once.</summary>
public sealed class IndexedItem
{
    internal IndexedItem(JsonObject document, string collection)
    {
        // A private copy read back from text: nobody can change an indexed item, and every number reads as a double.
        Document = JsonNode.Parse(document.ToJsonString())!.AsObject();
        Id = document["id"]!.GetValue<string>();
        Collection = collection;
        Properties = Document["properties"] as JsonObject ?? [];
        (Start, End) = TimeRange(Properties);
        Boxes = Document["bbox"] is JsonArray { Count: 4 or 6 } bbox
            ? bbox.Count == 4
                ? GeoRect.Split(N(bbox[0]), N(bbox[1]), N(bbox[2]), N(bbox[3]))
                : GeoRect.Split(N(bbox[0]), N(bbox[1]), N(bbox[3]), N(bbox[4]))
            : [];
    }

    public JsonObject Document { get; }

    public string Id { get; }

    public string Collection { get; }

    public JsonObject Properties { get; }

    /// <summary>First and last instant (µs since 1970 UTC); Start &gt; End when the item has no time.</summary>
    public long Start { get; }

    public long End { get; }

    /// <summary>The bbox as rectangles not crossing the antimeridian; empty without geometry.</summary>
    public GeoRect[] Boxes { get; }

    /// <summary>A property as filters and sorting see it: <c>id</c> and <c>collection</c> are the item's, the rest its properties.</summary>
    public JsonNode? Property(string name) => name switch
    {
        "id" => JsonValue.Create(Id),
        "collection" => JsonValue.Create(Collection),
        _ => Properties[name],
    };

    private static double N(JsonNode? node) => node!.GetValue<double>();

    private static (long, long) TimeRange(JsonObject properties)
    {
        var datetime = Time(properties["datetime"]);
        var start = Time(properties["start_datetime"]) ?? datetime;
        var end = Time(properties["end_datetime"]) ?? datetime;
        return start is { } s && end is { } e ? (s, e) : (long.MaxValue, long.MinValue);
    }

    private static long? Time(JsonNode? node) =>
        node is JsonValue v && v.TryGetValue<string>(out var text)
        && DateTimeOffset.TryParse(text, CultureInfo.InvariantCulture, DateTimeStyles.AssumeUniversal | DateTimeStyles.AdjustToUniversal, out var time)
            ? SearchRequest.Micros(time)
            : null;
}

/// <summary>A page of search results: the items, how many matched in all, and the token of the next page.</summary>
public sealed record SearchPage(IReadOnlyList<IndexedItem> Items, long Matched, string? NextToken);

/// <summary>
/// An immutable index of collections and items (docs/stac.md: Index and updates): items by start time, by a 10°
/// grid, by id and by collection. A search takes its candidates from the most selective of these and checks the
/// rest on each. Updates build a new index; whoever holds one sees it whole.
/// </summary>
public sealed class StacIndex
{
    private const int CellDegrees = 10;
    private const int Columns = 360 / CellDegrees;
    private const int Rows = 180 / CellDegrees;

    private readonly IndexedItem[] _items;
    private readonly long[] _starts;
    private readonly int[] _byStart;
    private readonly long _longest;
    private readonly List<int>[] _cells = new List<int>[Columns * Rows];
    private readonly List<int> _wide = [];
    private readonly Dictionary<string, List<int>> _byId = new(StringComparer.Ordinal);
    private readonly Dictionary<string, (StacCollection Collection, List<int> Items, JsonObject Queryables)> _collections = new(StringComparer.Ordinal);

    public static StacIndex Empty { get; } = new([]);

    /// <summary>Indexes <paramref name="collections"/>; a collection id given twice keeps the first and is reported in <see cref="Duplicates"/>.</summary>
    public StacIndex(IEnumerable<StacCollection> collections)
    {
        ArgumentNullException.ThrowIfNull(collections);
        var items = new List<IndexedItem>();
        var duplicates = new List<string>();
        foreach (var collection in collections)
        {
            if (_collections.ContainsKey(collection.Id))
            {
                duplicates.Add(collection.Source ?? collection.Id);
                continue;
            }

            var members = new List<int>();
            var seen = new HashSet<string>(StringComparer.Ordinal);
            foreach (var document in collection.Items)
            {
                var item = new IndexedItem(document, collection.Id);
                if (!seen.Add(item.Id))
                {
                    continue;
                }

                members.Add(items.Count);
                items.Add(item);
            }

            _collections[collection.Id] = (collection, members, QueryablesOf(members.Select(i => items[i])));
        }

        Duplicates = duplicates;
        _items = items.ToArray();
        _byStart = Enumerable.Range(0, _items.Length).Where(i => _items[i].Start <= _items[i].End).OrderBy(i => _items[i].Start).ToArray();
        _starts = _byStart.Select(i => _items[i].Start).ToArray();
        _longest = _byStart.Length == 0 ? 0 : _byStart.Max(i => _items[i].End - _items[i].Start);
        for (var c = 0; c < _cells.Length; c++)
        {
            _cells[c] = [];
        }

        for (var i = 0; i < _items.Length; i++)
        {
            var item = _items[i];
            if (!_byId.TryGetValue(item.Id, out var list))
            {
                _byId[item.Id] = list = [];
            }

            list.Add(i);
            var cells = item.Boxes.SelectMany(CellsOf).Distinct().ToList();
            // Items over a quarter of the globe go in one list instead of hundreds of cells.
            if (cells.Count > _cells.Length / 4)
            {
                _wide.Add(i);
            }
            else
            {
                foreach (var cell in cells)
                {
                    _cells[cell].Add(i);
                }
            }
        }
    }

    public int ItemCount => _items.Length;

    /// <summary>Sources of collections left out because an earlier one had the same id.</summary>
    public IReadOnlyList<string> Duplicates { get; }

    public IEnumerable<StacCollection> Collections => _collections.Values.Select(c => c.Collection);

    public StacCollection? FindCollection(string id) => _collections.TryGetValue(id, out var entry) ? entry.Collection : null;

    public IndexedItem? FindItem(string collection, string id) =>
        _collections.ContainsKey(collection) && _byId.TryGetValue(id, out var list) ? list.Select(i => _items[i]).FirstOrDefault(i => i.Collection == collection) : null;

    /// <summary>Property name → JSON Schema of the collection's items' properties (or of every collection's, for null).</summary>
    public JsonObject Queryables(string? collection) =>
        collection is null ? Queryables(_collections.Keys) : _collections.ContainsKey(collection) ? Queryables([collection]) : [];

    /// <summary>The union of the queryables of <paramref name="collections"/>; without any, the ones every item has (id, collection, datetime).</summary>
    public JsonObject Queryables(IEnumerable<string> collections)
    {
        ArgumentNullException.ThrowIfNull(collections);
        var all = new JsonObject();
        foreach (var id in collections)
        {
            if (!_collections.TryGetValue(id, out var entry))
            {
                continue;
            }

            foreach (var (name, schema) in entry.Queryables)
            {
                if (!all.ContainsKey(name))
                {
                    all[name] = schema!.DeepClone();
                }
            }
        }

        if (all.Count == 0)
        {
            all["id"] = new JsonObject { ["title"] = "Item id", ["type"] = "string" };
            all["collection"] = new JsonObject { ["title"] = "Collection id", ["type"] = "string" };
            all["datetime"] = new JsonObject { ["type"] = "string", ["format"] = "date-time" };
        }

        return all;
    }

    /// <summary>Runs a search over the collections <paramref name="visible"/> allows (all when null).</summary>
    public SearchPage Search(SearchRequest request, Func<string, bool>? visible = null)
    {
        ArgumentNullException.ThrowIfNull(request);
        var collections = request.Collections?.ToHashSet(StringComparer.Ordinal);
        if (request.Filter is { } filter)
        {
            // Only the queryables of the collections searched that the caller may see: a filter learns nothing of the others.
            var known = Queryables((collections ?? (IEnumerable<string>)_collections.Keys).Where(c => visible is null || visible(c)));
            var unknown = filter.Properties.Where(p => !known.ContainsKey(p)).Order(StringComparer.Ordinal).ToList();
            if (unknown.Count > 0)
            {
                throw new StacRequestException("filter", $"unknown queryable{(unknown.Count > 1 ? "s" : "")} {string.Join(", ", unknown.Select(u => $"'{u}'"))}; "
                    + $"the queryables are {string.Join(", ", known.Select(k => k.Key).Order(StringComparer.Ordinal))}");
            }
        }

        var sort = request.SortBy.Count > 0 ? request.SortBy : [new SortField("datetime", false)];
        var after = request.Token is { } token ? DecodeToken(token, sort.Count + 2) : null;
        var ids = request.Ids?.ToHashSet(StringComparer.Ordinal);
        var matches = new List<(IndexedItem Item, SortValue[] Key)>();
        foreach (var index in Candidates(request, collections))
        {
            var item = _items[index];
            if ((collections is not null && !collections.Contains(item.Collection))
                || (ids is not null && !ids.Contains(item.Id))
                || (visible is not null && !visible(item.Collection))
                || (request.Datetime is { } time && (item.Start > time.End || item.End < time.Start))
                || (request.Boxes is { } boxes && !item.Boxes.Any(b => boxes.Any(b.Intersects)))
                || (request.Intersects is { } geometry && !item.Boxes.Any(geometry.Intersects))
                || (request.Filter is { } f && !f.Matches(item.Property)))
            {
                continue;
            }

            matches.Add((item, Key(item, sort)));
        }

        var comparer = new KeyComparer(sort);
        matches.Sort((a, b) => comparer.Compare(a.Key, b.Key));
        var start = after is null ? 0 : FirstAfter(matches, after, comparer);
        var page = matches.Skip(start).Take(request.Limit).ToList();
        var next = start + page.Count < matches.Count && page.Count > 0 ? EncodeToken(page[^1].Key) : null;
        return new SearchPage(page.Select(m => m.Item).ToList(), matches.Count, next);
    }

    private static int FirstAfter(List<(IndexedItem Item, SortValue[] Key)> matches, SortValue[] after, KeyComparer comparer)
    {
        int low = 0, high = matches.Count;
        while (low < high)
        {
            var mid = (low + high) / 2;
            if (comparer.Compare(matches[mid].Key, after) <= 0)
            {
                low = mid + 1;
            }
            else
            {
                high = mid;
            }
        }

        return low;
    }

    /// <summary>Item positions to check: from the most selective index for the request.</summary>
    private IEnumerable<int> Candidates(SearchRequest request, HashSet<string>? collections)
    {
        var options = new List<(long Size, Func<IEnumerable<int>> Items)>();
        if (request.Ids is { } ids)
        {
            var lists = ids.Distinct().Select(id => _byId.TryGetValue(id, out var l) ? l : []).ToList();
            options.Add((lists.Sum(l => (long)l.Count), () => lists.SelectMany(l => l)));
        }

        if (collections is not null)
        {
            var lists = collections.Select(c => _collections.TryGetValue(c, out var e) ? e.Items : []).ToList();
            options.Add((lists.Sum(l => (long)l.Count), () => lists.SelectMany(l => l)));
        }

        if (request.Datetime is { } time)
        {
            // Items are sorted by start; one that meets [from, to] starts at most `longest` before from.
            var from = LowerBound(time.Start == long.MinValue ? long.MinValue : SaturatingSubtract(time.Start, _longest));
            var to = LowerBound(time.End == long.MaxValue ? long.MaxValue : time.End + 1);
            if (time.End == long.MaxValue)
            {
                to = _starts.Length;
            }

            options.Add((to - from, () => _byStart.Skip(from).Take(to - from)));
        }

        var rects = request.Boxes ?? (request.Intersects is { } g ? [g.Bounds] : null);
        if (rects is not null)
        {
            var cells = rects.SelectMany(CellsOf).Distinct().ToList();
            options.Add((_wide.Count + cells.Sum(c => (long)_cells[c].Count), () => _wide.Concat(cells.SelectMany(c => _cells[c])).Distinct()));
        }

        return options.Count == 0 ? Enumerable.Range(0, _items.Length) : options.MinBy(o => o.Size).Items();
    }

    private static long SaturatingSubtract(long a, long b) => a < long.MinValue + b ? long.MinValue : a - b;

    private int LowerBound(long value)
    {
        var i = Array.BinarySearch(_starts, value);
        if (i < 0)
        {
            return ~i;
        }

        while (i > 0 && _starts[i - 1] == value)
        {
            i--;
        }

        return i;
    }

    private static IEnumerable<int> CellsOf(GeoRect box)
    {
        var c0 = Math.Clamp((int)Math.Floor((box.West + 180) / CellDegrees), 0, Columns - 1);
        var c1 = Math.Clamp((int)Math.Floor((box.East + 180) / CellDegrees), 0, Columns - 1);
        var r0 = Math.Clamp((int)Math.Floor((box.South + 90) / CellDegrees), 0, Rows - 1);
        var r1 = Math.Clamp((int)Math.Floor((box.North + 90) / CellDegrees), 0, Rows - 1);
        for (var r = r0; r <= r1; r++)
        {
            for (var c = c0; c <= c1; c++)
            {
                yield return (r * Columns) + c;
            }
        }
    }

    private static JsonObject QueryablesOf(IEnumerable<IndexedItem> items)
    {
        var queryables = new JsonObject
        {
            ["id"] = new JsonObject { ["title"] = "Item id", ["type"] = "string" },
            ["collection"] = new JsonObject { ["title"] = "Collection id", ["type"] = "string" },
            ["datetime"] = new JsonObject { ["type"] = "string", ["format"] = "date-time" },
        };
        foreach (var item in items)
        {
            foreach (var (name, value) in item.Properties)
            {
                if (queryables.ContainsKey(name) || value is null)
                {
                    continue;
                }

                queryables[name] = value.GetValueKind() switch
                {
                    JsonValueKind.Number => new JsonObject { ["type"] = "number" },
                    JsonValueKind.True or JsonValueKind.False => new JsonObject { ["type"] = "boolean" },
                    JsonValueKind.Array => new JsonObject { ["type"] = "array" },
                    JsonValueKind.Object => new JsonObject { ["type"] = "object" },
                    _ when name.EndsWith("datetime", StringComparison.Ordinal) => new JsonObject { ["type"] = "string", ["format"] = "date-time" },
                    _ => new JsonObject { ["type"] = "string" },
                };
            }
        }

        return queryables;
    }

    private static SortValue[] Key(IndexedItem item, IReadOnlyList<SortField> sort)
    {
        var key = new SortValue[sort.Count + 2];
        for (var i = 0; i < sort.Count; i++)
        {
            key[i] = sort[i].Field switch
            {
                "datetime" or "start_datetime" when item.Start <= item.End => SortValue.Number(item.Start),
                "end_datetime" when item.Start <= item.End => SortValue.Number(item.End),
                var field => SortValue.Of(item.Property(field)),
            };
        }

        key[^2] = SortValue.Text(item.Collection);
        key[^1] = SortValue.Text(item.Id);
        return key;
    }

    private static string EncodeToken(SortValue[] key)
    {
        var array = new JsonArray(key.Select(v => v.ToJson()).ToArray());
        return Convert.ToBase64String(Encoding.UTF8.GetBytes(array.ToJsonString())).TrimEnd('=').Replace('+', '-').Replace('/', '_');
    }

    private static SortValue[] DecodeToken(string token, int length)
    {
        try
        {
            var base64 = token.Replace('-', '+').Replace('_', '/');
            base64 += new string('=', (4 - (base64.Length % 4)) % 4);
            var array = JsonNode.Parse(Convert.FromBase64String(base64))!.AsArray();
            if (array.Count != length)
            {
                throw new FormatException("the token belongs to a search with another sort order");
            }

            return array.Select(SortValue.Of).ToArray();
        }
        catch (Exception e) when (e is FormatException or JsonException or InvalidOperationException or NullReferenceException)
        {
            throw new StacRequestException("token", $"\"{token}\" is not a page token of this search ({e.Message}); take tokens from next links");
        }
    }

    /// <summary>A sortable value: numbers before strings, nulls last.</summary>
    private readonly record struct SortValue(int Kind, double Value, string? String)
    {
        public static SortValue Number(double value) => new(0, value, null);

        public static SortValue Text(string value) => new(1, 0, value);

        public static SortValue Null => new(2, 0, null);

        public static SortValue Of(JsonNode? node) => node switch
        {
            JsonValue v when v.GetValueKind() == JsonValueKind.Number => Number(v.GetValue<double>()),
            JsonValue v when v.TryGetValue<string>(out var s) => Text(s),
            JsonValue v when v.TryGetValue<bool>(out var b) => Number(b ? 1 : 0),
            _ => Null,
        };

        public JsonNode? ToJson() => Kind switch
        {
            0 => JsonValue.Create(Value),
            1 => JsonValue.Create(String),
            _ => null,
        };
    }

    private sealed class KeyComparer(IReadOnlyList<SortField> sort) : IComparer<SortValue[]>
    {
        public int Compare(SortValue[]? x, SortValue[]? y)
        {
            for (var i = 0; i < x!.Length; i++)
            {
                var a = x[i];
                var b = y![i];
                var order = a.Kind != b.Kind ? a.Kind.CompareTo(b.Kind)
                    : a.Kind == 0 ? a.Value.CompareTo(b.Value)
                    : a.Kind == 1 ? string.CompareOrdinal(a.String, b.String)
                    : 0;
                // Nulls stay last in either direction.
                if (order != 0)
                {
                    return i < sort.Count && sort[i].Descending && a.Kind != 2 && b.Kind != 2 ? -order : order;
                }
            }

            return 0;
        }
    }
}

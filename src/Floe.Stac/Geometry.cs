using System.Text.Json.Nodes;

namespace Floe.Stac;

/// <summary>A longitude/latitude box that does not cross the antimeridian (west &lt;= east).</summary>
public readonly record struct GeoRect(double West, double South, double East, double North)
{
    public bool Intersects(GeoRect other) =>
        West <= other.East && other.West <= East && South <= other.North && other.South <= North;

    public bool Contains(double lon, double lat) => lon >= West && lon <= East && lat >= South && lat <= North;

    /// <summary>One rectangle, or two when <paramref name="west"/> &gt; <paramref name="east"/> (a box across the antimeridian).</summary>
    public static GeoRect[] Split(double west, double south, double east, double north) =>
        west <= east ? [new GeoRect(west, south, east, north)] : [new GeoRect(west, south, 180, north), new GeoRect(-180, south, east, north)];
}

/// <summary>
/// A GeoJSON geometry read for search (<c>intersects</c>): points, lines and polygons with holes, in longitude and
/// latitude, tested for intersection with items' boxes.
/// </summary>
public sealed class Geometry
{
    private readonly List<(double Lon, double Lat)> _points = [];
    private readonly List<(double Lon, double Lat)[]> _lines = [];
    private readonly List<List<(double Lon, double Lat)[]>> _polygons = [];

    private Geometry()
    {
    }

    /// <summary>The smallest rectangle holding every coordinate.</summary>
    public GeoRect Bounds { get; private set; }

    /// <summary>Reads a GeoJSON geometry; <see cref="StacRequestException"/> naming <paramref name="parameter"/> when it is not one.</summary>
    public static Geometry Parse(JsonNode? json, string parameter)
    {
        if (json is not JsonObject geometry)
        {
            throw new StacRequestException(parameter, "a GeoJSON geometry object is expected");
        }

        var result = new Geometry();
        result.Add(geometry, parameter);
        var all = result._points.Concat(result._lines.SelectMany(l => l)).Concat(result._polygons.SelectMany(p => p[0])).ToList();
        if (all.Count == 0)
        {
            throw new StacRequestException(parameter, "the geometry has no coordinates");
        }

        result.Bounds = new GeoRect(all.Min(p => p.Lon), all.Min(p => p.Lat), all.Max(p => p.Lon), all.Max(p => p.Lat));
        return result;
    }

    public bool Intersects(GeoRect box)
    {
        if (!box.Intersects(Bounds))
        {
            return false;
        }

        foreach (var (lon, lat) in _points)
        {
            if (box.Contains(lon, lat))
            {
                return true;
            }
        }

        foreach (var line in _lines)
        {
            if (PathIntersects(line, box))
            {
                return true;
            }
        }

        foreach (var rings in _polygons)
        {
            // An edge crossing or touching the box, or the box inside the polygon (its centre outside every hole).
            if (rings.Any(ring => PathIntersects(ring, box)) || Inside(rings, (box.West + box.East) / 2, (box.South + box.North) / 2))
            {
                return true;
            }
        }

        return false;
    }

    private void Add(JsonObject geometry, string parameter)
    {
        var type = geometry["type"] is JsonValue t && t.TryGetValue<string>(out var s) ? s : null;
        if (type == "GeometryCollection")
        {
            if (geometry["geometries"] is not JsonArray members)
            {
                throw new StacRequestException(parameter, "a GeometryCollection needs \"geometries\"");
            }

            foreach (var member in members)
            {
                Add(member as JsonObject ?? throw new StacRequestException(parameter, "every member of \"geometries\" must be a geometry object"), parameter);
            }

            return;
        }

        var coordinates = geometry["coordinates"] as JsonArray ?? throw new StacRequestException(parameter, $"a {type ?? "geometry"} needs a \"coordinates\" array");
        switch (type)
        {
            case "Point":
                _points.Add(Position(coordinates, parameter));
                break;
            case "MultiPoint":
                _points.AddRange(coordinates.Select(c => Position(c, parameter)));
                break;
            case "LineString":
                _lines.Add(Line(coordinates, parameter));
                break;
            case "MultiLineString":
                _lines.AddRange(coordinates.Select(c => Line(c, parameter)));
                break;
            case "Polygon":
                _polygons.Add(Polygon(coordinates, parameter));
                break;
            case "MultiPolygon":
                _polygons.AddRange(coordinates.Select(c => Polygon(c, parameter)));
                break;
            default:
                throw new StacRequestException(parameter, $"\"{type}\" is not a GeoJSON geometry type (Point, MultiPoint, LineString, MultiLineString, Polygon, MultiPolygon, GeometryCollection)");
        }
    }

    private static (double Lon, double Lat) Position(JsonNode? node, string parameter)
    {
        if (node is not JsonArray { Count: >= 2 } position || !TryNumber(position[0], out var lon) || !TryNumber(position[1], out var lat))
        {
            throw new StacRequestException(parameter, $"{node?.ToJsonString() ?? "null"} is not a position: [longitude, latitude] numbers expected");
        }

        if (lon is < -180 or > 180 || lat is < -90 or > 90)
        {
            throw new StacRequestException(parameter, $"position [{lon}, {lat}] is outside longitude [-180, 180] and latitude [-90, 90]");
        }

        return (lon, lat);
    }

    private static (double Lon, double Lat)[] Line(JsonNode? node, string parameter)
    {
        if (node is not JsonArray { Count: >= 2 } line)
        {
            throw new StacRequestException(parameter, "a line needs at least two positions");
        }

        return line.Select(p => Position(p, parameter)).ToArray();
    }

    private static List<(double Lon, double Lat)[]> Polygon(JsonNode? node, string parameter)
    {
        if (node is not JsonArray { Count: >= 1 } rings)
        {
            throw new StacRequestException(parameter, "a polygon needs at least one ring");
        }

        var result = new List<(double Lon, double Lat)[]>();
        foreach (var ringNode in rings)
        {
            if (ringNode is not JsonArray { Count: >= 4 } ring)
            {
                throw new StacRequestException(parameter, "a polygon ring needs at least four positions");
            }

            var positions = ring.Select(p => Position(p, parameter)).ToArray();
            if (positions[0] != positions[^1])
            {
                throw new StacRequestException(parameter, "a polygon ring must end where it starts");
            }

            result.Add(positions);
        }

        return result;
    }

    private static bool TryNumber(JsonNode? node, out double value)
    {
        value = 0;
        return node is JsonValue v && v.TryGetValue(out value) && double.IsFinite(value);
    }

    private static bool PathIntersects((double Lon, double Lat)[] path, GeoRect box)
    {
        for (var i = 0; i + 1 < path.Length; i++)
        {
            if (SegmentIntersects(path[i], path[i + 1], box))
            {
                return true;
            }
        }

        return path.Length == 1 && box.Contains(path[0].Lon, path[0].Lat);
    }

    // Liang–Barsky: clip the segment to the box; it meets the box when some part survives.
    private static bool SegmentIntersects((double Lon, double Lat) a, (double Lon, double Lat) b, GeoRect box)
    {
        double t0 = 0, t1 = 1;
        var dx = b.Lon - a.Lon;
        var dy = b.Lat - a.Lat;
        return Clip(-dx, a.Lon - box.West, ref t0, ref t1) && Clip(dx, box.East - a.Lon, ref t0, ref t1)
            && Clip(-dy, a.Lat - box.South, ref t0, ref t1) && Clip(dy, box.North - a.Lat, ref t0, ref t1);
    }

    private static bool Clip(double p, double q, ref double t0, ref double t1)
    {
        if (p == 0)
        {
            return q >= 0;
        }

        var r = q / p;
        if (p < 0)
        {
            if (r > t1)
            {
                return false;
            }

            t0 = Math.Max(t0, r);
        }
        else
        {
            if (r < t0)
            {
                return false;
            }

            t1 = Math.Min(t1, r);
        }

        return true;
    }

    // Even-odd rule over all rings, so a point in a hole is outside.
    private static bool Inside(List<(double Lon, double Lat)[]> rings, double lon, double lat)
    {
        var inside = false;
        foreach (var ring in rings)
        {
            for (int i = 0, j = ring.Length - 1; i < ring.Length; j = i++)
            {
                var (xi, yi) = ring[i];
                var (xj, yj) = ring[j];
                if ((yi > lat) != (yj > lat) && lon < (xj - xi) * (lat - yi) / (yj - yi) + xi)
                {
                    inside = !inside;
                }
            }
        }

        return inside;
    }
}

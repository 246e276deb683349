using System.Globalization;
using System.Text.Json.Nodes;

namespace Floe.Stac;

/// <summary>STAC constants and small document helpers (docs/stac.md).</summary>
public static class StacJson
{
    public const string Version = "1.0.0";
    public const string DatacubeExtension = "https://stac-extensions.github.io/datacube/v2.3.0/schema.json";
    public const string TableExtension = "https://stac-extensions.github.io/table/v1.2.0/schema.json";
    public const string ParquetMediaType = "application/vnd.apache.parquet";
    public const string ZarrMediaType = "application/vnd+zarr";
    public const string GrpcMediaType = "application/grpc";
    public const string GeoJsonMediaType = "application/geo+json";
    public const string JsonMediaType = "application/json";

    /// <summary>RFC 3339 in UTC, with fractional seconds only when the time has them.</summary>
    public static string Time(DateTimeOffset time)
    {
        var utc = time.UtcDateTime;
        var format = utc.Ticks % TimeSpan.TicksPerSecond == 0 ? "yyyy-MM-dd'T'HH:mm:ss'Z'" : "yyyy-MM-dd'T'HH:mm:ss.FFFFFFF'Z'";
        return utc.ToString(format, CultureInfo.InvariantCulture);
    }

    public static JsonObject Link(string rel, string href, string? type = null, string? title = null)
    {
        var link = new JsonObject { ["rel"] = rel, ["href"] = href };
        if (type is not null)
        {
            link["type"] = type;
        }

        if (title is not null)
        {
            link["title"] = title;
        }

        return link;
    }

    public static JsonArray Numbers(IEnumerable<double> values) => new(values.Select(v => (JsonNode)JsonValue.Create(v)).ToArray());

    public static JsonArray Strings(IEnumerable<string> values) => new(values.Select(v => (JsonNode)JsonValue.Create(v)).ToArray());

    /// <summary>A GeoJSON Polygon for a bbox, or a MultiPolygon of two boxes when it crosses the antimeridian (west &gt; east).</summary>
    public static JsonObject BboxGeometry(double west, double south, double east, double north)
    {
        static JsonArray Ring(double w, double s, double e, double n) => new(
            new JsonArray(new JsonArray(w, s), new JsonArray(e, s), new JsonArray(e, n), new JsonArray(w, n), new JsonArray(w, s)));

        if (west <= east)
        {
            return new JsonObject { ["type"] = "Polygon", ["coordinates"] = Ring(west, south, east, north) };
        }

        return new JsonObject { ["type"] = "MultiPolygon", ["coordinates"] = new JsonArray(Ring(west, south, 180, north), Ring(-180, south, east, north)) };
    }
}

/// <summary>A request the STAC API or search cannot answer as asked; <see cref="Parameter"/> names what was wrong.</summary>
public sealed class StacRequestException(string parameter, string message, int status = 400)
    : Exception(parameter.Length > 0 ? $"{parameter}: {message}" : message)
{
    public string Parameter { get; } = parameter;

    public int Status { get; } = status;
}

/// <summary>A catalog that cannot be written or read (a missing manifest, an unreadable document); the message names the file.</summary>
public sealed class StacCatalogException(string message, Exception? inner = null) : Exception(message, inner);

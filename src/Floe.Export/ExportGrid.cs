using System.Globalization;
using System.Text.Json.Nodes;
using Floe.Core;
using Floe.Store;

namespace Floe.Export;

/// <summary>
/// The arrays an export reads and their grid: which dimension is time, latitude and longitude, and the coordinate
/// values along each (times decoded from CF units, longitudes moved to [-180, 180)).
/// </summary>
internal sealed class ExportGrid
{
    private static readonly string[] TimeNames = ["time", "valid_time", "t"];
    private static readonly string[] LatitudeNames = ["lat", "latitude", "nav_lat"];
    private static readonly string[] LongitudeNames = ["lon", "longitude", "nav_lon"];

    // Average H3 cell area per resolution in km² (H3's published table), to pick a default resolution.
    private static readonly double[] AverageCellAreaKm2 =
    [
        4357449.416078381, 609788.441794133, 86801.780398997, 12393.434655088, 1770.347654491, 252.903858182,
        36.129062164, 5.161293360, 0.737327598, 0.105332513, 0.015047502, 0.002149643, 0.000307092, 0.000043870,
        0.000006267, 0.000000895,
    ];

    private ExportGrid(IReadOnlyList<string> arrays, IReadOnlyList<ArrayMetadata> metadata, int timeAxis, int latAxis, int lonAxis,
        long[] timeMicros, bool[] timeKnown, double[] lat, double[] lon)
    {
        Arrays = arrays;
        Metadata = metadata;
        TimeAxis = timeAxis;
        LatAxis = latAxis;
        LonAxis = lonAxis;
        TimeMicros = timeMicros;
        TimeKnown = timeKnown;
        Lat = lat;
        Lon = lon;
    }

    public IReadOnlyList<string> Arrays { get; }

    public IReadOnlyList<ArrayMetadata> Metadata { get; }

    public int TimeAxis { get; }

    public int LatAxis { get; }

    public int LonAxis { get; }

    /// <summary>Microseconds since 1970-01-01 UTC of every position along the time dimension.</summary>
    public long[] TimeMicros { get; }

    /// <summary>False where the time coordinate holds no time (a gap with no ingest axis to place it).</summary>
    public bool[] TimeKnown { get; }

    public double[] Lat { get; }

    public double[] Lon { get; }

    public long[] Shape => Metadata[0].Shape;

    /// <summary>The coarsest H3 resolution whose average cell is smaller than a grid cell at the equator.</summary>
    public int DefaultResolution()
    {
        var latStep = Lat.Length > 1 ? Math.Abs(Lat[1] - Lat[0]) : 1;
        var lonStep = Lon.Length > 1 ? Math.Abs(GeoBox.NormalizeLongitude(Lon[1] - Lon[0])) : 1;
        var area = latStep * 111.195 * lonStep * 111.195;
        for (var r = 0; r < AverageCellAreaKm2.Length; r++)
        {
            if (AverageCellAreaKm2[r] < area)
            {
                return r;
            }
        }

        return AverageCellAreaKm2.Length - 1;
    }

    public static async Task<ExportGrid> LoadAsync(NodeReader reader, IReadOnlyList<string> arrays, CancellationToken cancellationToken)
    {
        if (arrays.Count == 0)
        {
            throw new ExportException("--array: give at least one array to export");
        }

        var paths = arrays.Select(NodePath.Normalize).ToArray();
        var metadata = new List<ArrayMetadata>();
        foreach (var path in paths)
        {
            var node = reader.FindNode(path) ?? throw new ExportException($"--array {path}: no such array in the snapshot");
            if (node.Kind != NodeKind.Array)
            {
                throw new ExportException($"--array {path} is a group, not an array");
            }

            metadata.Add(node.ArrayMetadata);
        }

        var first = metadata[0];
        for (var i = 1; i < paths.Length; i++)
        {
            if (!metadata[i].Shape.SequenceEqual(first.Shape) || !(metadata[i].DimensionNames ?? []).SequenceEqual(first.DimensionNames ?? []))
            {
                throw new ExportException($"--array {paths[i]} has shape [{string.Join(", ", metadata[i].Shape)}] and dimensions ({Dims(metadata[i])}), "
                    + $"but {paths[0]} has [{string.Join(", ", first.Shape)}] ({Dims(first)}): exported arrays must share their grid");
            }
        }

        foreach (var (path, array) in paths.Zip(metadata))
        {
            if (array.DataType.IsComplex || array.DataType.IsBool)
            {
                throw new ExportException($"--array {path} holds {array.DataType} values; only numbers can be exported");
            }
        }

        if (first.Rank != 3 || first.DimensionNames is not { } names || names.Any(n => n is null))
        {
            throw new ExportException($"--array {paths[0]} has dimensions ({Dims(first)}); an export needs three named dimensions: time, latitude and longitude");
        }

        var coordinates = new ArrayMetadata?[3];
        var coordinatePaths = new string?[3];
        for (var d = 0; d < 3; d++)
        {
            coordinatePaths[d] = FindCoordinate(reader, paths[0], names[d]!);
            coordinates[d] = coordinatePaths[d] is { } c ? reader.GetArrayMetadata(c) : null;
        }

        var timeAxis = FindAxis(names!, coordinates, TimeNames, "T", "time", null);
        var latAxis = FindAxis(names!, coordinates, LatitudeNames, "Y", "latitude", "degrees_north");
        var lonAxis = FindAxis(names!, coordinates, LongitudeNames, "X", "longitude", "degrees_east");
        if (timeAxis < 0 || latAxis < 0 || lonAxis < 0 || timeAxis == latAxis || latAxis == lonAxis || timeAxis == lonAxis)
        {
            throw new ExportException($"--array {paths[0]} has dimensions ({Dims(first)}); cannot tell which is time, latitude and longitude "
                + "(by name: time, lat/latitude, lon/longitude; or by the coordinates' axis or standard_name attributes)");
        }

        foreach (var (axis, what) in new[] { (timeAxis, "time"), (latAxis, "latitude"), (lonAxis, "longitude") })
        {
            if (coordinatePaths[axis] is null)
            {
                throw new ExportException($"--array {paths[0]}: no coordinate array '{names[axis]}' for its {what} dimension beside it or at the root");
            }

            if (coordinates[axis]!.Rank != 1 || coordinates[axis]!.Shape[0] < first.Shape[axis])
            {
                throw new ExportException($"coordinate array {coordinatePaths[axis]} has shape [{string.Join(", ", coordinates[axis]!.Shape)}]; "
                    + $"it must be one-dimensional with at least {first.Shape[axis]} values");
            }
        }

        var lat = Readable(await ReadDoublesAsync(reader, coordinatePaths[latAxis]!, first.Shape[latAxis], cancellationToken), coordinates[latAxis]!.DataType, normalize: false);
        var lon = Readable(await ReadDoublesAsync(reader, coordinatePaths[lonAxis]!, first.Shape[lonAxis], cancellationToken), coordinates[lonAxis]!.DataType, normalize: true);
        foreach (var value in lat)
        {
            if (!(value >= -90 && value <= 90))
            {
                throw new ExportException($"coordinate array {coordinatePaths[latAxis]} holds the latitude {value}, outside [-90, 90]");
            }
        }

        if (lon.Any(v => !double.IsFinite(v)))
        {
            throw new ExportException($"coordinate array {coordinatePaths[lonAxis]} holds a longitude that is not a finite number");
        }

        var (micros, known) = await ReadTimesAsync(reader, coordinatePaths[timeAxis]!, coordinates[timeAxis]!, first.Shape[timeAxis], cancellationToken);
        return new ExportGrid(paths, metadata, timeAxis, latAxis, lonAxis, micros, known, lat, lon);
    }

    private static async Task<double[]> ReadDoublesAsync(NodeReader reader, string path, long count, CancellationToken cancellationToken)
    {
        var raw = await reader.ReadRegionAsync(path, [0], [count], cancellationToken);
        try
        {
            return NumericValues.ToDoubles(raw, reader.GetArrayMetadata(path).DataType);
        }
        catch (NotSupportedException ex)
        {
            throw new ExportException($"coordinate array {path}: {ex.Message}", ex);
        }
    }

    // float32 coordinates as their shortest decimal (-89.95, not -89.94999694824219), longitudes in [-180, 180).
    private static double[] Readable(double[] values, DataType type, bool normalize)
    {
        for (var i = 0; i < values.Length; i++)
        {
            var v = values[i];
            if (type == DataType.Float32 && double.IsFinite(v))
            {
                v = double.Parse(((float)v).ToString("R", CultureInfo.InvariantCulture), CultureInfo.InvariantCulture);
            }

            values[i] = normalize && double.IsFinite(v) ? GeoBox.NormalizeLongitude(v) : v;
        }

        return values;
    }

    private static async Task<(long[] Micros, bool[] Known)> ReadTimesAsync(NodeReader reader, string path, ArrayMetadata metadata, long count,
        CancellationToken cancellationToken)
    {
        var unitsText = metadata.Attributes["units"] is JsonValue u && u.TryGetValue<string>(out var s) ? s : null;
        if (unitsText is null)
        {
            throw new ExportException($"time coordinate {path} has no units attribute (CF \"<unit> since <date>\")");
        }

        TimeUnits units;
        try
        {
            units = TimeUnits.Parse(unitsText);
        }
        catch (FormatException ex)
        {
            throw new ExportException($"time coordinate {path}: {ex.Message}");
        }

        var micros = new long[count];
        var known = new bool[count];
        // An ingest axis places every position, including gaps where no file has arrived yet.
        if (metadata.Attributes["_floe_append_axis"] is JsonObject axis && axis["origin"] is JsonValue o && axis["step"] is JsonValue st)
        {
            var origin = o.GetValue<double>();
            var step = st.GetValue<double>();
            for (var i = 0; i < count; i++)
            {
                micros[i] = ToMicros(units.ToTime(origin + i * step));
                known[i] = true;
            }

            return (micros, known);
        }

        var values = await ReadDoublesAsync(reader, path, count, cancellationToken);
        var fill = metadata.FillValue.ToDouble();
        for (var i = 0; i < count; i++)
        {
            var v = values[i];
            if (double.IsFinite(v) && v != fill)
            {
                micros[i] = ToMicros(units.ToTime(v));
                known[i] = true;
            }
        }

        return (micros, known);
    }

    public static long ToMicros(DateTimeOffset time) => (time.UtcTicks - DateTimeOffset.UnixEpoch.UtcTicks) / 10;

    public static DateTimeOffset FromMicros(long micros) => new(DateTimeOffset.UnixEpoch.UtcTicks + micros * 10, TimeSpan.Zero);

    private static string? FindCoordinate(NodeReader reader, string arrayPath, string dimension)
    {
        var parent = NodePath.Parent(arrayPath);
        foreach (var candidate in new[] { NodePath.Combine(parent, dimension), NodePath.Combine(NodePath.Root, dimension) })
        {
            if (reader.FindNode(candidate) is { Kind: NodeKind.Array } && candidate != arrayPath)
            {
                return candidate;
            }
        }

        return null;
    }

    private static int FindAxis(string[] names, ArrayMetadata?[] coordinates, string[] knownNames, string axisLetter, string standardName, string? units)
    {
        for (var d = 0; d < names.Length; d++)
        {
            if (knownNames.Contains(names[d].ToLowerInvariant()))
            {
                return d;
            }
        }

        for (var d = 0; d < names.Length; d++)
        {
            var attributes = coordinates[d]?.Attributes;
            if (attributes is null)
            {
                continue;
            }

            if (Text(attributes, "axis") == axisLetter || Text(attributes, "standard_name") == standardName || (units is not null && Text(attributes, "units") == units))
            {
                return d;
            }
        }

        return -1;
    }

    private static string? Text(JsonObject attributes, string name) =>
        attributes[name] is JsonValue value && value.TryGetValue<string>(out var text) ? text : null;

    private static string Dims(ArrayMetadata metadata) => metadata.DimensionNames is { } n ? string.Join(", ", n.Select(x => x ?? "?")) : "unnamed";
}

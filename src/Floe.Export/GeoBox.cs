using System.Globalization;

namespace Floe.Export;

/// <summary>
/// A latitude/longitude box in degrees, edges included. West greater than east means the box crosses the
/// antimeridian (170,-10,-170,10 spans 20° of longitude).
/// </summary>
public sealed record GeoBox
{
    public GeoBox(double west, double south, double east, double north)
    {
        Check(west, "west", -180, 180);
        Check(east, "east", -180, 180);
        Check(south, "south", -90, 90);
        Check(north, "north", -90, 90);
        if (south > north)
        {
            throw new ArgumentException($"bbox south {Format(south)} is north of north {Format(north)}");
        }

        West = west;
        South = south;
        East = east;
        North = north;
    }

    public double West { get; }

    public double South { get; }

    public double East { get; }

    public double North { get; }

    public bool CrossesAntimeridian => West > East;

    /// <summary>Parses "WEST,SOUTH,EAST,NORTH"; the message names <paramref name="parameter"/> and says what is wrong.</summary>
    public static GeoBox Parse(string text, string parameter = "--bbox")
    {
        ArgumentNullException.ThrowIfNull(text);
        var parts = text.Split(',', StringSplitOptions.TrimEntries);
        if (parts.Length != 4)
        {
            throw new ArgumentException($"{parameter} \"{text}\" must be WEST,SOUTH,EAST,NORTH in degrees (4 numbers, got {parts.Length})");
        }

        var numbers = new double[4];
        for (var i = 0; i < 4; i++)
        {
            if (!double.TryParse(parts[i], NumberStyles.Float, CultureInfo.InvariantCulture, out numbers[i]))
            {
                throw new ArgumentException($"{parameter} \"{text}\": \"{parts[i]}\" is not a number");
            }
        }

        try
        {
            return new GeoBox(numbers[0], numbers[1], numbers[2], numbers[3]);
        }
        catch (ArgumentException ex)
        {
            throw new ArgumentException($"{parameter} \"{text}\": {ex.Message}");
        }
    }

    /// <summary>Whether a point is in the box; <paramref name="lon"/> in [-180, 180).</summary>
    public bool Contains(double lat, double lon)
    {
        return lat >= South && lat <= North && ContainsLongitude(lon);
    }

    /// <summary>Whether a longitude in [-180, 180) is within the box's west and east edges.</summary>
    public bool ContainsLongitude(double lon)
    {
        if (lon == -180 && East == 180)
        {
            return true;
        }

        return CrossesAntimeridian ? lon >= West || lon <= East : lon >= West && lon <= East;
    }

    /// <summary>Longitude moved to [-180, 180).</summary>
    public static double NormalizeLongitude(double lon)
    {
        if (lon >= -180 && lon < 180)
        {
            return lon;
        }

        var wrapped = ((lon + 180) % 360 + 360) % 360 - 180;
        return wrapped >= 180 ? wrapped - 360 : wrapped;
    }

    /// <summary>
    /// The west and east edge of longitudes (sorted ascending, in [-180, 180)): the widest gap between neighbours is
    /// outside; when that gap is not the one across ±180 the points straddle the antimeridian and west &gt; east.
    /// </summary>
    public static (double West, double East) PointsExtent(IReadOnlyList<double> sorted)
    {
        ArgumentNullException.ThrowIfNull(sorted);
        if (sorted.Count == 0)
        {
            throw new ArgumentException("no longitudes", nameof(sorted));
        }

        var west = sorted[0];
        var east = sorted[^1];
        var gap = sorted[0] + 360 - sorted[^1];
        for (var k = 1; k < sorted.Count; k++)
        {
            if (sorted[k] - sorted[k - 1] > gap)
            {
                gap = sorted[k] - sorted[k - 1];
                west = sorted[k];
                east = sorted[k - 1];
            }
        }

        return (west, east);
    }

    public double[] ToArray() => [West, South, East, North];

    public override string ToString() => string.Join(',', ToArray().Select(Format));

    private static string Format(double value) => value.ToString("R", CultureInfo.InvariantCulture);

    private static void Check(double value, string name, double min, double max)
    {
        if (double.IsNaN(value) || value < min || value > max)
        {
            throw new ArgumentException($"bbox {name} {Format(value)} is outside [{min}, {max}]");
        }
    }
}

using Floe.Core;
using Floe.Store;

namespace Floe.Export;

/// <summary>One dimension of a grid: its name, how many positions, the first and last coordinate and the step when regular.</summary>
public sealed record GridDimension(string Name, long Count, double First, double Last, double? Step);

/// <summary>
/// What a catalog needs to know of arrays with time, latitude and longitude dimensions, recognised as an export
/// recognises them (docs/export.md): dimension names, coordinate extents and steps, the time range and the extent.
/// </summary>
public sealed class GridDescription
{
    private GridDescription(IReadOnlyList<string> arrays, IReadOnlyList<ArrayMetadata> metadata, string[] dimensions, int timeAxis, int latAxis, int lonAxis,
        GridDimension latitude, GridDimension longitude, DateTimeOffset? firstTime, DateTimeOffset? lastTime, TimeSpan? timeStep, long timeCount, double[] bbox)
    {
        Arrays = arrays;
        Metadata = metadata;
        Dimensions = dimensions;
        TimeAxis = timeAxis;
        LatitudeAxis = latAxis;
        LongitudeAxis = lonAxis;
        Latitude = latitude;
        Longitude = longitude;
        FirstTime = firstTime;
        LastTime = lastTime;
        TimeStep = timeStep;
        TimeCount = timeCount;
        Bbox = bbox;
    }

    public IReadOnlyList<string> Arrays { get; }

    public IReadOnlyList<ArrayMetadata> Metadata { get; }

    /// <summary>The arrays' dimension names, in their order.</summary>
    public IReadOnlyList<string> Dimensions { get; }

    public int TimeAxis { get; }

    public int LatitudeAxis { get; }

    public int LongitudeAxis { get; }

    public GridDimension Latitude { get; }

    /// <summary>Longitudes in [-180, 180); <see cref="GridDimension.First"/> and <see cref="GridDimension.Last"/> are the grid's west and east edges' points.</summary>
    public GridDimension Longitude { get; }

    /// <summary>The first and last time step with a known time (null when no step has one).</summary>
    public DateTimeOffset? FirstTime { get; }

    public DateTimeOffset? LastTime { get; }

    /// <summary>The step between times when every step is the same.</summary>
    public TimeSpan? TimeStep { get; }

    public long TimeCount { get; }

    /// <summary>West, south, east, north of the grid points; west &gt; east when they straddle the antimeridian.</summary>
    public double[] Bbox { get; }

    /// <summary>Describes <paramref name="arrays"/> (sharing one grid) in the snapshot <paramref name="reader"/> reads; <see cref="ExportException"/> when they have no time, latitude and longitude.</summary>
    public static async Task<GridDescription> LoadAsync(NodeReader reader, IReadOnlyList<string> arrays, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(reader);
        var grid = await ExportGrid.LoadAsync(reader, arrays, cancellationToken);
        DateTimeOffset? first = null, last = null;
        long previous = 0;
        long? step = null;
        var regular = true;
        var seen = 0;
        for (var i = 0; i < grid.TimeMicros.Length; i++)
        {
            if (!grid.TimeKnown[i])
            {
                continue;
            }

            var micros = grid.TimeMicros[i];
            if (seen > 0)
            {
                var delta = micros - previous;
                step ??= delta;
                regular &= delta == step;
            }

            first ??= ExportGrid.FromMicros(micros);
            last = ExportGrid.FromMicros(micros);
            previous = micros;
            seen++;
        }

        var names = grid.Metadata[0].DimensionNames!.Select(n => n!).ToArray();
        var latitude = Dimension(names[grid.LatAxis], grid.Lat);
        var lons = grid.Lon.Distinct().Order().ToArray();
        var (west, east) = GeoBox.PointsExtent(lons);
        var longitude = Dimension(names[grid.LonAxis], lons) with { Count = grid.Lon.Length, First = west, Last = east };
        double[] bbox = [west, Math.Min(latitude.First, latitude.Last), east, Math.Max(latitude.First, latitude.Last)];
        return new GridDescription(grid.Arrays, grid.Metadata, names, grid.TimeAxis, grid.LatAxis, grid.LonAxis, latitude, longitude, first, last,
            regular && step is > 0 ? TimeSpan.FromTicks(step.Value * 10) : null, grid.TimeMicros.Length, bbox);
    }

    private static GridDimension Dimension(string name, double[] values)
    {
        double? step = values.Length > 1 ? values[1] - values[0] : null;
        for (var i = 2; i < values.Length && step is not null; i++)
        {
            // Coordinates stored as float32 drift in the last digits; a step within a millionth is the same step.
            if (Math.Abs(values[i] - values[i - 1] - step.Value) > 1e-6 * Math.Max(1, Math.Abs(step.Value)))
            {
                step = null;
            }
        }

        return new GridDimension(name, values.Length, values[0], values[^1], step is { } s ? Math.Round(s, 9) : null);
    }
}

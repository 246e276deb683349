using System.Globalization;
using System.Runtime.CompilerServices;

namespace Floe.H3;

/// <summary>
/// The H3 v4 hexagonal grid: cells as 64-bit indexes, coordinates in degrees. Results match the
/// reference library (h3-js 4.5.0 / H3 4.5.0), which the tests check against.
/// </summary>
public static class H3
{
    public const int MaxResolution = CellIndex.MaxResolution;

    /// <summary>Average hexagon edge length in km per resolution (published H3 table).</summary>
    private static readonly double[] EdgeLengthsKm =
    [
        1281.256011, 483.0568391, 182.5129565, 68.97922179, 26.07175968, 9.854090990, 3.724532667, 1.406475763,
        0.531414010, 0.200786148, 0.075863783, 0.028663897, 0.010830188, 0.004092010, 0.001546100, 0.000584169,
    ];

    /// <summary>The cell containing a point. Longitude may be any finite value; it wraps.</summary>
    public static ulong LatLngToCell(double latDegrees, double lngDegrees, int resolution)
    {
        if (!(latDegrees >= -90 && latDegrees <= 90))
        {
            ThrowLatitude(latDegrees, nameof(latDegrees));
        }

        if (!double.IsFinite(lngDegrees))
        {
            ThrowLongitude(lngDegrees, nameof(lngDegrees));
        }

        CheckResolution(resolution, nameof(resolution));

        // Same degree-to-radian arithmetic as h3-js, so boundary points land in the same cell.
        var p = Vec3.FromLatLng(latDegrees * Math.PI / 180, lngDegrees * Math.PI / 180);
        return CellIndex.FromVec3(p, resolution);
    }

    /// <summary>The centre of a cell.</summary>
    public static LatLng CellToLatLng(ulong cell)
    {
        CheckCell(cell, nameof(cell));
        var (lat, lng) = CellIndex.ToVec3(cell).ToLatLng();
        return ToDegrees(lat, lng);
    }

    /// <summary>
    /// The boundary of a cell, counter-clockwise, in the same order as h3-js: 6 vertices for a hexagon,
    /// 5 for a pentagon, plus one for every edge crossing an icosahedron edge at Class III resolutions.
    /// </summary>
    public static LatLng[] CellToBoundary(ulong cell)
    {
        CheckCell(cell, nameof(cell));
        Span<(double Lat, double Lng)> vertices = stackalloc (double, double)[10];
        var count = CellIndex.Boundary(cell, vertices);
        var result = new LatLng[count];
        for (var i = 0; i < count; i++)
        {
            result[i] = ToDegrees(vertices[i].Lat, vertices[i].Lng);
        }

        return result;
    }

    /// <summary>The resolution of a valid cell, or -1 for anything else (as h3-js).</summary>
    public static int GetResolution(ulong cell) => CellIndex.IsValid(cell) ? CellIndex.Resolution(cell) : -1;

    /// <summary>The base cell (0-121) bits of an index; not validated (as h3-js).</summary>
    public static int GetBaseCellNumber(ulong cell) => CellIndex.BaseCell(cell);

    public static bool IsValidCell(ulong cell) => CellIndex.IsValid(cell);

    /// <summary>Whether a valid cell is one of the 12 pentagons of its resolution; false for invalid indexes.</summary>
    public static bool IsPentagon(ulong cell) => CellIndex.IsValid(cell) && CellIndex.IsPentagon(cell);

    /// <summary>The ancestor at a coarser (or the same) resolution.</summary>
    public static ulong CellToParent(ulong cell, int parentResolution)
    {
        CheckCell(cell, nameof(cell));
        CheckResolution(parentResolution, nameof(parentResolution));
        var resolution = CellIndex.Resolution(cell);
        if (parentResolution > resolution)
        {
            throw new ArgumentOutOfRangeException(
                nameof(parentResolution),
                parentResolution,
                $"parentResolution {parentResolution} is finer than the cell's resolution {resolution}");
        }

        return Hierarchy.Parent(cell, parentResolution);
    }

    /// <summary>The descendant at a finer (or the same) resolution that shares the cell's centre.</summary>
    public static ulong CellToCenterChild(ulong cell, int childResolution)
    {
        CheckChildResolution(cell, childResolution);
        return Hierarchy.CenterChild(cell, childResolution);
    }

    /// <summary>
    /// The smallest and largest index among the descendants at <paramref name="childResolution"/>.
    /// Both are descendants themselves (the centre child, and the child with every added digit 6),
    /// so the bounds are tight. Every valid cell of <paramref name="childResolution"/> inside the
    /// range is a descendant; the range's invalid indexes include a pentagon's deleted branch.
    /// </summary>
    public static (ulong First, ulong Last) ChildRange(ulong cell, int childResolution)
    {
        CheckChildResolution(cell, childResolution);
        return (Hierarchy.CenterChild(cell, childResolution), Hierarchy.LastChild(cell, childResolution));
    }

    /// <summary>The valid descendants at <paramref name="childResolution"/> in ascending order.</summary>
    public static IEnumerable<ulong> CellToChildren(ulong cell, int childResolution)
    {
        CheckChildResolution(cell, childResolution);
        return Hierarchy.Children(cell, childResolution);
    }

    public static long CellToChildrenSize(ulong cell, int childResolution)
    {
        CheckChildResolution(cell, childResolution);
        return Hierarchy.ChildrenSize(cell, childResolution);
    }

    /// <summary>All cells within grid distance <paramref name="k"/> of the origin, in no particular order.</summary>
    public static ulong[] GridDisk(ulong origin, int k)
    {
        CheckCell(origin, nameof(origin));
        if (k < 0)
        {
            throw new ArgumentOutOfRangeException(nameof(k), k, $"k {k} is negative");
        }

        return Grid.Disk(origin, k);
    }

    /// <summary>
    /// The cells whose centres are inside the polygon (and outside its holes), ascending: h3-js
    /// polygonToCells semantics, where edges are straight lines in latitude/longitude and a ring
    /// with an edge spanning more than 180° of longitude crosses the antimeridian. Returns an empty
    /// array for empty or degenerate rings (where h3-js would throw). Works top-down from the base
    /// cells, so the cost follows the polygon's outline, not its area or the globe (see Polyfill).
    /// </summary>
    public static ulong[] PolygonToCells(IReadOnlyList<LatLng> outer, IReadOnlyList<IReadOnlyList<LatLng>>? holes, int resolution)
    {
        ArgumentNullException.ThrowIfNull(outer);
        CheckResolution(resolution, nameof(resolution));
        var outerLoop = ToLoop(outer, nameof(outer));
        var holeLoops = new GeoLoop[holes?.Count ?? 0];
        for (var i = 0; i < holeLoops.Length; i++)
        {
            holeLoops[i] = ToLoop(holes![i], nameof(holes));
        }

        return outer.Count == 0 ? [] : Polyfill.Cells([new GeoPolygon(outerLoop, holeLoops)], resolution);
    }

    /// <summary>
    /// The cells whose centres are in a latitude/longitude box; <paramref name="west"/> &gt;
    /// <paramref name="east"/> means the box crosses the antimeridian. Equal to h3-js
    /// polygonToCells over the box cut at the antimeridian and into pieces at most 90° wide
    /// (a centre exactly on a cut belongs to the western piece). A box with no width or height is empty.
    /// </summary>
    public static ulong[] BoxToCells(double south, double west, double north, double east, int resolution)
    {
        CheckLatitude(south, nameof(south));
        CheckLatitude(north, nameof(north));
        CheckLongitude(west, nameof(west));
        CheckLongitude(east, nameof(east));
        CheckResolution(resolution, nameof(resolution));
        if (south > north)
        {
            throw new ArgumentException($"south {Format(south)} is north of north {Format(north)}", nameof(south));
        }

        west = WrapLongitude(west);
        east = WrapLongitude(east);
        var width = west <= east ? east - west : east + 360 - west;
        if (width == 0 || south == north)
        {
            return [];
        }

        var pieces = new List<GeoPolygon>();
        if (west <= east)
        {
            AddBoxPieces(pieces, south, west, north, east);
        }
        else
        {
            AddBoxPieces(pieces, south, west, north, 180);
            AddBoxPieces(pieces, south, -180, north, east);
        }

        var cells = Polyfill.Cells([.. pieces], resolution);
        if (pieces.Count > 1)
        {
            // Each piece yields ascending cells; several pieces need one merge.
            Array.Sort(cells);
        }

        return cells;
    }

    /// <summary>Lowercase hexadecimal without leading zeros, as h3-js.</summary>
    public static string ToHex(ulong cell) => cell.ToString("x", CultureInfo.InvariantCulture);

    /// <summary>Parses 1 to 16 hexadecimal digits (either case) into an index; does not check it is a valid cell.</summary>
    public static ulong ParseHex(string text)
    {
        if (!TryParseHex(text, out var cell))
        {
            throw new FormatException($"'{text}' is not an H3 index: expected 1 to 16 hexadecimal digits");
        }

        return cell;
    }

    public static bool TryParseHex(string text, out ulong cell)
    {
        cell = 0;
        return text is { Length: > 0 and <= 16 }
            && ulong.TryParse(text, NumberStyles.AllowHexSpecifier, CultureInfo.InvariantCulture, out cell);
    }

    /// <summary>Average hexagon edge length in km at a resolution (published H3 table).</summary>
    public static double AverageHexagonEdgeLengthKm(int resolution)
    {
        CheckResolution(resolution, nameof(resolution));
        return EdgeLengthsKm[resolution];
    }

    private static void AddBoxPieces(List<GeoPolygon> pieces, double south, double west, double north, double east)
    {
        // Pieces at most 90° wide keep every edge well under the 180° that H3 reads as an antimeridian crossing.
        var count = Math.Max(1, (int)Math.Ceiling((east - west) / 90));
        for (var i = 0; i < count; i++)
        {
            var w = i == 0 ? west : west + ((east - west) * i / count);
            var e = i == count - 1 ? east : west + ((east - west) * (i + 1) / count);
            var lats = new[] { south, north, north, south };
            var lngs = new[] { w, w, e, e };
            for (var v = 0; v < 4; v++)
            {
                lats[v] = lats[v] * Math.PI / 180;
                lngs[v] = lngs[v] * Math.PI / 180;
            }

            pieces.Add(new GeoPolygon(new GeoLoop(lats, lngs), []));
        }
    }

    private static double WrapLongitude(double lng)
    {
        if (lng is >= -180 and <= 180)
        {
            return lng;
        }

        var wrapped = Math.IEEERemainder(lng, 360);
        return wrapped == -180 && lng > 0 ? 180 : wrapped;
    }

    private static GeoLoop ToLoop(IReadOnlyList<LatLng> ring, string name)
    {
        ArgumentNullException.ThrowIfNull(ring, name);
        var lats = new double[ring.Count];
        var lngs = new double[ring.Count];
        for (var i = 0; i < ring.Count; i++)
        {
            var (lat, lng) = ring[i];
            if (!double.IsFinite(lat) || !double.IsFinite(lng))
            {
                throw new ArgumentException($"{name} vertex {i} ({Format(lat)}, {Format(lng)}) is not finite", name);
            }

            lats[i] = lat * Math.PI / 180;
            lngs[i] = lng * Math.PI / 180;
        }

        return new GeoLoop(lats, lngs);
    }

    private static LatLng ToDegrees(double lat, double lng) => new(lat * 180 / Math.PI, lng * 180 / Math.PI);

    private static void CheckCell(ulong cell, string name)
    {
        if (!CellIndex.IsValid(cell))
        {
            throw new ArgumentException($"{name} {ToHex(cell)} is not a valid H3 cell", name);
        }
    }

    private static void CheckChildResolution(ulong cell, int childResolution)
    {
        CheckCell(cell, nameof(cell));
        CheckResolution(childResolution, nameof(childResolution));
        var resolution = CellIndex.Resolution(cell);
        if (childResolution < resolution)
        {
            throw new ArgumentOutOfRangeException(
                nameof(childResolution),
                childResolution,
                $"childResolution {childResolution} is coarser than the cell's resolution {resolution}");
        }
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static void CheckResolution(int resolution, string name)
    {
        if ((uint)resolution > MaxResolution)
        {
            ThrowResolution(resolution, name);
        }
    }

    private static void CheckLatitude(double lat, string name)
    {
        if (!(lat >= -90 && lat <= 90))
        {
            ThrowLatitude(lat, name);
        }
    }

    private static void CheckLongitude(double lng, string name)
    {
        if (!double.IsFinite(lng))
        {
            ThrowLongitude(lng, name);
        }
    }

    private static void ThrowResolution(int resolution, string name) =>
        throw new ArgumentOutOfRangeException(name, resolution, $"{name} {resolution} is outside 0..{MaxResolution}");

    private static void ThrowLatitude(double lat, string name) =>
        throw (double.IsNaN(lat)
            ? new ArgumentException($"latitude NaN is not a number ({name})", name)
            : new ArgumentOutOfRangeException(name, lat, $"latitude {Format(lat)} is outside -90..90 ({name})"));

    private static void ThrowLongitude(double lng, string name) =>
        throw new ArgumentException(
            double.IsNaN(lng) ? $"longitude NaN is not a number ({name})" : $"longitude {Format(lng)} is not finite ({name})",
            name);

    private static string Format(double value) => value.ToString("R", CultureInfo.InvariantCulture);
}

namespace Floe.H3;

/// <summary>How a region relates to every point of a lat/lng rectangle.</summary>
internal enum Coverage
{
    Outside,
    Inside,
    Mixed,
}

/// <summary>
/// One ring of a polygon in radians, with H3's point-in-ring rule: a ray cast in the lat/lng plane
/// (edges are straight in lat/lng), where a ring with an edge spanning more than 180° of longitude
/// is taken to cross the antimeridian and negative longitudes are shifted by 2π.
/// </summary>
internal sealed class GeoLoop
{
    private const double DoubleEpsilon = 2.220446049250313080847263336181640625e-16;
    private const double TwoPi = 2 * Math.PI;

    private readonly double[] _lats;
    private readonly double[] _lngs;
    private readonly double _south;
    private readonly double _north;
    private readonly double _west;
    private readonly double _east;
    private readonly bool _transmeridian;

    public GeoLoop(double[] lats, double[] lngs)
    {
        _lats = lats;
        _lngs = lngs;
        var n = lats.Length;
        if (n == 0)
        {
            return;
        }

        // Bounding box as H3 computes it (its rule for spotting antimeridian crossings included).
        _south = double.MaxValue;
        _west = double.MaxValue;
        _north = -double.MaxValue;
        _east = -double.MaxValue;
        var minPositiveLng = double.MaxValue;
        var maxNegativeLng = -double.MaxValue;
        var longEdge = false;
        for (var i = 0; i < n; i++)
        {
            var lat = lats[i];
            var lng = lngs[i];
            _south = Math.Min(_south, lat);
            _north = Math.Max(_north, lat);
            _west = Math.Min(_west, lng);
            _east = Math.Max(_east, lng);
            if (lng > 0 && lng < minPositiveLng)
            {
                minPositiveLng = lng;
            }

            if (lng < 0 && lng > maxNegativeLng)
            {
                maxNegativeLng = lng;
            }

            if (Math.Abs(lng - lngs[(i + 1) % n]) > Math.PI)
            {
                longEdge = true;
            }
        }

        if (longEdge)
        {
            _east = maxNegativeLng;
            _west = minPositiveLng;
        }

        // H3 then decides by east < west, so a ring with a long edge may still not count as crossing.
        _transmeridian = _east < _west;
    }

    /// <summary>H3's point-in-ring test, tie-breaking nudges included.</summary>
    public bool Contains(double lat, double lng)
    {
        if (_lats.Length == 0 || lat < _south || lat > _north)
        {
            return false;
        }

        if (_transmeridian ? lng < _west && lng > _east : lng < _west || lng > _east)
        {
            return false;
        }

        var contains = false;
        lng = Normalize(lng);
        var n = _lats.Length;
        for (var i = 0; i < n; i++)
        {
            var j = (i + 1) % n;
            double aLat = _lats[i], aLng0 = _lngs[i], bLat = _lats[j], bLng0 = _lngs[j];
            if (aLat > bLat)
            {
                (aLat, aLng0, bLat, bLng0) = (bLat, bLng0, aLat, aLng0);
            }

            // A ray through a vertex would count it twice; move it north (this persists for later edges, as in H3).
            if (lat == aLat || lat == bLat)
            {
                lat += DoubleEpsilon;
            }

            if (lat < aLat || lat > bLat)
            {
                continue;
            }

            var aLng = Normalize(aLng0);
            var bLng = Normalize(bLng0);
            if (aLng == lng || bLng == lng)
            {
                lng -= DoubleEpsilon;
            }

            var ratio = (lat - aLat) / (bLat - aLat);
            if (Normalize(aLng + ((bLng - aLng) * ratio)) > lng)
            {
                contains = !contains;
            }
        }

        return contains;
    }

    /// <summary>
    /// Whether every point of the rectangle is inside, outside, or either. Longitudes are within
    /// [-π, π]; the rectangle already includes any safety margin.
    /// </summary>
    public Coverage Classify(double south, double north, double west, double east)
    {
        if (_lats.Length == 0)
        {
            return Coverage.Outside;
        }

        if (!_transmeridian)
        {
            return ClassifyPlane(south, north, west, east);
        }

        // Work in the shifted frame, where the ring is an ordinary planar polygon.
        var result = (Coverage?)null;
        if (west < 0)
        {
            result = ClassifyPlane(south, north, west + TwoPi, Math.Min(east, 0) + TwoPi);
        }

        if (east >= 0)
        {
            var part = ClassifyPlane(south, north, Math.Max(west, 0), east);
            result = result is null || result == part ? part : Coverage.Mixed;
        }

        return result ?? Coverage.Outside;
    }

    private double Normalize(double lng) => _transmeridian && lng < 0 ? lng + TwoPi : lng;

    private Coverage ClassifyPlane(double south, double north, double west, double east)
    {
        var extentWest = _west;
        var extentEast = _transmeridian ? _east + TwoPi : _east;
        if (north < _south || south > _north || east < extentWest || west > extentEast)
        {
            return Coverage.Outside;
        }

        var n = _lats.Length;
        for (var i = 0; i < n; i++)
        {
            var j = (i + 1) % n;
            if (SegmentTouches(_lats[i], Normalize(_lngs[i]), _lats[j], Normalize(_lngs[j]), south, north, west, east))
            {
                return Coverage.Mixed;
            }
        }

        // No edge reaches the rectangle, so all of it is on the same side as its centre.
        if (!RayParity((south + north) * 0.5, (west + east) * 0.5))
        {
            return Coverage.Outside;
        }

        var withinExtent = south >= _south && north <= _north && west >= extentWest && east <= extentEast;
        return withinExtent ? Coverage.Inside : Coverage.Mixed;
    }

    /// <summary>Plain even-odd test in the (shifted) plane, for points well away from every edge.</summary>
    private bool RayParity(double lat, double lng)
    {
        var contains = false;
        var n = _lats.Length;
        for (var i = 0; i < n; i++)
        {
            var j = (i + 1) % n;
            double aLat = _lats[i], aLng = Normalize(_lngs[i]), bLat = _lats[j], bLng = Normalize(_lngs[j]);
            if ((aLat > lat) != (bLat > lat))
            {
                var crossing = aLng + ((bLng - aLng) * ((lat - aLat) / (bLat - aLat)));
                if (crossing > lng)
                {
                    contains = !contains;
                }
            }
        }

        return contains;
    }

    /// <summary>Whether segment a-b meets the closed rectangle (Liang-Barsky clipping).</summary>
    private static bool SegmentTouches(double aLat, double aLng, double bLat, double bLng, double south, double north, double west, double east)
    {
        double t0 = 0, t1 = 1;
        var dLng = bLng - aLng;
        var dLat = bLat - aLat;
        return Clip(-dLng, aLng - west, ref t0, ref t1)
            && Clip(dLng, east - aLng, ref t0, ref t1)
            && Clip(-dLat, aLat - south, ref t0, ref t1)
            && Clip(dLat, north - aLat, ref t0, ref t1);
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
}

/// <summary>An outer ring with holes; a point is inside when it is in the outer ring and in no hole.</summary>
internal sealed class GeoPolygon(GeoLoop outer, GeoLoop[] holes)
{
    public bool Contains(double lat, double lng)
    {
        if (!outer.Contains(lat, lng))
        {
            return false;
        }

        foreach (var hole in holes)
        {
            if (hole.Contains(lat, lng))
            {
                return false;
            }
        }

        return true;
    }

    public Coverage Classify(double south, double north, double west, double east)
    {
        var result = outer.Classify(south, north, west, east);
        if (result == Coverage.Outside)
        {
            return result;
        }

        foreach (var hole in holes)
        {
            switch (hole.Classify(south, north, west, east))
            {
                case Coverage.Inside:
                    return Coverage.Outside;
                case Coverage.Mixed:
                    result = Coverage.Mixed;
                    break;
            }
        }

        return result;
    }
}

/// <summary>
/// Cells whose centres fall in a union of polygons, found top-down: starting from the base cells,
/// a cell is dropped when a cap bounding all its descendants' centres is outside, taken whole
/// (all descendants, without testing) when the cap is inside, and otherwise split into its
/// children. Only cells at the target resolution near an edge get their centre tested, so the
/// work follows the polygon's outline rather than the globe or the area.
/// </summary>
internal sealed class Polyfill
{
    /// <summary>
    /// Descendant centres stay within this multiple of a cell's centre-to-vertex distance. On the
    /// plane the bound is 1/(√7 − 1) / (1/√3) ≈ 1.05; the rest is room for the projection's distortion.
    /// </summary>
    internal const double DescendantRadiusFactor = 1.5;

    /// <summary>Radians added around every rectangle so rounding can't put a centre just outside it.</summary>
    private const double Margin = 1e-9;

    private readonly GeoPolygon[] _polygons;
    private readonly int _resolution;
    private readonly List<ulong> _cells = [];

    private Polyfill(GeoPolygon[] polygons, int resolution)
    {
        _polygons = polygons;
        _resolution = resolution;
    }

    /// <summary>The cells at <paramref name="resolution"/> whose centres are in any of the polygons, ascending.</summary>
    public static ulong[] Cells(GeoPolygon[] polygons, int resolution)
    {
        var fill = new Polyfill(polygons, resolution);
        for (var baseCell = 0; baseCell < CellIndex.BaseCellCount; baseCell++)
        {
            fill.Visit(CellIndex.Create(0, baseCell, 0), 0);
        }

        // Depth-first in ascending digit order already yields ascending indexes.
        return [.. fill._cells];
    }

    private void Visit(ulong cell, int resolution)
    {
        if (resolution == _resolution)
        {
            var (lat, lng) = CellIndex.ToVec3(cell).ToLatLng();
            if (Contains(lat, lng))
            {
                _cells.Add(cell);
            }

            return;
        }

        switch (Classify(cell))
        {
            case Coverage.Outside:
                return;
            case Coverage.Inside:
                Hierarchy.AddChildren(cell, _resolution, _cells);
                return;
        }

        var first = Hierarchy.CenterChild(cell, resolution + 1);
        var skipK = CellIndex.IsPentagon(cell);
        for (var digit = 0; digit < 7; digit++)
        {
            if (digit == 1 && skipK)
            {
                continue;
            }

            Visit(CellIndex.SetDigit(first, resolution + 1, digit), resolution + 1);
        }
    }

    private bool Contains(double lat, double lng)
    {
        foreach (var polygon in _polygons)
        {
            if (polygon.Contains(lat, lng))
            {
                return true;
            }
        }

        return false;
    }

    private Coverage Classify(ulong cell)
    {
        var center = CellIndex.ToVec3(cell);
        Span<(double Lat, double Lng)> boundary = stackalloc (double, double)[10];
        var count = CellIndex.Boundary(cell, boundary);
        var maxChord = 0.0;
        for (var i = 0; i < count; i++)
        {
            maxChord = Math.Max(maxChord, Vec3.DistanceSquared(center, Vec3.FromLatLng(boundary[i].Lat, boundary[i].Lng)));
        }

        var radius = 2 * Math.Asin(Math.Min(1.0, Math.Sqrt(maxChord) / 2)) * DescendantRadiusFactor;
        var (lat, lng) = center.ToLatLng();

        // Lat/lng rectangle around the spherical cap, split where it wraps past ±π.
        var south = lat - radius - Margin;
        var north = lat + radius + Margin;
        Span<(double West, double East)> pieces = stackalloc (double, double)[2];
        var pieceCount = 1;
        pieces[0] = (-Math.PI - Margin, Math.PI + Margin);
        if (north < Math.PI / 2 && south > -Math.PI / 2)
        {
            var s = Math.Sin(radius) / Math.Cos(lat);
            var halfWidth = s < 1 ? Math.Asin(s) + Margin : double.PositiveInfinity;
            if (halfWidth < Math.PI)
            {
                var west = lng - halfWidth;
                var east = lng + halfWidth;
                if (west < -Math.PI)
                {
                    pieces[0] = (west + (2 * Math.PI), Math.PI + Margin);
                    pieces[1] = (-Math.PI - Margin, east);
                    pieceCount = 2;
                }
                else if (east > Math.PI)
                {
                    pieces[0] = (west, Math.PI + Margin);
                    pieces[1] = (-Math.PI - Margin, east - (2 * Math.PI));
                    pieceCount = 2;
                }
                else
                {
                    pieces[0] = (west, east);
                }
            }
        }

        var result = Coverage.Outside;
        for (var p = 0; p < pieceCount; p++)
        {
            var piece = Coverage.Outside;
            foreach (var polygon in _polygons)
            {
                var c = polygon.Classify(south, north, pieces[p].West, pieces[p].East);
                if (c == Coverage.Inside)
                {
                    piece = Coverage.Inside;
                    break;
                }

                if (c == Coverage.Mixed)
                {
                    piece = Coverage.Mixed;
                }
            }

            if (p == 0)
            {
                result = piece;
            }
            else if (piece != result)
            {
                result = Coverage.Mixed;
            }
        }

        return result;
    }
}

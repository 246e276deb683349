namespace Floe.H3;

/// <summary>A hexagon on the face-centred IJK grid of one icosahedron face.</summary>
internal readonly record struct FaceIjk(int Face, CoordIjk Coord);

/// <summary>Where a substrate or cell coordinate lands relative to its face.</summary>
internal enum Overage
{
    None,
    FaceEdge,
    NewFace,
}

/// <summary>
/// The gnomonic projection of each icosahedron face and the IJK grids on it: sphere to face
/// coordinates and back, and cell boundaries (with the extra vertices where an edge crosses
/// onto another face).
/// </summary>
internal static class Faces
{
    public const int Count = 20;

    // Quadrant directions of Tables.FaceNeighbors / AdjacentFaceDirection.
    public const int IJ = 1;
    public const int KI = 2;
    public const int JK = 3;

    private const double Epsilon = 1e-16;
    private const double TwoPi = 6.28318530717958647692528676655900576839433;
    private const double Sqrt7 = 2.6457513110645905905016157536392604257102;
    private const double InverseSqrt7 = 0.37796447300922722721451653623418006081576;
    private const double Sqrt3Over2 = 0.8660254037844386467637231707529361834714;
    private const double OneThird = 0.333333333333333333333333333333333333333;

    /// <summary>Rotation between Class II and Class III axes, asin(sqrt(3/28)).</summary>
    private const double Aperture7Rotation = 0.333473172251832115336090755351601070065900389;

    /// <summary>Res 0 distance between neighbouring centres in gnomonic units, and its inverse.</summary>
    private const double Res0UnitGnomonic = 0.38196601125010500003;
    private const double InverseRes0UnitGnomonic = 2.61803398874989588842;

    private const double FloatEpsilon = 1.1920928955078125e-07;

    private static readonly Vec3[] Centers = BuildCenters();
    private static readonly Vec3[] Norths = BuildNorths();
    private static readonly Vec3[] Easts = BuildEasts();

    /// <summary>Largest i + j + k on a face at each Class II resolution (index = resolution, up to 16).</summary>
    private static readonly int[] MaxDimClassII = [2, -1, 14, -1, 98, -1, 686, -1, 4802, -1, 33614, -1, 235298, -1, 1647086, -1, 11529602];

    /// <summary>Res 0 unit length in each Class II resolution's units.</summary>
    private static readonly int[] UnitScaleClassII = [1, -1, 7, -1, 49, -1, 343, -1, 2401, -1, 16807, -1, 117649, -1, 823543, -1, 5764801];

    // Substrate vertices of an origin-centred cell (aperture 3, 3r for Class II; plus 7r for Class III), ccw from the i axis.
    private static readonly CoordIjk[] VerticesClassII = [new(2, 1, 0), new(1, 2, 0), new(0, 2, 1), new(0, 1, 2), new(1, 0, 2), new(2, 0, 1)];
    private static readonly CoordIjk[] VerticesClassIII = [new(5, 4, 0), new(1, 5, 0), new(0, 5, 4), new(0, 1, 5), new(4, 0, 5), new(5, 0, 1)];

    public static bool IsClassIII(int resolution) => (resolution & 1) == 1;

    /// <summary>The face and IJK coordinates of the cell containing a unit vector.</summary>
    public static FaceIjk FromVec3(Vec3 p, int resolution)
    {
        var face = 0;
        var sqd = 5.0;
        for (var f = 0; f < Count; f++)
        {
            var d = Vec3.DistanceSquared(Centers[f], p);
            if (d < sqd)
            {
                face = f;
                sqd = d;
            }
        }

        // Chord length to arc: cos(r) = 1 - chord² / 2.
        var r = Math.Acos(1 - (sqd * 0.5));
        if (r < Epsilon)
        {
            return new FaceIjk(face, CoordIjk.Zero);
        }

        var theta = PositiveAngle(Tables.FaceAxisAzimuths[face] - PositiveAngle(Azimuth(face, p)));
        if (IsClassIII(resolution))
        {
            theta = PositiveAngle(theta - Aperture7Rotation);
        }

        r = Math.Tan(r) * InverseRes0UnitGnomonic;
        for (var i = 0; i < resolution; i++)
        {
            r *= Sqrt7;
        }

        return new FaceIjk(face, CoordIjk.FromHex2d(r * Math.Cos(theta), r * Math.Sin(theta)));
    }

    /// <summary>The centre of a cell as a unit vector.</summary>
    public static Vec3 ToVec3(FaceIjk cell, int resolution)
    {
        var (x, y) = cell.Coord.ToHex2d();
        return Hex2dToVec3(x, y, cell.Face, resolution, substrate: false);
    }

    /// <summary>
    /// Writes the boundary of a hexagon, as radians, into <paramref name="output"/> (room for 10) and returns the count.
    /// </summary>
    public static int HexagonBoundary(FaceIjk center, int resolution, Span<(double Lat, double Lng)> output)
    {
        var adjRes = resolution;
        Span<FaceIjk> verts = stackalloc FaceIjk[6];
        var centerFace = ToSubstrateVertices(center, ref adjRes, VerticesClassII.Length, verts);
        var count = 0;
        var lastFace = -1;
        var lastOverage = Overage.None;

        // One extra step to catch a face crossing on the closing edge.
        for (var vert = 0; vert <= 6; vert++)
        {
            var v = vert % 6;
            var fijk = verts[v];
            var overage = AdjustOverageClassII(ref fijk, adjRes, pentagonLeading4: false, substrate: true);

            // Class III edges can cross an icosahedron edge: add the crossing point as a vertex.
            // Class II cells have their vertices on face edges instead.
            if (IsClassIII(resolution) && vert > 0 && fijk.Face != lastFace && lastOverage != Overage.FaceEdge)
            {
                var orig0 = verts[(v + 5) % 6].Coord.ToHex2d();
                var orig1 = verts[v].Coord.ToHex2d();
                var face2 = lastFace == centerFace ? fijk.Face : lastFace;
                var (edge0, edge1) = FaceEdge(Tables.AdjacentFaceDirection[(centerFace * Count) + face2], adjRes);
                var inter = Intersect(orig0, orig1, edge0, edge1);

                // A crossing exactly at a vertex leaves both edges on one face each: no extra vertex.
                if (!AlmostEqual(orig0, inter) && !AlmostEqual(orig1, inter))
                {
                    output[count++] = Hex2dToVec3(inter.X, inter.Y, centerFace, adjRes, substrate: true).ToLatLng();
                }
            }

            if (vert < 6)
            {
                var (x, y) = fijk.Coord.ToHex2d();
                output[count++] = Hex2dToVec3(x, y, fijk.Face, adjRes, substrate: true).ToLatLng();
            }

            lastFace = fijk.Face;
            lastOverage = overage;
        }

        return count;
    }

    /// <summary>
    /// Writes the boundary of a pentagon, as radians, into <paramref name="output"/> (room for 10) and returns the count.
    /// </summary>
    public static int PentagonBoundary(FaceIjk center, int resolution, Span<(double Lat, double Lng)> output)
    {
        var adjRes = resolution;
        Span<FaceIjk> verts = stackalloc FaceIjk[5];
        ToSubstrateVertices(center, ref adjRes, 5, verts);
        var count = 0;
        var last = default(FaceIjk);

        for (var vert = 0; vert <= 5; vert++)
        {
            var fijk = verts[vert % 5];
            AdjustPentagonVertexOverage(ref fijk, adjRes);

            // Every Class III pentagon edge crosses an icosahedron edge.
            if (IsClassIII(resolution) && vert > 0)
            {
                var orig0 = last.Coord.ToHex2d();

                // Express this vertex on the previous vertex's face to intersect the edge between them.
                var toLast = Tables.AdjacentFaceDirection[(fijk.Face * Count) + last.Face];
                var orient = (fijk.Face * 4) + toLast;
                var face = Tables.FaceNeighbors[(orient * 5) + 0];
                var ijk = fijk.Coord;
                for (var i = 0; i < Tables.FaceNeighbors[(orient * 5) + 4]; i++)
                {
                    ijk = ijk.Rotate60Ccw();
                }

                ijk = (ijk + NeighborTranslation(orient).Scale(UnitScaleClassII[adjRes] * 3)).Normalize();
                var orig1 = ijk.ToHex2d();

                var (edge0, edge1) = FaceEdge(Tables.AdjacentFaceDirection[(face * Count) + fijk.Face], adjRes);
                var inter = Intersect(orig0, orig1, edge0, edge1);
                output[count++] = Hex2dToVec3(inter.X, inter.Y, face, adjRes, substrate: true).ToLatLng();
            }

            if (vert < 5)
            {
                var (x, y) = fijk.Coord.ToHex2d();
                output[count++] = Hex2dToVec3(x, y, fijk.Face, adjRes, substrate: true).ToLatLng();
            }

            last = fijk;
        }

        return count;
    }

    /// <summary>
    /// Moves a Class II coordinate that has run off its face onto the neighbouring face it lies on.
    /// </summary>
    /// <param name="fijk">The coordinate, adjusted in place.</param>
    /// <param name="resolution">A Class II resolution.</param>
    /// <param name="pentagonLeading4">Whether this is in a pentagon's digit-4 subsequence, which the deleted k subsequence skews.</param>
    /// <param name="substrate">Whether the coordinate is on the aperture 3·3 substrate grid (3× finer).</param>
    public static Overage AdjustOverageClassII(ref FaceIjk fijk, int resolution, bool pentagonLeading4, bool substrate)
    {
        var ijk = fijk.Coord;
        var maxDim = MaxDimClassII[resolution];
        if (substrate)
        {
            maxDim *= 3;
        }

        var sum = ijk.I + ijk.J + ijk.K;
        if (substrate && sum == maxDim)
        {
            return Overage.FaceEdge;
        }

        if (sum <= maxDim)
        {
            return Overage.None;
        }

        int quadrant;
        if (ijk.K > 0)
        {
            if (ijk.J > 0)
            {
                quadrant = JK;
            }
            else
            {
                quadrant = KI;
                if (pentagonLeading4)
                {
                    // Rotate about the pentagon at (maxDim, 0, 0) to step over the missing subsequence.
                    var origin = new CoordIjk(maxDim, 0, 0);
                    ijk = (ijk - origin).Rotate60Cw() + origin;
                }
            }
        }
        else
        {
            quadrant = IJ;
        }

        var orient = (fijk.Face * 4) + quadrant;
        for (var i = 0; i < Tables.FaceNeighbors[(orient * 5) + 4]; i++)
        {
            ijk = ijk.Rotate60Ccw();
        }

        var unitScale = UnitScaleClassII[resolution];
        if (substrate)
        {
            unitScale *= 3;
        }

        ijk = (ijk + NeighborTranslation(orient).Scale(unitScale)).Normalize();
        fijk = new FaceIjk(Tables.FaceNeighbors[orient * 5], ijk);

        // Pentagon vertices can land exactly on an edge of the new face.
        return substrate && ijk.I + ijk.J + ijk.K == maxDim ? Overage.FaceEdge : Overage.NewFace;
    }

    /// <summary>Pentagon substrate vertices can overflow onto a face beyond the neighbour; repeat until settled.</summary>
    public static Overage AdjustPentagonVertexOverage(ref FaceIjk fijk, int resolution)
    {
        Overage overage;
        do
        {
            overage = AdjustOverageClassII(ref fijk, resolution, pentagonLeading4: false, substrate: true);
        }
        while (overage == Overage.NewFace);
        return overage;
    }

    /// <summary>Normalizes radians into [0, 2π).</summary>
    private static double PositiveAngle(double rads)
    {
        var tmp = rads < 0.0 ? rads + TwoPi : rads;
        if (rads >= TwoPi)
        {
            tmp -= TwoPi;
        }

        return tmp;
    }

    /// <summary>Azimuth from a face centre to a point, from the face's tangent plane.</summary>
    private static double Azimuth(int face, Vec3 p)
    {
        var c = Centers[face];
        var projected = Vec3.Combine(1.0, p, -Vec3.Dot(p, c), c).Normalize();
        return Math.Atan2(Vec3.Dot(projected, Easts[face]), Vec3.Dot(projected, Norths[face]));
    }

    /// <summary>The unit vector of a point given in a face's hex2d plane at a resolution.</summary>
    private static Vec3 Hex2dToVec3(double x, double y, int face, int resolution, bool substrate)
    {
        var r = Math.Sqrt((x * x) + (y * y));
        if (r < Epsilon)
        {
            return Centers[face];
        }

        var theta = Math.Atan2(y, x);
        for (var i = 0; i < resolution; i++)
        {
            r *= InverseSqrt7;
        }

        if (substrate)
        {
            r *= OneThird;
            if (IsClassIII(resolution))
            {
                r *= InverseSqrt7;
            }
        }

        r = Math.Atan(r * Res0UnitGnomonic);

        // A substrate grid is already in Class II orientation.
        if (!substrate && IsClassIII(resolution))
        {
            theta = PositiveAngle(theta + Aperture7Rotation);
        }

        theta = PositiveAngle(Tables.FaceAxisAzimuths[face] - theta);
        var direction = Vec3.Combine(Math.Cos(theta), Norths[face], Math.Sin(theta), Easts[face]);
        return Vec3.Combine(Math.Cos(r), Centers[face], Math.Sin(r), direction).Normalize();
    }

    /// <summary>
    /// Moves a cell centre onto the substrate grid and writes its vertices there; the resolution
    /// becomes the substrate's Class II resolution. Returns the face.
    /// </summary>
    private static int ToSubstrateVertices(FaceIjk cell, ref int resolution, int count, Span<FaceIjk> output)
    {
        var classIII = IsClassIII(resolution);
        var vertices = classIII ? VerticesClassIII : VerticesClassII;
        var center = cell.Coord.DownAp3().DownAp3r();
        if (classIII)
        {
            center = center.DownAp7r();
            resolution++;
        }

        for (var v = 0; v < count; v++)
        {
            output[v] = new FaceIjk(cell.Face, (center + vertices[v]).Normalize());
        }

        return cell.Face;
    }

    private static CoordIjk NeighborTranslation(int orient) =>
        new(Tables.FaceNeighbors[(orient * 5) + 1], Tables.FaceNeighbors[(orient * 5) + 2], Tables.FaceNeighbors[(orient * 5) + 3]);

    /// <summary>The two hex2d corners of the face edge towards a quadrant, on a substrate at a Class II resolution.</summary>
    private static ((double X, double Y) A, (double X, double Y) B) FaceEdge(int quadrant, int resolution)
    {
        double maxDim = MaxDimClassII[resolution];
        var v0 = (3.0 * maxDim, 0.0);
        var v1 = (-1.5 * maxDim, 3.0 * Sqrt3Over2 * maxDim);
        var v2 = (-1.5 * maxDim, -3.0 * Sqrt3Over2 * maxDim);
        return quadrant switch
        {
            IJ => (v0, v1),
            JK => (v1, v2),
            _ => (v2, v0),
        };
    }

    /// <summary>Intersection of line p0-p1 with line p2-p3 (assumed to cross).</summary>
    private static (double X, double Y) Intersect((double X, double Y) p0, (double X, double Y) p1, (double X, double Y) p2, (double X, double Y) p3)
    {
        var s1X = p1.X - p0.X;
        var s1Y = p1.Y - p0.Y;
        var s2X = p3.X - p2.X;
        var s2Y = p3.Y - p2.Y;
        var t = ((s2X * (p0.Y - p2.Y)) - (s2Y * (p0.X - p2.X))) / ((-s2X * s1Y) + (s1X * s2Y));
        return (p0.X + (t * s1X), p0.Y + (t * s1Y));
    }

    private static bool AlmostEqual((double X, double Y) a, (double X, double Y) b) =>
        Math.Abs(a.X - b.X) < FloatEpsilon && Math.Abs(a.Y - b.Y) < FloatEpsilon;

    private static Vec3[] BuildCenters()
    {
        var centers = new Vec3[Count];
        for (var f = 0; f < Count; f++)
        {
            centers[f] = new Vec3(Tables.FaceCenters[3 * f], Tables.FaceCenters[(3 * f) + 1], Tables.FaceCenters[(3 * f) + 2]);
        }

        return centers;
    }

    // Local north and east on each face centre's tangent plane, computed once exactly as the reference does per call.
    private static Vec3[] BuildNorths()
    {
        var pole = new Vec3(0.0, 0.0, 1.0);
        var norths = new Vec3[Count];
        for (var f = 0; f < Count; f++)
        {
            var c = Centers[f];
            norths[f] = Vec3.Combine(1.0, pole, -Vec3.Dot(pole, c), c).Normalize();
        }

        return norths;
    }

    private static Vec3[] BuildEasts()
    {
        var easts = new Vec3[Count];
        for (var f = 0; f < Count; f++)
        {
            easts[f] = Vec3.Cross(Norths[f], Centers[f]);
        }

        return easts;
    }
}

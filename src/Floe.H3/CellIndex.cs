using System.Numerics;

namespace Floe.H3;

/// <summary>
/// The H3 cell index bit layout (high bit 0, mode 4 bits, reserved 3 bits, resolution 4 bits,
/// base cell 7 bits, 15 digits of 3 bits; unused digits are 7) and the conversions between
/// indexes and face IJK coordinates.
/// </summary>
internal static class CellIndex
{
    public const int MaxResolution = 15;
    public const int BaseCellCount = 122;

    private const int ResolutionShift = 52;
    private const int BaseCellShift = 45;

    /// <summary>Mode 1 (cell), resolution 0, base cell 0, every digit 7.</summary>
    private const ulong Init = (1UL << 59) | ((1UL << 45) - 1);

    private const ulong DigitsMask = (1UL << 45) - 1;

    private static readonly int[] RotateCcw = [0, 5, 3, 1, 6, 4, 2, 7];
    private static readonly int[] RotateCw = [0, 3, 6, 2, 5, 1, 4, 7];

    public static int Resolution(ulong h) => (int)((h >> ResolutionShift) & 15);

    public static int BaseCell(ulong h) => (int)((h >> BaseCellShift) & 127);

    public static int Digit(ulong h, int resolution) => (int)((h >> ((MaxResolution - resolution) * 3)) & 7);

    public static ulong SetDigit(ulong h, int resolution, int digit)
    {
        var shift = (MaxResolution - resolution) * 3;
        return (h & ~(7UL << shift)) | ((ulong)digit << shift);
    }

    public static ulong SetResolution(ulong h, int resolution) =>
        (h & ~(15UL << ResolutionShift)) | ((ulong)resolution << ResolutionShift);

    /// <summary>A cell of a base cell with every digit up to <paramref name="resolution"/> set to <paramref name="digit"/>.</summary>
    public static ulong Create(int resolution, int baseCell, int digit)
    {
        var h = Init | ((ulong)resolution << ResolutionShift) | ((ulong)baseCell << BaseCellShift);
        for (var r = 1; r <= resolution; r++)
        {
            h = SetDigit(h, r, digit);
        }

        return h;
    }

    /// <summary>Mask of the digit bits of resolutions 1..<paramref name="resolution"/>.</summary>
    public static ulong UsedDigitsMask(int resolution) => resolution == 0 ? 0 : DigitsMask & ~((1UL << ((MaxResolution - resolution) * 3)) - 1);

    /// <summary>The first non-zero digit, or 0 when all digits are 0 (the cell is its base cell's centre descendant).</summary>
    public static int LeadingNonZeroDigit(ulong h)
    {
        var digits = h & UsedDigitsMask(Resolution(h));
        if (digits == 0)
        {
            return 0;
        }

        var resolution = MaxResolution - (BitOperations.Log2(digits) / 3);
        return Digit(h, resolution);
    }

    public static bool IsBaseCellPentagon(int baseCell) => baseCell < BaseCellCount && Tables.BaseCellData[(baseCell * 7) + 4] == 1;

    /// <summary>Whether a pentagon base cell borders all of its neighbours' i axes (the polar pentagons).</summary>
    public static bool IsPolarPentagon(int baseCell) => baseCell is 4 or 117;

    public static bool IsPentagon(ulong h) => IsBaseCellPentagon(BaseCell(h)) && LeadingNonZeroDigit(h) == 0;

    public static bool IsValid(ulong h)
    {
        // High bit 0, mode 1, reserved 0.
        if (h >> 56 != 0b0000_1000)
        {
            return false;
        }

        var resolution = Resolution(h);
        var baseCell = BaseCell(h);
        if (baseCell >= BaseCellCount)
        {
            return false;
        }

        var used = h & UsedDigitsMask(resolution);
        for (var r = 1; r <= resolution; r++)
        {
            if (Digit(used, r) == 7)
            {
                return false;
            }
        }

        var unused = DigitsMask & ~UsedDigitsMask(resolution);
        if ((h & unused) != unused)
        {
            return false;
        }

        // A pentagon's first non-zero digit can't be 1: that subsequence is deleted.
        return !IsBaseCellPentagon(baseCell) || used == 0 || BitOperations.Log2(used) % 3 != 0;
    }

    public static int RotateDigit60Ccw(int digit) => RotateCcw[digit];

    public static int RotateDigit60Cw(int digit) => RotateCw[digit];

    public static ulong Rotate60Ccw(ulong h)
    {
        for (int r = 1, res = Resolution(h); r <= res; r++)
        {
            h = SetDigit(h, r, RotateCcw[Digit(h, r)]);
        }

        return h;
    }

    public static ulong Rotate60Cw(ulong h)
    {
        for (int r = 1, res = Resolution(h); r <= res; r++)
        {
            h = SetDigit(h, r, RotateCw[Digit(h, r)]);
        }

        return h;
    }

    /// <summary>Rotates 60° ccw about a pentagon centre, rotating once more out of the deleted k subsequence if it lands there.</summary>
    public static ulong RotatePentagon60Ccw(ulong h)
    {
        var foundFirstNonZero = false;
        for (int r = 1, res = Resolution(h); r <= res; r++)
        {
            h = SetDigit(h, r, RotateCcw[Digit(h, r)]);
            if (!foundFirstNonZero && Digit(h, r) != 0)
            {
                foundFirstNonZero = true;
                if (Digit(h, r) == 1)
                {
                    h = Rotate60Ccw(h);
                }
            }
        }

        return h;
    }

    public static bool BaseCellIsCwOffset(int baseCell, int face) =>
        Tables.BaseCellData[(baseCell * 7) + 5] == face || Tables.BaseCellData[(baseCell * 7) + 6] == face;

    public static FaceIjk BaseCellHome(int baseCell)
    {
        var row = baseCell * 7;
        return new FaceIjk(Tables.BaseCellData[row], new CoordIjk(Tables.BaseCellData[row + 1], Tables.BaseCellData[row + 2], Tables.BaseCellData[row + 3]));
    }

    /// <summary>The cell at a face coordinate, or 0 when the coordinate is off the face's base cells.</summary>
    public static ulong FromFaceIjk(FaceIjk fijk, int resolution)
    {
        var h = Init | ((ulong)resolution << ResolutionShift);
        var ijk = fijk.Coord;

        // Walk up from the finest resolution, recording each step from parent centre to child as a digit.
        for (var r = resolution - 1; r >= 0; r--)
        {
            var last = ijk;
            CoordIjk lastCenter;
            if (Faces.IsClassIII(r + 1))
            {
                ijk = ijk.UpAp7();
                lastCenter = ijk.DownAp7();
            }
            else
            {
                ijk = ijk.UpAp7r();
                lastCenter = ijk.DownAp7r();
            }

            h = SetDigit(h, r + 1, (last - lastCenter).ToDigit());
        }

        if (ijk.I > 2 || ijk.J > 2 || ijk.K > 2)
        {
            return 0;
        }

        var slot = (fijk.Face * 27) + (ijk.I * 9) + (ijk.J * 3) + ijk.K;
        int baseCell = Tables.FaceIjkBaseCells[slot];
        int rotations = Tables.FaceIjkBaseCellRotations[slot];
        h |= (ulong)baseCell << BaseCellShift;

        // Rotate into the base cell's canonical orientation.
        if (IsBaseCellPentagon(baseCell))
        {
            // Force rotation out of the missing k subsequence, direction depending on the face.
            if (LeadingNonZeroDigit(h) == 1)
            {
                h = BaseCellIsCwOffset(baseCell, fijk.Face) ? Rotate60Cw(h) : Rotate60Ccw(h);
            }

            for (var i = 0; i < rotations; i++)
            {
                h = RotatePentagon60Ccw(h);
            }
        }
        else
        {
            for (var i = 0; i < rotations; i++)
            {
                h = Rotate60Ccw(h);
            }
        }

        return h;
    }

    /// <summary>The face coordinate of a valid cell, on the face its centre lies on.</summary>
    public static FaceIjk ToFaceIjk(ulong h)
    {
        var baseCell = BaseCell(h);
        var resolution = Resolution(h);
        var pentagon = IsBaseCellPentagon(baseCell);

        // All of a pentagon's subsequence 5 needs rotating (and some of 4, below).
        if (pentagon && LeadingNonZeroDigit(h) == 5)
        {
            h = Rotate60Cw(h);
        }

        var home = BaseCellHome(baseCell);
        var face = home.Face;
        var ijk = home.Coord;

        // A hexagon base cell centred on its face keeps its whole hierarchy on that face.
        var possibleOverage = pentagon || (resolution != 0 && ijk != CoordIjk.Zero);

        for (var r = 1; r <= resolution; r++)
        {
            ijk = Faces.IsClassIII(r) ? ijk.DownAp7() : ijk.DownAp7r();
            ijk = ijk.Neighbor(Digit(h, r));
        }

        if (!possibleOverage)
        {
            return new FaceIjk(face, ijk);
        }

        // Overage is judged on a Class II grid: drop Class III into the next finer one.
        var original = ijk;
        var adjRes = resolution;
        if (Faces.IsClassIII(resolution))
        {
            ijk = ijk.DownAp7r();
            adjRes++;
        }

        var fijk = new FaceIjk(face, ijk);
        var pentagonLeading4 = pentagon && LeadingNonZeroDigit(h) == 4;
        if (Faces.AdjustOverageClassII(ref fijk, adjRes, pentagonLeading4, substrate: false) != Overage.None)
        {
            // A pentagon can overflow again, onto a face beyond the neighbour.
            var again = pentagon;
            while (again)
            {
                again = Faces.AdjustOverageClassII(ref fijk, adjRes, pentagonLeading4: false, substrate: false) != Overage.None;
            }

            if (adjRes != resolution)
            {
                fijk = fijk with { Coord = fijk.Coord.UpAp7r() };
            }

            return fijk;
        }

        return new FaceIjk(face, adjRes != resolution ? original : ijk);
    }

    public static ulong FromVec3(Vec3 p, int resolution) => FromFaceIjk(Faces.FromVec3(p, resolution), resolution);

    public static Vec3 ToVec3(ulong h) => Faces.ToVec3(ToFaceIjk(h), Resolution(h));

    /// <summary>Writes a cell's boundary in radians (up to 10 vertices) and returns the count.</summary>
    public static int Boundary(ulong h, Span<(double Lat, double Lng)> output)
    {
        var fijk = ToFaceIjk(h);
        return IsPentagon(h)
            ? Faces.PentagonBoundary(fijk, Resolution(h), output)
            : Faces.HexagonBoundary(fijk, Resolution(h), output);
    }
}

namespace Floe.H3;

/// <summary>
/// Hexagon coordinates on three axes 120° apart. Normalized form (IJK+) has no negative
/// component and at least one zero component, so each hexagon has exactly one representation.
/// </summary>
internal readonly record struct CoordIjk(int I, int J, int K)
{
    private const double Sqrt3Over2 = 0.8660254037844386467637231707529361834714;
    private const double InverseSin60 = 1.1547005383792515290182975610039149112953;
    private const double OneSeventh = 0.14285714285714285714285714285714285;

    public static CoordIjk Zero => default;

    public static CoordIjk operator +(CoordIjk a, CoordIjk b) => new(a.I + b.I, a.J + b.J, a.K + b.K);

    public static CoordIjk operator -(CoordIjk a, CoordIjk b) => new(a.I - b.I, a.J - b.J, a.K - b.K);

    public CoordIjk Scale(int factor) => new(I * factor, J * factor, K * factor);

    public static CoordIjk Normalized(int i, int j, int k)
    {
        if (i < 0)
        {
            j -= i;
            k -= i;
            i = 0;
        }

        if (j < 0)
        {
            i -= j;
            k -= j;
            j = 0;
        }

        if (k < 0)
        {
            i -= k;
            j -= k;
            k = 0;
        }

        var min = Math.Min(i, Math.Min(j, k));
        return min > 0 ? new CoordIjk(i - min, j - min, k - min) : new CoordIjk(i, j, k);
    }

    public CoordIjk Normalize() => Normalized(I, J, K);

    /// <summary>The digit (0-6) of a unit or zero vector, or 7 when this is not one.</summary>
    public int ToDigit()
    {
        var c = Normalize();
        return (c.I | c.J | c.K) <= 1 ? (c.I << 2) | (c.J << 1) | c.K : 7;
    }

    /// <summary>Parent in a counter-clockwise aperture 7 grid.</summary>
    public CoordIjk UpAp7()
    {
        var i = I - K;
        var j = J - K;
        return Normalized(RoundHalfAway(((3 * i) - j) * OneSeventh), RoundHalfAway((i + (2 * j)) * OneSeventh), 0);
    }

    /// <summary>Parent in a clockwise aperture 7 grid.</summary>
    public CoordIjk UpAp7r()
    {
        var i = I - K;
        var j = J - K;
        return Normalized(RoundHalfAway(((2 * i) + j) * OneSeventh), RoundHalfAway(((3 * j) - i) * OneSeventh), 0);
    }

    /// <summary>Centre child in the next finer counter-clockwise aperture 7 grid.</summary>
    public CoordIjk DownAp7() => Normalized((3 * I) + J, (3 * J) + K, I + (3 * K));

    /// <summary>Centre child in the next finer clockwise aperture 7 grid.</summary>
    public CoordIjk DownAp7r() => Normalized((3 * I) + K, I + (3 * J), J + (3 * K));

    /// <summary>Same hexagon in the next finer counter-clockwise aperture 3 grid.</summary>
    public CoordIjk DownAp3() => Normalized((2 * I) + J, (2 * J) + K, I + (2 * K));

    /// <summary>Same hexagon in the next finer clockwise aperture 3 grid.</summary>
    public CoordIjk DownAp3r() => Normalized((2 * I) + K, I + (2 * J), J + (2 * K));

    public CoordIjk Rotate60Ccw() => Normalized(I + K, I + J, J + K);

    public CoordIjk Rotate60Cw() => Normalized(I + J, J + K, I + K);

    /// <summary>The adjacent hexagon in a digit direction; a digit's three bits are its unit vector's i, j and k.</summary>
    public CoordIjk Neighbor(int digit) =>
        digit is > 0 and < 7 ? Normalized(I + ((digit >> 2) & 1), J + ((digit >> 1) & 1), K + (digit & 1)) : this;

    /// <summary>Centre of the hexagon on the plane, unit distance between neighbouring centres.</summary>
    public (double X, double Y) ToHex2d()
    {
        var i = I - K;
        var j = J - K;
        return (i - (0.5 * j), j * Sqrt3Over2);
    }

    /// <summary>The hexagon containing a plane point (quantization as in DGGRID, which H3 follows).</summary>
    public static CoordIjk FromHex2d(double x, double y)
    {
        // Work in the first sextant (|x|, |y|), then mirror back across the axes.
        var x2 = Math.Abs(y) * InverseSin60;
        var x1 = Math.Abs(x) + (x2 / 2.0);
        var m1 = (int)x1;
        var m2 = (int)x2;
        var r1 = x1 - m1;
        var r2 = x2 - m2;
        int i, j;
        if (r1 < 0.5)
        {
            if (r1 < 1.0 / 3.0)
            {
                i = m1;
                j = r2 < (1.0 + r1) / 2.0 ? m2 : m2 + 1;
            }
            else
            {
                j = r2 < 1.0 - r1 ? m2 : m2 + 1;
                i = 1.0 - r1 <= r2 && r2 < 2.0 * r1 ? m1 + 1 : m1;
            }
        }
        else if (r1 < 2.0 / 3.0)
        {
            j = r2 < 1.0 - r1 ? m2 : m2 + 1;
            i = (2.0 * r1) - 1.0 < r2 && r2 < 1.0 - r1 ? m1 : m1 + 1;
        }
        else
        {
            i = m1 + 1;
            j = r2 < r1 / 2.0 ? m2 : m2 + 1;
        }

        if (x < 0.0)
        {
            // Reflect across the j axis: i mirrors around the axis point of row j.
            i = (j & 1) == 0 ? i - (2 * (i - (j / 2))) : i - ((2 * (i - ((j + 1) / 2))) + 1);
        }

        if (y < 0.0)
        {
            i -= ((2 * j) + 1) / 2;
            j = -j;
        }

        return Normalized(i, j, 0);
    }

    /// <summary>Rounds like C's lround: halves away from zero.</summary>
    private static int RoundHalfAway(double value) => (int)Math.Round(value, MidpointRounding.AwayFromZero);
}

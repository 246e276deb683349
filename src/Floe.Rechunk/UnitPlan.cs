namespace Floe.Rechunk;

/// <summary>
/// How a rechunk splits an array into work units: boxes aligned to the target chunks, each assembled in memory
/// from the source chunks that overlap it and then cut into target chunks.
/// </summary>
public sealed class UnitPlan
{
    public UnitPlan(long[] arrayShape, long[] unitShape, int[] targetChunks)
    {
        ArrayShape = arrayShape;
        UnitShape = unitShape;
        TargetChunks = targetChunks;
        Grid = new long[arrayShape.Length];
        for (var d = 0; d < Grid.Length; d++)
        {
            Grid[d] = arrayShape[d] == 0 ? 0 : ((arrayShape[d] - 1) / unitShape[d]) + 1;
        }
    }

    public long[] ArrayShape { get; }

    /// <summary>Elements per unit along each dimension: whole target chunks.</summary>
    public long[] UnitShape { get; }

    public int[] TargetChunks { get; }

    /// <summary>Units along each dimension.</summary>
    public long[] Grid { get; }

    public long UnitCount => BoxCopy.Volume(Grid);

    /// <summary>
    /// The unit shape for a budget of <paramref name="unitBudgetBytes"/> per unit. Along a dimension where source
    /// chunks are longer than target chunks a unit covers whole source chunks (their least common multiple with the
    /// target chunk, at most the whole dimension), so that each source chunk is read once; where that is too big for
    /// the budget, the longest dimension is halved (in whole target chunks) until it fits, and source chunks there
    /// are read more than once. Null when not even one target chunk fits.
    /// </summary>
    public static long[]? ChooseUnitShape(long[] arrayShape, int[] sourceChunks, int[] targetChunks, int elementSize, long unitBudgetBytes)
    {
        var rank = arrayShape.Length;
        var unit = new long[rank];
        for (var d = 0; d < rank; d++)
        {
            long target = targetChunks[d];
            var whole = Math.Max(target, RoundUp(arrayShape[d], target));
            unit[d] = sourceChunks[d] <= target ? target : Math.Min(Lcm(sourceChunks[d], target), whole);
        }

        while (BoxCopy.Volume(unit) * elementSize > unitBudgetBytes)
        {
            var widest = -1;
            for (var d = 0; d < rank; d++)
            {
                if (unit[d] > targetChunks[d] && (widest < 0 || unit[d] / targetChunks[d] > unit[widest] / targetChunks[widest]))
                {
                    widest = d;
                }
            }

            if (widest < 0)
            {
                return null;
            }

            var halved = RoundUp(unit[widest] / 2, targetChunks[widest]);
            unit[widest] = Math.Max(targetChunks[widest], halved < unit[widest] ? halved : unit[widest] - targetChunks[widest]);
        }

        return unit;
    }

    /// <summary>The unit's grid coordinates from its index in row-major order.</summary>
    public long[] UnitCoords(long index)
    {
        var coords = new long[Grid.Length];
        for (var d = Grid.Length - 1; d >= 0; d--)
        {
            coords[d] = index % Grid[d];
            index /= Grid[d];
        }

        return coords;
    }

    /// <summary>The unit's row-major index from its grid coordinates.</summary>
    public long UnitIndex(ReadOnlySpan<long> coords)
    {
        long index = 0;
        for (var d = 0; d < Grid.Length; d++)
        {
            index = (index * Grid[d]) + coords[d];
        }

        return index;
    }

    /// <summary>First element of a unit, and its extent clipped to the array.</summary>
    public (long[] Origin, long[] Extent) Box(ReadOnlySpan<long> unitCoords)
    {
        var origin = new long[Grid.Length];
        var extent = new long[Grid.Length];
        for (var d = 0; d < Grid.Length; d++)
        {
            origin[d] = unitCoords[d] * UnitShape[d];
            extent[d] = Math.Min(UnitShape[d], ArrayShape[d] - origin[d]);
        }

        return (origin, extent);
    }

    internal static long RoundUp(long value, long multiple) => value <= 0 ? 0 : ((value + multiple - 1) / multiple) * multiple;

    private static long Lcm(long a, long b) => a / Gcd(a, b) * b;

    private static long Gcd(long a, long b)
    {
        while (b != 0)
        {
            (a, b) = (b, a % b);
        }

        return a;
    }
}

namespace Floe.H3;

/// <summary>Parents and children by digit manipulation (a child's digits extend its parent's).</summary>
internal static class Hierarchy
{
    public static ulong Parent(ulong cell, int parentResolution)
    {
        var unused = CellIndex.UsedDigitsMask(CellIndex.Resolution(cell)) & ~CellIndex.UsedDigitsMask(parentResolution);
        return CellIndex.SetResolution(cell | unused, parentResolution);
    }

    public static ulong CenterChild(ulong cell, int childResolution)
    {
        var added = CellIndex.UsedDigitsMask(childResolution) & ~CellIndex.UsedDigitsMask(CellIndex.Resolution(cell));
        return CellIndex.SetResolution(cell & ~added, childResolution);
    }

    /// <summary>The descendant with every added digit 6: the largest index among the descendants.</summary>
    public static ulong LastChild(ulong cell, int childResolution)
    {
        var added = CellIndex.UsedDigitsMask(childResolution) & ~CellIndex.UsedDigitsMask(CellIndex.Resolution(cell));
        const ulong sixes = 0b110_110_110_110_110_110_110_110_110_110_110_110_110_110_110;
        return CellIndex.SetResolution((cell & ~added) | (sixes & added), childResolution);
    }

    public static long ChildrenSize(ulong cell, int childResolution)
    {
        var n = childResolution - CellIndex.Resolution(cell);
        long power = 1;
        for (var i = 0; i < n; i++)
        {
            power *= 7;
        }

        // A pentagon has one pentagon child and five hexagon children at each step.
        return CellIndex.IsPentagon(cell) ? 1 + (5 * (power - 1) / 6) : power;
    }

    /// <summary>Appends the descendants at <paramref name="childResolution"/> in ascending order.</summary>
    public static void AddChildren(ulong cell, int childResolution, List<ulong> output)
    {
        var resolution = CellIndex.Resolution(cell);
        if (resolution == childResolution)
        {
            output.Add(cell);
            return;
        }

        Add(CenterChild(cell, childResolution), resolution + 1, childResolution, CellIndex.IsPentagon(cell), output);
    }

    /// <summary>The descendants at <paramref name="childResolution"/> in ascending order, lazily.</summary>
    public static IEnumerable<ulong> Children(ulong cell, int childResolution)
    {
        var parentResolution = CellIndex.Resolution(cell);
        var pentagon = CellIndex.IsPentagon(cell);
        var h = CenterChild(cell, childResolution);
        var parentDigits = CellIndex.UsedDigitsMask(parentResolution);
        while (true)
        {
            yield return h;

            // Odometer increment on the added digits, finest first.
            var r = childResolution;
            while (true)
            {
                if (r == parentResolution)
                {
                    yield break;
                }

                var digit = CellIndex.Digit(h, r) + 1;

                // Under a pentagon, the k (1) branch is deleted while all coarser added digits are 0.
                if (digit == 1 && pentagon && (h & CellIndex.UsedDigitsMask(r - 1) & ~parentDigits) == 0)
                {
                    digit = 2;
                }

                if (digit < 7)
                {
                    h = CellIndex.SetDigit(h, r, digit);
                    break;
                }

                h = CellIndex.SetDigit(h, r, 0);
                r--;
            }
        }
    }

    private static void Add(ulong h, int resolution, int childResolution, bool pentagon, List<ulong> output)
    {
        if (resolution == childResolution)
        {
            for (var digit = 0; digit < 7; digit++)
            {
                if (digit != 1 || !pentagon)
                {
                    output.Add(CellIndex.SetDigit(h, resolution, digit));
                }
            }

            return;
        }

        for (var digit = 0; digit < 7; digit++)
        {
            if (digit != 1 || !pentagon)
            {
                Add(CellIndex.SetDigit(h, resolution, digit), resolution + 1, childResolution, pentagon && digit == 0, output);
            }
        }
    }
}

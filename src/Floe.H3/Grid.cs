namespace Floe.H3;

/// <summary>Neighbour traversal on the index digits, and grid disks built from it.</summary>
internal static class Grid
{
    /// <summary>The six neighbour directions (every digit but the centre).</summary>
    private static readonly int[] Directions = [2, 3, 1, 5, 4, 6];

    /// <summary>Outcome of a neighbour step.</summary>
    public enum Step
    {
        Ok,

        /// <summary>The k direction of a pentagon, which has no neighbour.</summary>
        Pentagon,
        Failed,
    }

    /// <summary>
    /// The neighbour of <paramref name="origin"/> in digit direction <paramref name="direction"/>, after
    /// first rotating the direction <paramref name="rotations"/> times ccw. <paramref name="rotations"/>
    /// is updated with the rotations that crossing into other base cells adds.
    /// </summary>
    public static Step Neighbor(ulong origin, int direction, ref int rotations, out ulong neighbor)
    {
        neighbor = 0;
        var current = origin;
        rotations %= 6;
        for (var i = 0; i < rotations; i++)
        {
            direction = CellIndex.RotateDigit60Ccw(direction);
        }

        var newRotations = 0;
        var oldBaseCell = CellIndex.BaseCell(current);
        if (oldBaseCell >= CellIndex.BaseCellCount)
        {
            return Step.Failed;
        }

        var oldLeadingDigit = CellIndex.LeadingNonZeroDigit(current);

        // Carry the move up the digits until it is absorbed, or reaches the base cell.
        var r = CellIndex.Resolution(current) - 1;
        while (true)
        {
            if (r == -1)
            {
                var slot = (oldBaseCell * 7) + direction;
                int newBaseCell = Tables.BaseCellNeighbors[slot];
                newRotations = Tables.BaseCellNeighborRotations[slot];
                if (newBaseCell == 127)
                {
                    // The pentagon's deleted k vertex: this edge borders the ik neighbour instead.
                    slot = (oldBaseCell * 7) + 5;
                    newBaseCell = Tables.BaseCellNeighbors[slot];
                    newRotations = Tables.BaseCellNeighborRotations[slot];
                    current = CellIndex.Rotate60Ccw(current);
                    rotations++;
                }

                current = (current & ~(127UL << 45)) | ((ulong)newBaseCell << 45);
                break;
            }

            var oldDigit = CellIndex.Digit(current, r + 1);
            if (oldDigit == 7)
            {
                return Step.Failed;
            }

            int nextDirection;
            if (Faces.IsClassIII(r + 1))
            {
                current = CellIndex.SetDigit(current, r + 1, Tables.NewDigitClassII[(oldDigit * 7) + direction]);
                nextDirection = Tables.NewAdjustmentClassII[(oldDigit * 7) + direction];
            }
            else
            {
                current = CellIndex.SetDigit(current, r + 1, Tables.NewDigitClassIII[(oldDigit * 7) + direction]);
                nextDirection = Tables.NewAdjustmentClassIII[(oldDigit * 7) + direction];
            }

            if (nextDirection == 0)
            {
                break;
            }

            direction = nextDirection;
            r--;
        }

        var baseCell = CellIndex.BaseCell(current);
        if (CellIndex.IsBaseCellPentagon(baseCell))
        {
            var alreadyAdjustedK = false;

            // Force rotation out of the missing k subsequence.
            if (CellIndex.LeadingNonZeroDigit(current) == 1)
            {
                if (oldBaseCell != baseCell)
                {
                    // Entered the pentagon's deleted subsequence from another base cell.
                    var fromFace = Tables.BaseCellData[oldBaseCell * 7];
                    current = CellIndex.BaseCellIsCwOffset(baseCell, fromFace) ? CellIndex.Rotate60Cw(current) : CellIndex.Rotate60Ccw(current);
                    alreadyAdjustedK = true;
                }
                else
                {
                    // Entered it from within the same pentagon base cell.
                    switch (oldLeadingDigit)
                    {
                        case 0:
                            return Step.Pentagon;
                        case 3:
                            current = CellIndex.Rotate60Ccw(current);
                            rotations++;
                            break;
                        case 5:
                            current = CellIndex.Rotate60Cw(current);
                            rotations += 5;
                            break;
                        default:
                            return Step.Failed;
                    }
                }
            }

            for (var i = 0; i < newRotations; i++)
            {
                current = CellIndex.RotatePentagon60Ccw(current);
            }

            // The edges of pentagon base cells are oriented differently.
            if (oldBaseCell != baseCell)
            {
                if (CellIndex.IsPolarPentagon(baseCell))
                {
                    if (oldBaseCell != 118 && oldBaseCell != 8 && CellIndex.LeadingNonZeroDigit(current) != 3)
                    {
                        rotations++;
                    }
                }
                else if (CellIndex.LeadingNonZeroDigit(current) == 5 && !alreadyAdjustedK)
                {
                    // Distortion of the 5 neighbour by the deleted k subsequence.
                    rotations++;
                }
            }
        }
        else
        {
            for (var i = 0; i < newRotations; i++)
            {
                current = CellIndex.Rotate60Ccw(current);
            }
        }

        rotations = (rotations + newRotations) % 6;
        neighbor = current;
        return Step.Ok;
    }

    /// <summary>All cells within grid distance k, by breadth-first search over neighbours (correct around pentagons).</summary>
    public static ulong[] Disk(ulong origin, int k)
    {
        var seen = new HashSet<ulong> { origin };
        var frontier = new List<ulong> { origin };
        var next = new List<ulong>();
        for (var distance = 1; distance <= k && frontier.Count > 0; distance++)
        {
            foreach (var cell in frontier)
            {
                foreach (var direction in Directions)
                {
                    var rotations = 0;
                    var step = Neighbor(cell, direction, ref rotations, out var neighbor);
                    if (step == Step.Ok && seen.Add(neighbor))
                    {
                        next.Add(neighbor);
                    }
                }
            }

            (frontier, next) = (next, frontier);
            next.Clear();
        }

        var result = new ulong[seen.Count];
        seen.CopyTo(result);
        return result;
    }
}

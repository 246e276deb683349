using Floe.H3;

namespace Floe.H3.Tests;

public class HierarchyTests
{
    [Fact]
    public void Parents_and_centre_children_match_h3js()
    {
        var cells = Samples.RandomCells(new Random(99), 1500);
        cells.AddRange(Samples.Pentagons(9));
        var parentCalls = new List<(ulong Cell, int Res)>();
        var childCalls = new List<(ulong Cell, int Res)>();
        foreach (var cell in cells)
        {
            var res = H3.GetResolution(cell);
            for (var r = 0; r <= res; r++)
            {
                parentCalls.Add((cell, r));
            }

            for (var r = res; r <= 15; r += 2)
            {
                childCalls.Add((cell, r));
            }
        }

        var results = H3Js.Run(
            ("cellToParent", parentCalls.Select(c => new object[] { H3.ToHex(c.Cell), c.Res })),
            ("cellToCenterChild", childCalls.Select(c => new object[] { H3.ToHex(c.Cell), c.Res })));
        for (var i = 0; i < parentCalls.Count; i++)
        {
            Assert.Equal(H3Js.Cell(results[0][i]), H3.CellToParent(parentCalls[i].Cell, parentCalls[i].Res));
        }

        for (var i = 0; i < childCalls.Count; i++)
        {
            Assert.Equal(H3Js.Cell(results[1][i]), H3.CellToCenterChild(childCalls[i].Cell, childCalls[i].Res));
        }
    }

    [Fact]
    public void Children_ranges_and_sizes_match_h3js()
    {
        var random = new Random(5150);
        var calls = new List<(ulong Cell, int Res)>();
        foreach (var cell in Samples.RandomCells(random, 150, 0, 12))
        {
            calls.Add((cell, H3.GetResolution(cell) + random.Next(4)));
        }

        foreach (var res in new[] { 0, 1, 2, 7, 12 })
        {
            foreach (var pentagon in Samples.Pentagons(res))
            {
                for (var depth = 0; depth <= 3; depth++)
                {
                    calls.Add((pentagon, res + depth));
                }
            }
        }

        // Hexagons inside pentagon base cells: only the pentagon itself skips the k branch.
        foreach (var pentagon in Samples.Pentagons(3))
        {
            var hexagon = H3.CellToChildren(pentagon, 4).Last();
            calls.Add((hexagon, 6));
        }

        var results = H3Js.Run(
            ("cellToChildren", calls.Select(c => new object[] { H3.ToHex(c.Cell), c.Res })),
            ("cellToChildrenSize", calls.Select(c => new object[] { H3.ToHex(c.Cell), c.Res })));
        for (var i = 0; i < calls.Count; i++)
        {
            var (cell, res) = calls[i];
            var expected = H3Js.Cells(results[0][i]);
            var children = H3.CellToChildren(cell, res).ToList();
            Assert.Equal(expected, [.. children]);
            Assert.Equal(expected.Count, children.Count);
            Assert.True(children.SequenceEqual(children.Order()), $"children of {H3.ToHex(cell)} are not ascending");
            Assert.Equal(results[1][i].GetInt64(), H3.CellToChildrenSize(cell, res));
            Assert.Equal(expected.Count, H3.CellToChildrenSize(cell, res));

            // The range is tight: both ends are children, and every child is within it.
            var (first, last) = H3.ChildRange(cell, res);
            Assert.Contains(first, expected);
            Assert.Contains(last, expected);
            Assert.All(expected, c => Assert.InRange(c, first, last));
            Assert.Equal(H3.CellToCenterChild(cell, res), first);
        }
    }

    [Fact]
    public void Child_ranges_nest_for_ancestors_and_are_disjoint_otherwise()
    {
        var random = new Random(3);
        var cells = Samples.RandomCells(random, 200, 0, 8);
        cells.AddRange(Samples.Pentagons(4));
        cells.AddRange(cells.Take(100).Select(c => H3.CellToParent(c, random.Next(H3.GetResolution(c) + 1))).ToList());
        foreach (var a in cells)
        {
            foreach (var b in cells)
            {
                if (H3.GetResolution(a) > H3.GetResolution(b))
                {
                    continue;
                }

                var (aFirst, aLast) = H3.ChildRange(a, 12);
                var (bFirst, bLast) = H3.ChildRange(b, 12);
                if (H3.CellToParent(b, H3.GetResolution(a)) == a)
                {
                    Assert.True(aFirst <= bFirst && bLast <= aLast, "a descendant's range is inside its ancestor's");
                }
                else
                {
                    Assert.True(bLast < aFirst || bFirst > aLast, "unrelated cells have disjoint ranges");
                }
            }
        }
    }
}

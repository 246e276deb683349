using Floe.H3;

namespace Floe.H3.Tests;

public class PolygonTests
{
    /// <summary>Rings of [lat, lng] pairs, outer first, as h3-js takes them.</summary>
    public static TheoryData<string, double[][][], int> Polygons => new()
    {
        { "small", [[[37.72, -122.50], [37.82, -122.50], [37.82, -122.38], [37.72, -122.38]]], 7 },
        { "with a hole", [[[0, 0], [2, 0], [2, 2], [0, 2]], [[0.6, 0.6], [1.4, 0.6], [1.4, 1.4], [0.6, 1.4]]], 7 },
        { "crossing the antimeridian", [[[-18, 178.5], [-16, 179.5], [-15.5, -179], [-17.5, -178.5], [-19, -179.8]]], 7 },
        { "around the pentagon near Norway", [[[63.5, 9], [66, 9], [66, 12], [63.5, 12]]], 7 },
        { "concave with two holes", [[[-40, 140], [-30, 140], [-35, 145], [-30, 150], [-40, 150]], [[-38, 142], [-36, 142], [-36, 143], [-38, 143]], [[-38, 147], [-37, 147.5], [-38, 148]]], 5 },
        { "continental", [[[35, -10], [60, -10], [60, 30], [35, 30]]], 4 },
    };

    [Theory]
    [MemberData(nameof(Polygons))]
    public void PolygonToCells_matches_h3js(string name, double[][][] rings, int maxResolution)
    {
        var outer = ToLatLngs(rings[0]);
        var holes = rings.Skip(1).Select(r => (IReadOnlyList<LatLng>)ToLatLngs(r)).ToList();
        var resolutions = Enumerable.Range(0, maxResolution + 1).ToList();
        var expected = H3Js.Call("polygonToCells", resolutions.Select(r => new object[] { rings, r }));
        var total = 0;
        foreach (var res in resolutions)
        {
            var cells = H3.PolygonToCells(outer, holes, res);
            Assert.True(H3Js.Cells(expected[res]).SetEquals(cells), $"{name} at res {res}: {cells.Length} cells, h3-js {expected[res].GetArrayLength()}");
            Assert.True(cells.SequenceEqual(cells.Order().Distinct()), "ascending without duplicates");
            total += cells.Length;
        }

        Assert.True(total > 20, $"{name}: only {total} cells over all resolutions");
    }

    [Fact]
    public void The_pentagon_polygon_contains_pentagons()
    {
        var rings = Polygons.First(p => (string)p[0] == "around the pentagon near Norway");
        var outer = ToLatLngs(((double[][][])rings[1])[0]);
        for (var res = 0; res <= 7; res++)
        {
            Assert.Contains(H3.PolygonToCells(outer, null, res), H3.IsPentagon);
        }
    }

    [Theory]
    [InlineData(40, -10, 50, 5, 5)]
    [InlineData(51.2, -0.5, 51.8, 0.4, 7)]
    [InlineData(-60, -80, -20, -30, 4)]
    [InlineData(-10, 175, 10, -175, 5)]
    [InlineData(64.5, 170, 66.5, -170, 6)]
    [InlineData(-1.5, 179, 0.5, -179.5, 7)]
    [InlineData(-30, 100, 30, -100, 2)]
    public void BoxToCells_matches_h3js(double south, double west, double north, double east, int maxResolution)
    {
        var resolutions = Enumerable.Range(0, maxResolution + 1).ToList();
        var crosses = west > east;
        var loops = crosses
            ? new[] { Box(south, west, north, 180), Box(south, -180, north, east) }
            : [Box(south, west, north, east)];
        var requests = loops.Select(loop => ("polygonToCells", resolutions.Select(r => new object[] { loop, r }))).ToList();

        // h3-js also takes the box as one ring, reading its >180° edges as an antimeridian crossing.
        if (crosses)
        {
            requests.Add(("polygonToCells", resolutions.Select(r => new object[] { Box(south, west, north, east), r })));
        }

        var results = H3Js.Run([.. requests]);
        foreach (var res in resolutions)
        {
            var expected = new HashSet<ulong>();
            for (var l = 0; l < loops.Length; l++)
            {
                expected.UnionWith(H3Js.Cells(results[l][res]));
            }

            var cells = H3.BoxToCells(south, west, north, east, res);
            Assert.True(expected.SetEquals(cells), $"box at res {res}: {cells.Length} cells, h3-js {expected.Count}");
            Assert.True(cells.SequenceEqual(cells.Order().Distinct()), "ascending without duplicates");
            if (crosses)
            {
                Assert.True(H3Js.Cells(results[^1][res]).SetEquals(expected), "h3-js single ring vs split rings");
            }
        }
    }

    [Fact]
    public void BoxToCells_is_cells_with_centres_in_the_box()
    {
        // Independent of h3-js: every returned centre is in the box, and every cell of a sample of
        // points in the box whose centre is in the box is returned.
        var random = new Random(31337);
        foreach (var (south, west, north, east, res) in new[] { (10.0, 20.0, 14.0, 26.0, 5), (-5.0, 178.0, -1.0, -177.0, 5), (80.0, -180.0, 90.0, 180.0, 3) })
        {
            var cells = H3.BoxToCells(south, west, north, east, res).ToHashSet();
            Assert.NotEmpty(cells);
            foreach (var cell in cells)
            {
                var c = H3.CellToLatLng(cell);
                Assert.True(InBox(c, south, west, north, east), $"{H3.ToHex(cell)} centre {c} outside");
            }

            for (var i = 0; i < 3000; i++)
            {
                var lat = south + ((north - south) * random.NextDouble());
                var lng = west + (((east - west + (west > east ? 360 : 0)) * random.NextDouble()));
                var cell = H3.LatLngToCell(lat, lng, res);
                if (InBox(H3.CellToLatLng(cell), south, west, north, east))
                {
                    Assert.Contains(cell, cells);
                }
            }
        }
    }

    [Fact]
    public void A_whole_world_box_has_every_cell()
    {
        Assert.Equal(2 + (120 * 49), H3.BoxToCells(-90, -180, 90, 180, 2).Length);
        Assert.Equal(122, H3.BoxToCells(-90, -180, 90, 180, 0).Length);
    }

    [Fact]
    public void Degenerate_inputs_give_no_cells()
    {
        Assert.Empty(H3.BoxToCells(10, 20, 10, 30, 5));
        Assert.Empty(H3.BoxToCells(10, 20, 12, 20, 5));
        Assert.Empty(H3.PolygonToCells([], null, 5));
        Assert.Empty(H3.PolygonToCells([new(1, 1), new(2, 2)], null, 5));
    }

    [Fact]
    public void Descendant_centres_stay_within_the_bound_the_fill_relies_on()
    {
        // Polyfill treats a cell as covering a cap of DescendantRadiusFactor × its centre-to-vertex
        // distance; check that generously holds, with all base cells and pentagons included.
        var cells = Samples.BaseCells().ToList();
        cells.AddRange(Samples.Pentagons(3));
        cells.AddRange(Samples.RandomCells(new Random(9), 200, 1, 10));
        var worst = 0.0;
        foreach (var cell in cells)
        {
            var center = Vector(H3.CellToLatLng(cell));
            var vertexDistance = H3.CellToBoundary(cell).Max(v => Angle(center, Vector(v)));
            var res = H3.GetResolution(cell);
            foreach (var child in H3.CellToChildren(cell, res + (res == 0 ? 4 : 3)))
            {
                worst = Math.Max(worst, Angle(center, Vector(H3.CellToLatLng(child))) / vertexDistance);
            }
        }

        Assert.True(worst < 1.1, $"worst ratio {worst}");
        Assert.True(worst * 1.3 < Polyfill.DescendantRadiusFactor);
    }

    private static double[][] Box(double south, double west, double north, double east) =>
        [[south, west], [north, west], [north, east], [south, east]];

    private static List<LatLng> ToLatLngs(double[][] ring) => [.. ring.Select(p => new LatLng(p[0], p[1]))];

    private static bool InBox(LatLng p, double south, double west, double north, double east) =>
        p.Lat >= south && p.Lat <= north && (west <= east ? p.Lng >= west && p.Lng <= east : p.Lng >= west || p.Lng <= east);

    private static (double X, double Y, double Z) Vector(LatLng p)
    {
        var lat = p.Lat * Math.PI / 180;
        var lng = p.Lng * Math.PI / 180;
        return (Math.Cos(lat) * Math.Cos(lng), Math.Cos(lat) * Math.Sin(lng), Math.Sin(lat));
    }

    private static double Angle((double X, double Y, double Z) a, (double X, double Y, double Z) b)
    {
        var (dx, dy, dz) = (a.X - b.X, a.Y - b.Y, a.Z - b.Z);
        return 2 * Math.Asin(Math.Sqrt((dx * dx) + (dy * dy) + (dz * dz)) / 2);
    }
}

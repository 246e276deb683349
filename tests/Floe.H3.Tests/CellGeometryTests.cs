using Floe.H3;

namespace Floe.H3.Tests;

public class CellGeometryTests
{
    private const double Tolerance = 1e-9;

    [Fact]
    public void Centres_and_boundaries_match_h3js()
    {
        var random = new Random(424242);
        var cells = Samples.RandomCells(random, 4000);
        cells.AddRange(Samples.BaseCells());
        for (var res = 0; res <= 15; res++)
        {
            foreach (var pentagon in Samples.Pentagons(res))
            {
                cells.Add(pentagon);

                // Pentagon neighbours are the most distorted hexagons.
                if (res <= 8)
                {
                    cells.AddRange(H3.GridDisk(pentagon, 2));
                }
            }
        }

        // Class III cells straddling icosahedron edges get extra (distortion) vertices.
        foreach (var res in new[] { 1, 3, 5, 7, 9, 11, 13, 15 })
        {
            foreach (var baseCell in Samples.BaseCells())
            {
                foreach (var vertex in H3.CellToBoundary(baseCell))
                {
                    cells.Add(H3.LatLngToCell(vertex.Lat, vertex.Lng, res));
                }
            }
        }

        cells = [.. cells.Distinct()];
        var results = H3Js.Run(("cellToLatLng", cells.Select(Samples.Hex)), ("cellToBoundary", cells.Select(Samples.Hex)));
        var distortedCells = 0;
        for (var i = 0; i < cells.Count; i++)
        {
            var hex = H3.ToHex(cells[i]);
            var center = H3.CellToLatLng(cells[i]);
            AssertClose(results[0][i][0].GetDouble(), results[0][i][1].GetDouble(), center, $"{hex} centre");

            var boundary = H3.CellToBoundary(cells[i]);
            var expected = results[1][i];
            Assert.True(expected.GetArrayLength() == boundary.Length, $"{hex}: {boundary.Length} vertices, h3-js has {expected.GetArrayLength()}");
            for (var v = 0; v < boundary.Length; v++)
            {
                AssertClose(expected[v][0].GetDouble(), expected[v][1].GetDouble(), boundary[v], $"{hex} vertex {v}");
            }

            if (boundary.Length > (H3.IsPentagon(cells[i]) ? 5 : 6))
            {
                distortedCells++;
            }
        }

        Assert.True(distortedCells > 100, $"only {distortedCells} cells with distortion vertices");
    }

    [Fact]
    public void Pentagons_match_h3js_getPentagons()
    {
        var expected = H3Js.Call("getPentagons", Enumerable.Range(0, 16).Select(r => new object[] { r }));
        for (var res = 0; res <= 15; res++)
        {
            Assert.Equal(H3Js.Cells(expected[res]), [.. Samples.Pentagons(res)]);
            Assert.All(Samples.Pentagons(res), p => Assert.True(H3.IsPentagon(p)));
        }
    }

    private static void AssertClose(double lat, double lng, LatLng actual, string what)
    {
        var dLng = Math.Abs(actual.Lng - lng);
        dLng = Math.Min(dLng, Math.Abs(dLng - 360));
        Assert.True(
            Math.Abs(actual.Lat - lat) <= Tolerance && dLng <= Tolerance,
            $"{what}: ({actual.Lat:R}, {actual.Lng:R}) vs h3-js ({lat:R}, {lng:R})");
    }
}

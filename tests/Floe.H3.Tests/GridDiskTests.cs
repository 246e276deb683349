using Floe.H3;

namespace Floe.H3.Tests;

public class GridDiskTests
{
    [Fact]
    public void Disks_match_h3js_around_random_cells_and_pentagons()
    {
        var random = new Random(8675309);
        var origins = Samples.RandomCells(random, 300);
        for (var res = 0; res <= 15; res += res < 6 ? 1 : 3)
        {
            foreach (var pentagon in Samples.Pentagons(res))
            {
                origins.Add(pentagon);

                // Cells next to and near pentagons, where the unsafe ring walk fails over.
                if (res >= 2)
                {
                    origins.Add(H3.GridDisk(pentagon, 1).First(c => c != pentagon));
                    origins.Add(H3.GridDisk(pentagon, 2).Max());
                }
            }
        }

        var calls = origins.SelectMany(o => Enumerable.Range(0, 4).Select(k => (Origin: o, K: k))).ToList();
        var expected = H3Js.Call("gridDisk", calls.Select(c => new object[] { H3.ToHex(c.Origin), c.K }));
        for (var i = 0; i < calls.Count; i++)
        {
            var (origin, k) = calls[i];
            var disk = H3.GridDisk(origin, k);
            Assert.True(H3Js.Cells(expected[i]).SetEquals(disk), $"gridDisk({H3.ToHex(origin)}, {k})");
            Assert.Equal(disk.Length, disk.Distinct().Count());
        }
    }

    [Fact]
    public void A_large_disk_has_the_hexagonal_number_of_cells_away_from_pentagons()
    {
        var origin = H3.LatLngToCell(48.85, 2.35, 9);
        Assert.Equal((3 * 30 * 31) + 1, H3.GridDisk(origin, 30).Length);
    }
}

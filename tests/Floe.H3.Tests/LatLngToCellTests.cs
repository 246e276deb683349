using System.Globalization;
using Floe.H3;

namespace Floe.H3.Tests;

public class LatLngToCellTests
{
    [Fact]
    public void Matches_h3js_cell_for_cell_on_a_hundred_thousand_points()
    {
        var random = new Random(20240601);
        var points = new List<(double Lat, double Lng, int Resolution)>();

        // Uniform over the sphere, every resolution.
        for (var i = 0; i < 70_000; i++)
        {
            var (lat, lng) = Samples.Point(random);
            points.Add((lat, lng, i % 16));
        }

        // At and near both poles, including the antimeridian there.
        foreach (var lat in new[] { 90.0, -90.0, 89.9999999, -89.9999999, 89.99, -89.99, 88.5, -88.5 })
        {
            foreach (var lng in new[] { -180.0, -179.9999, -90.0, 0.0, 37.5, 179.9999, 180.0, 12.345678 })
            {
                for (var res = 0; res <= 15; res++)
                {
                    points.Add((lat, lng, res));
                }
            }
        }

        // On and near the antimeridian.
        foreach (var lng in new[] { 180.0, -180.0, 179.9999, -179.9999, 179.999999999, -179.999999999, 179.5, -179.5 })
        {
            for (var i = 0; i < 1000; i++)
            {
                points.Add((Samples.Point(random).Lat, lng, random.Next(16)));
            }
        }

        // At and around the pentagon centres of every resolution.
        for (var pentRes = 0; pentRes <= 15; pentRes++)
        {
            foreach (var pentagon in Samples.Pentagons(pentRes))
            {
                var center = H3.CellToLatLng(pentagon);
                for (var res = 0; res <= 15; res++)
                {
                    points.Add((center.Lat, center.Lng, res));
                }

                for (var i = 0; i < 40; i++)
                {
                    var distance = Math.Pow(10, -9 + (6 * random.NextDouble()));
                    var angle = random.NextDouble() * 2 * Math.PI;
                    points.Add((center.Lat + (distance * Math.Sin(angle)), center.Lng + (distance * Math.Cos(angle)), random.Next(16)));
                }
            }
        }

        // Just inside and outside the base cell edges: points along each edge, moved towards or away
        // from the cell centre by 1e-9 to 1e-5 degrees (points exactly on an edge are floating-point
        // ties, decided by the last bit of the platform's sin/cos).
        foreach (var baseCell in Samples.BaseCells())
        {
            var center = H3.CellToLatLng(baseCell);
            var boundary = H3.CellToBoundary(baseCell);
            for (var v = 0; v < boundary.Length; v++)
            {
                var a = boundary[v];
                var b = boundary[(v + 1) % boundary.Length];
                for (var i = 0; i <= 20; i++)
                {
                    var on = Slerp(a, b, i / 20.0);
                    var toCenter = (Lat: center.Lat - on.Lat, Lng: WrapDelta(center.Lng - on.Lng));
                    var length = Math.Sqrt((toCenter.Lat * toCenter.Lat) + (toCenter.Lng * toCenter.Lng));
                    var offset = Math.Pow(10, -9 + (4 * random.NextDouble())) * (random.Next(2) == 0 ? -1 : 1) / length;
                    var lng = on.Lng + (toCenter.Lng * offset);
                    points.Add((Math.Clamp(on.Lat + (toCenter.Lat * offset), -90, 90), lng, random.Next(16)));
                }
            }
        }

        Assert.True(points.Count >= 100_000, $"only {points.Count} points");

        var expected = H3Js.Call("latLngToCell", points.Select(p => new object[] { p.Lat, p.Lng, p.Resolution }));
        var mismatches = new List<string>();
        for (var i = 0; i < points.Count; i++)
        {
            var (lat, lng, res) = points[i];
            var actual = H3.ToHex(H3.LatLngToCell(lat, lng, res));
            var want = expected[i].GetString();
            if (actual != want)
            {
                mismatches.Add(string.Create(CultureInfo.InvariantCulture, $"({lat:R}, {lng:R}) res {res}: {actual} != {want}"));
            }
        }

        Assert.True(mismatches.Count == 0, $"{mismatches.Count} of {points.Count} differ, e.g.\n{string.Join('\n', mismatches.Take(20))}");
    }

    [Fact]
    public void Longitudes_wrap()
    {
        var random = new Random(7);
        for (var i = 0; i < 1000; i++)
        {
            var (lat, lng) = Samples.Point(random);
            var res = random.Next(10);
            var cell = H3.LatLngToCell(lat, lng, res);
            var wrapped = H3.LatLngToCell(lat, lng + 360, res);

            // lng + 360 rounds differently from lng, so only nearly-on-edge points may move.
            Assert.True(cell == wrapped || H3.GridDisk(cell, 1).Contains(wrapped), $"{lat}, {lng}");
        }

        Assert.Equal(H3.LatLngToCell(10, 20, 5), H3.LatLngToCell(10, 20 + 3600, 5));
    }

    [Fact]
    public void Cells_contain_their_own_centres()
    {
        foreach (var cell in Samples.RandomCells(new Random(11), 2000))
        {
            var center = H3.CellToLatLng(cell);
            Assert.Equal(cell, H3.LatLngToCell(center.Lat, center.Lng, H3.GetResolution(cell)));
        }
    }

    private static LatLng Slerp(LatLng a, LatLng b, double t)
    {
        var (ax, ay, az) = ToVector(a);
        var (bx, by, bz) = ToVector(b);
        var omega = Math.Acos(Math.Clamp((ax * bx) + (ay * by) + (az * bz), -1, 1));
        var wa = Math.Sin((1 - t) * omega) / Math.Sin(omega);
        var wb = Math.Sin(t * omega) / Math.Sin(omega);
        var (x, y, z) = ((wa * ax) + (wb * bx), (wa * ay) + (wb * by), (wa * az) + (wb * bz));
        return new LatLng(Math.Atan2(z, Math.Sqrt((x * x) + (y * y))) * 180 / Math.PI, Math.Atan2(y, x) * 180 / Math.PI);
    }

    private static (double X, double Y, double Z) ToVector(LatLng p)
    {
        var lat = p.Lat * Math.PI / 180;
        var lng = p.Lng * Math.PI / 180;
        return (Math.Cos(lat) * Math.Cos(lng), Math.Cos(lat) * Math.Sin(lng), Math.Sin(lat));
    }

    private static double WrapDelta(double degrees) => degrees > 180 ? degrees - 360 : degrees < -180 ? degrees + 360 : degrees;
}

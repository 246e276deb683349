using Floe.H3;

namespace Floe.H3.Tests;

public class IndexTests
{
    [Fact]
    public void Validity_resolution_base_cell_and_pentagons_match_h3js()
    {
        var random = new Random(1234);
        var valid = Samples.RandomCells(random, 500);
        valid.AddRange(Samples.BaseCells());
        for (var res = 0; res <= 15; res++)
        {
            valid.AddRange(Samples.Pentagons(res));
        }

        var invalid = new List<ulong> { 0, ulong.MaxValue, 1UL << 63 };
        foreach (var cell in valid.Take(400))
        {
            var res = H3.GetResolution(cell);
            invalid.Add(cell | (1UL << 63));                                      // high bit set
            invalid.Add((cell & ~(15UL << 59)) | (2UL << 59));                    // directed edge mode
            invalid.Add((cell & ~(15UL << 59)) | ((ulong)random.Next(3, 16) << 59)); // other modes
            invalid.Add(cell & ~(15UL << 59));                                    // mode 0
            invalid.Add(cell | (1UL << (56 + random.Next(3))));                   // reserved bits
            invalid.Add((cell & ~(127UL << 45)) | ((ulong)random.Next(122, 128) << 45)); // no such base cell
            if (res > 0)
            {
                invalid.Add(cell | (7UL << ((15 - random.Next(1, res + 1)) * 3))); // digit 7 in a used position
                invalid.Add((cell & ~(15UL << 52)) | ((ulong)(res - 1) << 52));    // resolution too small for the digits
            }

            if (res < 15)
            {
                invalid.Add(cell & ~(1UL << ((15 - random.Next(res + 1, 16)) * 3))); // unused digit not 7
                invalid.Add((cell & ~(15UL << 52)) | ((ulong)(res + 1) << 52));      // resolution past the digits
            }
        }

        // Pentagons with the deleted k subsequence (first non-zero digit 1).
        for (var res = 1; res <= 15; res++)
        {
            foreach (var pentagon in Samples.Pentagons(res))
            {
                var at = random.Next(1, res + 1);
                invalid.Add(pentagon | (1UL << ((15 - at) * 3)));
            }
        }

        var all = valid.Concat(invalid).ToList();
        var results = H3Js.Run(
            ("isValidCell", all.Select(Samples.Hex)),
            ("getResolution", all.Select(Samples.Hex)),
            ("getBaseCellNumber", all.Select(Samples.Hex)),
            ("isPentagon", valid.Select(Samples.Hex)));
        for (var i = 0; i < all.Count; i++)
        {
            var hex = H3.ToHex(all[i]);
            Assert.True(results[0][i].GetBoolean() == H3.IsValidCell(all[i]), $"isValidCell({hex})");
            Assert.True(results[1][i].GetInt32() == H3.GetResolution(all[i]), $"getResolution({hex})");
            Assert.True(results[2][i].GetInt32() == H3.GetBaseCellNumber(all[i]), $"getBaseCellNumber({hex})");
        }

        for (var i = 0; i < valid.Count; i++)
        {
            Assert.True(H3.IsValidCell(valid[i]));
            Assert.Equal(results[3][i].GetBoolean(), H3.IsPentagon(valid[i]));
        }

        Assert.Equal(invalid.Count, invalid.Count(c => !H3.IsValidCell(c)));
    }

    [Fact]
    public void Hex_strings_round_trip_like_h3js()
    {
        var cells = Samples.RandomCells(new Random(77), 300);
        var expected = H3Js.Call("latLngToCell", cells.Select(c => new object[] { H3.CellToLatLng(c).Lat, H3.CellToLatLng(c).Lng, H3.GetResolution(c) }));
        for (var i = 0; i < cells.Count; i++)
        {
            Assert.Equal(expected[i].GetString(), H3.ToHex(cells[i]));
            Assert.Equal(cells[i], H3.ParseHex(H3.ToHex(cells[i])));
            Assert.Equal(cells[i], H3.ParseHex(H3.ToHex(cells[i]).ToUpperInvariant()));
        }

        Assert.Equal("8928308280fffff", H3.ToHex(0x8928308280fffff));
        Assert.Equal("0", H3.ToHex(0));
        Assert.Equal(ulong.MaxValue, H3.ParseHex("ffffffffffffffff"));
        Assert.Equal(0x1UL, H3.ParseHex("1"));
    }

    [Theory]
    [InlineData("")]
    [InlineData("xyz")]
    [InlineData("0x8928308280fffff")]
    [InlineData("8928308280fffff ")]
    [InlineData("-1")]
    [InlineData("10000000000000000")]
    public void Malformed_hex_is_rejected(string text)
    {
        Assert.False(H3.TryParseHex(text, out _));
        var error = Assert.Throws<FormatException>(() => H3.ParseHex(text));
        Assert.Contains($"'{text}'", error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Edge_lengths_are_the_published_table()
    {
        Assert.Equal(1281.256011, H3.AverageHexagonEdgeLengthKm(0));
        Assert.Equal(1.406475763, H3.AverageHexagonEdgeLengthKm(7));
        Assert.Equal(0.000584169, H3.AverageHexagonEdgeLengthKm(15));
    }
}

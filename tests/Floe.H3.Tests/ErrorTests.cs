using Floe.H3;

namespace Floe.H3.Tests;

public class ErrorTests
{
    private static readonly ulong Cell = H3.LatLngToCell(51.5, -0.1, 6);

    [Theory]
    [InlineData(16)]
    [InlineData(-1)]
    public void Resolution_out_of_range_names_parameter_and_value(int resolution)
    {
        var error = Assert.Throws<ArgumentOutOfRangeException>(() => H3.LatLngToCell(0, 0, resolution));
        Assert.Equal("resolution", error.ParamName);
        Assert.StartsWith($"resolution {resolution} is outside 0..15", error.Message, StringComparison.Ordinal);

        Assert.Throws<ArgumentOutOfRangeException>(() => H3.AverageHexagonEdgeLengthKm(resolution));
        Assert.Throws<ArgumentOutOfRangeException>(() => H3.BoxToCells(0, 0, 1, 1, resolution));
        Assert.Throws<ArgumentOutOfRangeException>(() => H3.PolygonToCells([new(0, 0), new(1, 0), new(1, 1)], null, resolution));
        Assert.Throws<ArgumentOutOfRangeException>(() => H3.CellToParent(Cell, resolution));
        Assert.Throws<ArgumentOutOfRangeException>(() => H3.CellToCenterChild(Cell, resolution));
    }

    [Fact]
    public void Bad_coordinates_name_the_value()
    {
        var nan = Assert.Throws<ArgumentException>(() => H3.LatLngToCell(double.NaN, 0, 5));
        Assert.StartsWith("latitude NaN is not a number", nan.Message, StringComparison.Ordinal);
        Assert.Equal("latDegrees", nan.ParamName);

        var high = Assert.Throws<ArgumentOutOfRangeException>(() => H3.LatLngToCell(90.5, 0, 5));
        Assert.StartsWith("latitude 90.5 is outside -90..90", high.Message, StringComparison.Ordinal);

        var lng = Assert.Throws<ArgumentException>(() => H3.LatLngToCell(0, double.PositiveInfinity, 5));
        Assert.Contains("longitude", lng.Message, StringComparison.Ordinal);
        Assert.Equal("lngDegrees", lng.ParamName);
        Assert.StartsWith("longitude NaN is not a number", Assert.Throws<ArgumentException>(() => H3.LatLngToCell(0, double.NaN, 5)).Message, StringComparison.Ordinal);

        var box = Assert.Throws<ArgumentException>(() => H3.BoxToCells(10, 0, 5, 1, 3));
        Assert.Contains("south 10 is north of north 5", box.Message, StringComparison.Ordinal);
        Assert.Equal("south", Assert.Throws<ArgumentOutOfRangeException>(() => H3.BoxToCells(-91, 0, 5, 1, 3)).ParamName);

        var polygon = Assert.Throws<ArgumentException>(() => H3.PolygonToCells([new(0, 0), new(double.NaN, 1), new(1, 1)], null, 3));
        Assert.Contains("outer vertex 1", polygon.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Invalid_cells_are_named_in_hex()
    {
        const ulong invalid = 0x8928308280fffffUL | (7UL << 30);
        var error = Assert.Throws<ArgumentException>(() => H3.CellToLatLng(invalid));
        Assert.StartsWith($"cell {H3.ToHex(invalid)} is not a valid H3 cell", error.Message, StringComparison.Ordinal);
        Assert.Equal("cell", error.ParamName);

        Assert.Throws<ArgumentException>(() => H3.CellToBoundary(0));
        Assert.Throws<ArgumentException>(() => H3.CellToParent(0, 0));
        Assert.Throws<ArgumentException>(() => H3.CellToChildren(0, 3));
        Assert.Equal("origin", Assert.Throws<ArgumentException>(() => H3.GridDisk(0, 1)).ParamName);
    }

    [Fact]
    public void Resolutions_on_the_wrong_side_of_the_cell_are_rejected()
    {
        var parent = Assert.Throws<ArgumentOutOfRangeException>(() => H3.CellToParent(Cell, 7));
        Assert.StartsWith("parentResolution 7 is finer than the cell's resolution 6", parent.Message, StringComparison.Ordinal);

        var child = Assert.Throws<ArgumentOutOfRangeException>(() => H3.CellToChildren(Cell, 5));
        Assert.StartsWith("childResolution 5 is coarser than the cell's resolution 6", child.Message, StringComparison.Ordinal);
        Assert.Throws<ArgumentOutOfRangeException>(() => H3.ChildRange(Cell, 5));
        Assert.Throws<ArgumentOutOfRangeException>(() => H3.CellToChildrenSize(Cell, 5));

        var k = Assert.Throws<ArgumentOutOfRangeException>(() => H3.GridDisk(Cell, -1));
        Assert.StartsWith("k -1 is negative", k.Message, StringComparison.Ordinal);
    }
}

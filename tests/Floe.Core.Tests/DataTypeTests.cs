namespace Floe.Core.Tests;

public sealed class DataTypeTests
{
    [Theory]
    [InlineData("bool", 1, false)]
    [InlineData("int8", 1, false)]
    [InlineData("int16", 2, false)]
    [InlineData("int32", 4, false)]
    [InlineData("int64", 8, false)]
    [InlineData("uint8", 1, false)]
    [InlineData("uint16", 2, false)]
    [InlineData("uint32", 4, false)]
    [InlineData("uint64", 8, false)]
    [InlineData("float16", 2, true)]
    [InlineData("float32", 4, true)]
    [InlineData("float64", 8, true)]
    [InlineData("complex64", 8, true)]
    [InlineData("complex128", 16, true)]
    public void Parse_returns_the_zarr_type_with_its_size(string name, int size, bool isFloat)
    {
        var type = DataType.Parse(name);

        Assert.Equal(name, type.Name);
        Assert.Equal(name, type.ToString());
        Assert.Equal(size, type.Size);
        Assert.Equal(isFloat, type.IsFloat);
        Assert.Same(type, DataType.All.Single(t => t.Name == name));
    }

    [Fact]
    public void Unknown_names_throw_format_exception_naming_the_value()
    {
        var ex = Assert.Throws<FormatException>(() => DataType.Parse("float128"));

        Assert.Contains("\"float128\"", ex.Message, StringComparison.Ordinal);
        Assert.Throws<FormatException>(() => DataType.Parse("Float32"));
    }

    [Fact]
    public void Complex_types_swap_per_part_and_equality_is_by_name()
    {
        Assert.Equal(4, DataType.Complex64.ComponentSize);
        Assert.Equal(8, DataType.Complex128.ComponentSize);
        Assert.Equal(2, DataType.Int16.ComponentSize);
        Assert.True(DataType.Float32 == DataType.Parse("float32"));
        Assert.True(DataType.Float32 != DataType.Float64);
        Assert.False(DataType.Int32.Equals(null));
    }
}

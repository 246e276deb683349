using System.Buffers.Binary;
using System.Text.Json;

namespace Floe.Core.Tests;

public sealed class FillValueTests
{
    private static FillValue FromJson(DataType type, string json) => FillValue.FromJson(type, PythonOracle.Parse(json));

    [Theory]
    [InlineData("bool", "true", "01")]
    [InlineData("bool", "false", "00")]
    [InlineData("int8", "-128", "80")]
    [InlineData("int16", "-2", "feff")]
    [InlineData("int32", "305419896", "78563412")]
    [InlineData("int64", "-9223372036854775808", "0000000000000080")]
    [InlineData("uint8", "255", "ff")]
    [InlineData("uint64", "18446744073709551615", "ffffffffffffffff")]
    [InlineData("float16", "1.5", "003e")]
    [InlineData("float32", "0.1", "cdcccc3d")]
    [InlineData("float32", "-0", "00000080")]
    [InlineData("float64", "1.0000000000000002", "010000000000f03f")]
    [InlineData("float32", "\"NaN\"", "0000c07f")]
    [InlineData("float64", "\"NaN\"", "000000000000f87f")]
    [InlineData("float16", "\"NaN\"", "007e")]
    [InlineData("float32", "\"Infinity\"", "0000807f")]
    [InlineData("float64", "\"-Infinity\"", "000000000000f0ff")]
    [InlineData("float32", "\"0x7fc00001\"", "0100c07f")]
    [InlineData("float64", "\"0x7ff0000000000001\"", "010000000000f07f")]
    [InlineData("complex64", "[1.5, \"NaN\"]", "0000c03f0000c07f")]
    [InlineData("complex128", "[0, -2]", "000000000000000000000000000000c0")]
    public void Json_values_decode_to_little_endian_bytes_and_round_trip(string type, string json, string hex)
    {
        var dataType = DataType.Parse(type);

        var value = FromJson(dataType, json);
        var again = FillValue.FromJson(dataType, PythonOracle.Parse(value.ToJson().ToJsonString()));

        Assert.Equal(hex, Convert.ToHexStringLower(value.Bytes.Span));
        Assert.Equal(value, again);
        Assert.Equal(dataType, value.DataType);
    }

    [Theory]
    [InlineData("float32", "0000c07f", "\"NaN\"")]
    [InlineData("float32", "0100c07f", "\"0x7fc00001\"")]
    [InlineData("float32", "0000c0ff", "\"0xffc00000\"")]
    [InlineData("float64", "000000000000f0ff", "\"-Infinity\"")]
    [InlineData("float32", "cdcccc3d", "0.1")]
    [InlineData("float16", "663e", "1.6")]
    [InlineData("float64", "9a9999999999b93f", "0.1")]
    [InlineData("uint64", "ffffffffffffffff", "18446744073709551615")]
    [InlineData("int64", "0000000000000080", "-9223372036854775808")]
    [InlineData("bool", "01", "true")]
    [InlineData("complex64", "0000803f0000807f", "[1,\"Infinity\"]")]
    public void ToJson_writes_the_zarr_v3_form(string type, string hex, string json)
    {
        var value = FillValue.FromBytes(DataType.Parse(type), Convert.FromHexString(hex));

        Assert.Equal(json, value.ToJson().ToJsonString());
    }

    [Fact]
    public void NaNs_are_equal_when_their_bits_are()
    {
        var a = FillValue.FromDouble(DataType.Float32, double.NaN);
        var b = FromJson(DataType.Float32, "\"NaN\"");
        var payload = FromJson(DataType.Float32, "\"0x7fc00001\"");

        Assert.Equal(a, b);
        Assert.Equal(a.GetHashCode(), b.GetHashCode());
        Assert.NotEqual(a, payload);
        Assert.True(double.IsNaN(payload.ToDouble()));
        Assert.NotEqual(FillValue.Zero(DataType.Int32), FillValue.Zero(DataType.UInt32));
    }

    [Theory]
    [InlineData("int8", "128")]
    [InlineData("uint8", "-1")]
    [InlineData("uint64", "18446744073709551616")]
    [InlineData("int64", "9223372036854775808")]
    [InlineData("int32", "1.5")]
    [InlineData("int32", "\"1\"")]
    [InlineData("bool", "1")]
    [InlineData("float32", "\"nan\"")]
    [InlineData("float32", "\"0x7fc0\"")]
    [InlineData("float32", "1e39")]
    [InlineData("float64", "null")]
    [InlineData("complex64", "1.0")]
    [InlineData("complex64", "[1.0]")]
    public void Bad_json_throws_format_exception_naming_fill_value(string type, string json)
    {
        var ex = Assert.Throws<FormatException>(() => FromJson(DataType.Parse(type), json));

        Assert.Contains("fill_value", ex.Message, StringComparison.Ordinal);
        Assert.Contains(type, ex.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Integral_numbers_written_as_floats_are_accepted_for_integer_types()
    {
        Assert.Equal(1000, FromJson(DataType.Int32, "1e3").ToDouble());
        Assert.Equal(-7, FromJson(DataType.Int16, "-7.0").ToDouble());
    }

    [Fact]
    public void FromDouble_converts_exactly_or_throws()
    {
        Assert.Equal("ff7f", Convert.ToHexStringLower(FillValue.FromDouble(DataType.Int16, 32767).Bytes.Span));
        Assert.Equal(-1.0, FillValue.FromDouble(DataType.Int64, -1).ToDouble());
        Assert.Equal(4294967295.0, FillValue.FromDouble(DataType.UInt32, 4294967295).ToDouble());
        Assert.Equal(1.0, FillValue.FromDouble(DataType.Bool, 1).ToDouble());
        Assert.Equal(0.1f, (float)FillValue.FromDouble(DataType.Float32, 0.1).ToDouble());
        Assert.Equal(double.NegativeInfinity, FillValue.FromDouble(DataType.Float16, double.NegativeInfinity).ToDouble());

        Assert.Throws<ArgumentException>(() => FillValue.FromDouble(DataType.Int16, 32768));
        Assert.Throws<ArgumentException>(() => FillValue.FromDouble(DataType.UInt8, -1));
        Assert.Throws<ArgumentException>(() => FillValue.FromDouble(DataType.Int32, 0.5));
        Assert.Throws<ArgumentException>(() => FillValue.FromDouble(DataType.Int64, 9223372036854775808.0));
        Assert.Throws<ArgumentException>(() => FillValue.FromDouble(DataType.Int32, double.NaN));
        Assert.Throws<ArgumentException>(() => FillValue.FromDouble(DataType.Bool, 2));
        Assert.Throws<ArgumentException>(() => FillValue.FromDouble(DataType.Float16, 70000));
        Assert.Throws<ArgumentException>(() => FillValue.FromDouble(DataType.Float32, 1e39));
    }

    [Fact]
    public void Complex_values_have_no_single_double()
    {
        var value = FillValue.FromDouble(DataType.Complex128, 2.5);

        Assert.Equal("[2.5,0]", value.ToJson().ToJsonString());
        Assert.Throws<InvalidOperationException>(() => value.ToDouble());
    }

    [Fact]
    public void FromBytes_requires_exactly_one_element()
    {
        Assert.Throws<ArgumentException>(() => FillValue.FromBytes(DataType.Float32, new byte[3]));
        Assert.Equal(2.0, FillValue.FromBytes(DataType.Float64, BitConverter.GetBytes(2.0)).ToDouble());
    }

    [Theory]
    [InlineData("uint8", 7.0)]
    [InlineData("int16", -3.0)]
    [InlineData("float32", 1.25)]
    [InlineData("float64", -0.5)]
    [InlineData("float64", 0.0)]
    public void Fill_repeats_the_element(string type, double scalar)
    {
        var dataType = DataType.Parse(type);
        var value = FillValue.FromDouble(dataType, scalar);
        var destination = new byte[dataType.Size * 37];

        value.Fill(destination);

        for (var i = 0; i < 37; i++)
        {
            Assert.True(value.Bytes.Span.SequenceEqual(destination.AsSpan(i * dataType.Size, dataType.Size)), $"element {i}");
        }
    }

    [Fact]
    public void Fill_handles_sixteen_byte_complex_and_rejects_partial_elements()
    {
        var value = FromJson(DataType.Complex128, "[1, -1]");
        var destination = new byte[16 * 5];

        value.Fill(destination);

        for (var i = 0; i < 5; i++)
        {
            Assert.Equal(1.0, BinaryPrimitives.ReadDoubleLittleEndian(destination.AsSpan(i * 16)));
            Assert.Equal(-1.0, BinaryPrimitives.ReadDoubleLittleEndian(destination.AsSpan((i * 16) + 8)));
        }

        Assert.Throws<ArgumentException>(() => FillValue.Zero(DataType.Int32).Fill(new byte[6]));
    }

    [Fact]
    public void A_missing_json_value_is_reported_as_fill_value()
    {
        var ex = Assert.Throws<FormatException>(() => FillValue.FromJson(DataType.Int8, default));

        Assert.Contains("fill_value", ex.Message, StringComparison.Ordinal);
    }
}

using System.Buffers.Binary;
using System.Text.Json;
using System.Text.Json.Nodes;
using Floe.Tests.Shared;

namespace Floe.Core.Tests;

/// <summary>The cf_scale_offset codec against netCDF4-python's own unpacking of the same packed values.</summary>
public sealed class ScaleOffsetCodecTests
{
    // Writes packed values raw into a diskless netCDF4 file, then reads them back the default way (masked and
    // scaled) and prints both, the unpacked values as IEEE bit patterns so the comparison is exact.
    private const string Script = """
import sys, json, numpy as np, netCDF4
cases = json.loads(sys.argv[1])
out = []
rng = np.random.default_rng(7)
for i, c in enumerate(cases):
    ds = netCDF4.Dataset(f"case{i}.nc", "w", diskless=True, format="NETCDF4")
    ds.createDimension("x", 400)
    packed = np.dtype(c["packed"])
    kw = {}
    if "fill" in c: kw["fill_value"] = np.array(c["fill"], packed)
    v = ds.createVariable("v", packed, ("x",), **kw)
    attr_type = np.float32 if c["attr"] == "f4" else np.float64
    if "scale" in c: v.scale_factor = attr_type(c["scale"])
    if "offset" in c: v.add_offset = attr_type(c["offset"])
    if "missing" in c: v.missing_value = np.array(c["missing"], packed)
    if "vmin" in c: v.valid_min = np.array(c["vmin"], packed)
    if "vmax" in c: v.valid_max = np.array(c["vmax"], packed)
    info = np.iinfo(packed)
    raw = rng.integers(max(info.min, -30000), min(info.max, 30000), 400, endpoint=True).astype(packed)
    for special in c.get("specials", []):
        raw[rng.integers(0, 400, 5)] = special
    v.set_auto_maskandscale(False)
    v[:] = raw
    v.set_auto_maskandscale(True)
    read = v[:]
    dtype = read.dtype
    filled = np.ma.filled(read.astype(dtype), np.nan) if np.ma.isMaskedArray(read) else read
    bits = filled.view(np.uint32 if dtype == np.float32 else np.uint64)
    out.append({"raw": raw.astype(np.int64).tolist(), "dtype": dtype.str, "bits": [int(b) for b in bits]})
    ds.close()
print(json.dumps(out))
""";

    public static TheoryData<string, string, JsonObject> Cases() => new()
    {
        { "int16", "f8", new JsonObject { ["scale"] = 1.8e-7, ["offset"] = 0.0059, ["fill"] = -32767, ["missing"] = -32767, ["specials"] = new JsonArray(-32767) } },
        { "int16", "f4", new JsonObject { ["scale"] = 0.01f, ["offset"] = 273.15f, ["fill"] = -32768, ["specials"] = new JsonArray(-32768) } },
        { "int16", "f8", new JsonObject { ["scale"] = 0.5 } },
        { "int16", "f8", new JsonObject { ["offset"] = -12.25 } },
        { "int8", "f4", new JsonObject { ["scale"] = 0.3f, ["offset"] = 1f, ["vmin"] = -100, ["vmax"] = 100 } },
        { "uint16", "f4", new JsonObject { ["scale"] = 0.002f, ["offset"] = -5f, ["missing"] = 65535, ["specials"] = new JsonArray(65535) } },
        { "int32", "f8", new JsonObject { ["scale"] = 1e-3, ["offset"] = 100.0, ["fill"] = -999, ["specials"] = new JsonArray(-999) } },
    };

    [Theory]
    [MemberData(nameof(Cases))]
    public void Unpacks_exactly_as_netCDF4_python(string packed, string attributeType, JsonObject settings)
    {
        var request = settings.DeepClone().AsObject();
        request["packed"] = packed;
        request["attr"] = attributeType;
        var answer = OraclePython.RunJson(Script, new JsonArray(request).ToJsonString())[0];

        var unpacked = answer.GetProperty("dtype").GetString() == "<f4" ? DataType.Float32 : DataType.Float64;
        var packedType = DataType.Parse(packed);
        var config = new JsonObject { ["packed_type"] = packed };
        var mask = new JsonArray();
        foreach (var key in new[] { "fill", "missing" })
        {
            if (settings[key] is { } value)
            {
                mask.Add(value.DeepClone());
            }
        }

        if (settings["scale"] is { } scale)
        {
            config["scale_factor"] = scale.DeepClone();
        }

        if (settings["offset"] is { } offset)
        {
            config["add_offset"] = offset.DeepClone();
        }

        if (settings["vmin"] is { } vmin)
        {
            config["valid_min"] = vmin.DeepClone();
        }

        if (settings["vmax"] is { } vmax)
        {
            config["valid_max"] = vmax.DeepClone();
        }

        if (mask.Count > 0)
        {
            config["mask"] = mask;
        }

        var raw = answer.GetProperty("raw").EnumerateArray().Select(e => e.GetInt64()).ToArray();
        var stored = new byte[raw.Length * packedType.Size];
        for (var i = 0; i < raw.Length; i++)
        {
            WriteLittleEndian(stored.AsSpan(i * packedType.Size, packedType.Size), raw[i]);
        }

        var metadata = new ArrayMetadata([raw.Length], unpacked, [raw.Length], FillValue.FromDouble(unpacked, double.NaN),
            [new CodecSpec("cf_scale_offset", config), new CodecSpec("bytes", new JsonObject { ["endian"] = "little" })], null, new JsonObject());
        var decoded = CodecPipeline.Create(metadata).Decode(stored);

        var expected = answer.GetProperty("bits").EnumerateArray().Select(e => e.GetUInt64()).ToArray();
        for (var i = 0; i < raw.Length; i++)
        {
            var actual = unpacked == DataType.Float32
                ? BinaryPrimitives.ReadUInt32LittleEndian(decoded.AsSpan(i * 4))
                : BinaryPrimitives.ReadUInt64LittleEndian(decoded.AsSpan(i * 8));
            var bothNaN = unpacked == DataType.Float32
                ? float.IsNaN(BitConverter.UInt32BitsToSingle((uint)actual)) && float.IsNaN(BitConverter.UInt32BitsToSingle((uint)expected[i]))
                : double.IsNaN(BitConverter.UInt64BitsToDouble(actual)) && double.IsNaN(BitConverter.UInt64BitsToDouble(expected[i]));
            Assert.True(bothNaN || actual == expected[i], $"element {i} (packed {raw[i]}): expected bits {expected[i]:x}, got {actual:x}");
        }
    }

    [Fact]
    public void Encoding_rounds_half_to_even_and_stores_NaN_as_the_first_mask_value()
    {
        var config = new JsonObject { ["packed_type"] = "int16", ["scale_factor"] = 0.5, ["add_offset"] = 0.0, ["mask"] = new JsonArray(-32767) };
        var metadata = new ArrayMetadata([4], DataType.Float64, [4], FillValue.FromDouble(DataType.Float64, double.NaN),
            [new CodecSpec("cf_scale_offset", config), new CodecSpec("bytes", new JsonObject { ["endian"] = "big" })], null, new JsonObject());
        var pipeline = CodecPipeline.Create(metadata);
        var values = new double[] { 1.25, 1.75, double.NaN, -3.0 };

        var stored = pipeline.Encode(DoubleBytes(values));

        Assert.Equal(new short[] { 2, 4, -32767, -6 }, Enumerable.Range(0, 4).Select(i => BinaryPrimitives.ReadInt16BigEndian(stored.AsSpan(i * 2))).ToArray());
        var decoded = pipeline.Decode(stored);
        Assert.Equal(1.0, BinaryPrimitives.ReadDoubleLittleEndian(decoded));
        Assert.True(double.IsNaN(BinaryPrimitives.ReadDoubleLittleEndian(decoded.AsSpan(16))));
    }

    [Fact]
    public void A_value_outside_the_packed_range_fails_naming_the_codec()
    {
        var config = new JsonObject { ["packed_type"] = "int8", ["scale_factor"] = 1.0 };
        var metadata = new ArrayMetadata([1], DataType.Float32, [1], FillValue.FromDouble(DataType.Float32, 0),
            [new CodecSpec("cf_scale_offset", config), new CodecSpec("bytes")], null, new JsonObject());

        var ex = Assert.Throws<CodecException>(() => CodecPipeline.Create(metadata).Encode(BitConverter.GetBytes(300f)));

        Assert.Contains("cf_scale_offset", ex.Message, StringComparison.Ordinal);
    }

    [Theory]
    [InlineData("int16", "{\"packed_type\":\"int16\"}", "float32 or float64")]
    [InlineData("float32", "{\"packed_type\":\"int16\",\"scale_factor\":0}", "must not be 0")]
    [InlineData("float32", "{\"packed_type\":\"text\"}", "data type name")]
    [InlineData("float32", "{\"scale_factor\":1}", "\"packed_type\" is required")]
    [InlineData("float32", "{\"packed_type\":\"int16\",\"mask\":\"x\"}", "\"mask\"")]
    [InlineData("float32", "{\"packed_type\":\"int16\",\"bogus\":1}", "unknown configuration \"bogus\"")]
    public void Bad_configuration_is_refused_naming_the_problem(string arrayType, string configuration, string expected)
    {
        var type = DataType.Parse(arrayType);
        var metadata = new ArrayMetadata([1], type, [1], FillValue.Zero(type),
            [new CodecSpec("cf_scale_offset", JsonNode.Parse(configuration)!.AsObject()), new CodecSpec("bytes", new JsonObject { ["endian"] = "little" })], null, new JsonObject());

        var ex = Assert.Throws<ArgumentException>(metadata.Validate);

        Assert.Contains(expected, ex.Message, StringComparison.Ordinal);
    }

    private static byte[] DoubleBytes(double[] values)
    {
        var bytes = new byte[values.Length * 8];
        for (var i = 0; i < values.Length; i++)
        {
            BinaryPrimitives.WriteDoubleLittleEndian(bytes.AsSpan(i * 8), values[i]);
        }

        return bytes;
    }

    private static void WriteLittleEndian(Span<byte> destination, long value)
    {
        for (var i = 0; i < destination.Length; i++)
        {
            destination[i] = (byte)(value >> (8 * i));
        }
    }
}

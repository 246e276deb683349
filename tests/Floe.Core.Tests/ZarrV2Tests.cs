using System.Buffers.Binary;
using System.Text;
using System.Text.Json;
using System.Text.Json.Nodes;
using Floe.Tests.Shared;

namespace Floe.Core.Tests;

/// <summary>
/// The Zarr v2 view of Floe arrays, checked by zarr-python 2 and numpy (Debian's python3-zarr, python3-numpy):
/// folders written through <see cref="ZarrV2Array"/> are read back by zarr and must hold what Floe decodes.
/// </summary>
public sealed class ZarrV2Tests
{
    // Opens each folder as a zarr v2 array and prints its dtype, shape and values (little-endian bytes, C order).
    private const string ReadFolders = """
import sys, json, base64, numpy as np, zarr
out = []
for path in sys.argv[1:]:
    z = zarr.open(path, mode="r")
    a = np.ascontiguousarray(z[...])
    little = a.astype(a.dtype.newbyteorder("<")) if a.dtype.byteorder == ">" else a
    out.append({"dtype": z.dtype.str, "shape": list(z.shape), "data": base64.b64encode(little.tobytes()).decode()})
print(json.dumps(out))
""";

    private static CodecSpec Bytes(string endian = "little") => new("bytes", new JsonObject { ["endian"] = endian });

    private static CodecSpec Codec(string name, params (string Key, JsonNode Value)[] settings)
    {
        var configuration = new JsonObject();
        foreach (var (key, value) in settings)
        {
            configuration[key] = value;
        }

        return new CodecSpec(name, configuration.Count == 0 ? null : configuration);
    }

    private static ArrayMetadata Array(long[] shape, DataType type, int[] chunks, FillValue fill, params CodecSpec[] codecs) =>
        new(shape, type, chunks, fill, codecs, null, new JsonObject());

    private static FillValue Fill(DataType type, double value) => FillValue.FromDouble(type, value);

    private static FillValue ComplexFill(string json)
    {
        using var document = JsonDocument.Parse(json);
        return FillValue.FromJson(DataType.Complex64, document.RootElement);
    }

    /// <summary>One array: its metadata, the chunk left without data, and chunks stored with codecs of their own.</summary>
    private sealed record Case(string Name, ArrayMetadata Metadata, bool PassesThrough, long[]? Missing = null, Dictionary<string, CodecSpec[]>? OwnCodecs = null);

    private static readonly Case[] Cases =
    [
        new("float32 shuffle zlib", Array([5, 7], DataType.Float32, [2, 3], Fill(DataType.Float32, double.NaN), Bytes(), Codec("shuffle", ("elementsize", 4)), Codec("zlib", ("level", 5))),
            true, Missing: [1, 1], OwnCodecs: new()
            {
                // Spelled differently but the same v2 encoding: served as stored.
                ["0.1"] = [Bytes(), Codec("numcodecs.shuffle", ("elementsize", 4)), Codec("numcodecs.zlib", ("level", 5))],
                // Another encoding: transcoded.
                ["2.2"] = [Bytes("big"), Codec("zstd", ("level", 2))],
            }),
        new("int16 big-endian gzip", Array([9], DataType.Int16, [4], Fill(DataType.Int16, -32767), Bytes("big"), Codec("gzip", ("level", 6))), true, Missing: [1]),
        new("float64 zstd", Array([3, 4], DataType.Float64, [2, 2], Fill(DataType.Float64, double.NegativeInfinity), Bytes(), Codec("zstd", ("level", 3))), true, Missing: [0, 1]),
        new("uint8 raw", Array([10], DataType.UInt8, [3], Fill(DataType.UInt8, 255), new CodecSpec("bytes")), true, Missing: [2]),
        new("bool raw", Array([2, 5], DataType.Bool, [2, 2], Fill(DataType.Bool, 1), new CodecSpec("bytes")), true, Missing: [0, 2]),
        // zarr 2.13 reads a complex fill as real + 1j * imaginary, where a NaN part would spoil the other one too.
        new("complex64 zstd", Array([6], DataType.Complex64, [4], ComplexFill("[1.5, -2]"), Bytes(), Codec("zstd", ("level", 1))), true, Missing: [1]),
        new("float16 raw", Array([7], DataType.Float16, [7], Fill(DataType.Float16, double.PositiveInfinity), Bytes()), true),
        new("int64 shuffle 8 of 3-element chunks", Array([5], DataType.Int64, [3], Fill(DataType.Int64, -1), Bytes(), Codec("shuffle", ("elementsize", 8))), true, Missing: [1]),
        new("rank 0", Array([], DataType.Float32, [], Fill(DataType.Float32, 0), Bytes()), true),
        new("int32 transposed", Array([4, 5], DataType.Int32, [3, 2], Fill(DataType.Int32, 7), Codec("transpose", ("order", new JsonArray(1, 0))), Bytes(), Codec("zlib")), false, Missing: [1, 2]),
        new("float32 crc32c", Array([8], DataType.Float32, [3], Fill(DataType.Float32, -9999.9), Bytes(), Codec("crc32c")), false, Missing: [0]),
        new("float32 fletcher32", Array([4, 4], DataType.Float32, [4, 2], Fill(DataType.Float32, 0), Bytes("big"), Codec("shuffle", ("elementsize", 4)), Codec("zlib", ("level", 4)), Codec("fletcher32")), false),
        new("float32 zstd checksum", Array([6], DataType.Float32, [4], Fill(DataType.Float32, 1), Bytes(), Codec("zstd", ("level", 3), ("checksum", true))), false),
        new("float64 packed as int16", Array([3, 5], DataType.Float64, [2, 5], Fill(DataType.Float64, double.NaN),
            Codec("cf_scale_offset", ("packed_type", "int16"), ("scale_factor", 0.01), ("add_offset", 5.0), ("mask", -32767)), Bytes()), false, Missing: [1, 0], OwnCodecs: new()
            {
                // A chunk packed with parameters of its own, as each ERA5 file has.
                ["0.0"] = [Codec("cf_scale_offset", ("packed_type", "int16"), ("scale_factor", 0.02), ("add_offset", -3.0), ("mask", -32767)), Bytes()],
            }),
    ];

    [Fact]
    public void Zarray_names_the_arrays_own_codecs_when_numcodecs_has_them()
    {
        var json = ZarrV2.Describe(Cases[0].Metadata).ToJson();

        var expected = JsonNode.Parse("""
            {"zarr_format": 2, "shape": [5, 7], "chunks": [2, 3], "dtype": "<f4", "compressor": {"id": "zlib", "level": 5},
             "fill_value": "NaN", "order": "C", "filters": [{"id": "shuffle", "elementsize": 4}], "dimension_separator": "."}
            """);
        Assert.True(JsonNode.DeepEquals(expected, json), json.ToJsonString());
    }

    [Fact]
    public void Zarray_advertises_the_decoded_type_with_zstd_when_the_codecs_have_no_numcodecs_equivalent()
    {
        foreach (var c in Cases.Where(c => !c.PassesThrough))
        {
            var described = ZarrV2.Describe(c.Metadata);
            var json = described.ToJson();

            Assert.False(described.StoredChunksPassThrough, c.Name);
            Assert.Equal(ZarrV2.DataTypeString(c.Metadata.DataType, bigEndian: false), json["dtype"]!.GetValue<string>());
            Assert.True(JsonNode.DeepEquals(JsonNode.Parse("""{"id": "zstd", "level": 1}"""), json["compressor"]), c.Name);
            Assert.Null(json["filters"]);
        }

        Assert.All(Cases.Where(c => c.PassesThrough), c => Assert.True(ZarrV2.Describe(c.Metadata).StoredChunksPassThrough, c.Name));
    }

    [Fact]
    public void Data_type_strings_are_numpys()
    {
        var names = DataType.All.Select(t => t.Name).ToArray();
        var numpy = OraclePython.RunJson("""
import sys, json, numpy as np
print(json.dumps([[np.dtype(n).newbyteorder("<").str, np.dtype(n).newbyteorder(">").str] for n in sys.argv[1:]]))
""", names);

        for (var i = 0; i < names.Length; i++)
        {
            Assert.Equal(numpy[i][0].GetString(), ZarrV2.DataTypeString(DataType.All[i], bigEndian: false));
            Assert.Equal(numpy[i][1].GetString(), ZarrV2.DataTypeString(DataType.All[i], bigEndian: true));
        }
    }

    [Fact]
    public void Folders_written_through_the_view_read_in_zarr_python_as_floe_decodes_them()
    {
        var root = Directory.CreateTempSubdirectory("floe-zarr-v2-").FullName;
        try
        {
            var expected = new List<(Case Case, byte[] Values)>();
            var folders = new List<string>();
            foreach (var c in Cases)
            {
                var folder = Path.Combine(root, c.Name.Replace(' ', '_'));
                Directory.CreateDirectory(folder);
                expected.Add((c, WriteFolder(folder, c)));
                folders.Add(folder);
            }

            var read = OraclePython.RunJson(ReadFolders, [.. folders]);

            for (var i = 0; i < expected.Count; i++)
            {
                var (c, values) = expected[i];
                var answer = read[i];
                Assert.Equal(ZarrV2.Describe(c.Metadata).ToJson()["dtype"]!.GetValue<string>(), answer.GetProperty("dtype").GetString());
                Assert.Equal(c.Metadata.Shape, answer.GetProperty("shape").EnumerateArray().Select(e => e.GetInt64()));
                Assert.True(Convert.ToHexString(values) == Convert.ToHexString(Convert.FromBase64String(answer.GetProperty("data").GetString()!)),
                    $"{c.Name}: zarr read other values than Floe decodes");
            }
        }
        finally
        {
            Directory.Delete(root, recursive: true);
        }
    }

    [Fact]
    public void Zstd_frames_without_a_recorded_size_are_transcoded_because_numcodecs_0_11_cannot_decode_them()
    {
        var metadata = Cases[2].Metadata;
        var described = ZarrV2.Describe(metadata);
        var decoded = Values(metadata, new Random(5), metadata.ChunkElementCount);
        var sized = Zstd.Compress(decoded, 3, checksum: false);
        var unsized = Zstd.Compress(decoded, 3, checksum: false, includeContentSize: false);

        Assert.True(described.ServesAsStored(sized, null));
        Assert.False(described.ServesAsStored(unsized, null));
        Assert.False(described.ServesAsStored([1, 2, 3], null));
        var transcoded = described.Transcode(unsized, null);

        var answers = PythonOracle.Run([new(false, [PythonOracle.Config("zstd", ("level", 1))], unsized), new(false, [PythonOracle.Config("zstd", ("level", 1))], transcoded)]);
        Assert.Null(answers[0].Output);
        Assert.Equal(decoded, answers[1].Output);
        Assert.Throws<CodecException>(() => described.Transcode([1, 2, 3], null));
    }

    [Fact]
    public void Array_attributes_carry_dimension_names_and_lose_the_packing_a_packed_array_already_applies()
    {
        var packed = Cases[^1].Metadata with
        {
            DimensionNames = ["time", null],
            Attributes = new JsonObject { ["units"] = "m", ["scale_factor"] = 0.01, ["add_offset"] = 5.0, ["_FillValue"] = -32767, ["missing_value"] = -32767 },
        };
        var plain = Cases[0].Metadata with { Attributes = new JsonObject { ["units"] = "K", ["_FillValue"] = "NaN" } };

        var packedAttributes = ZarrV2.ArrayAttributes(packed, "tp");
        var plainAttributes = ZarrV2.ArrayAttributes(plain, "t2m");

        Assert.True(JsonNode.DeepEquals(JsonNode.Parse("""{"units": "m", "_ARRAY_DIMENSIONS": ["time", "tp_dim_1"]}"""), packedAttributes), packedAttributes.ToJsonString());
        Assert.True(JsonNode.DeepEquals(JsonNode.Parse("""{"units": "K", "_FillValue": "NaN", "_ARRAY_DIMENSIONS": ["t2m_dim_0", "t2m_dim_1"]}"""), plainAttributes), plainAttributes.ToJsonString());
        Assert.Equal([], ZarrV2.DimensionNames(Cases[8].Metadata, "scalar"));
    }

    [Fact]
    public void Fill_values_use_v2_spellings_and_nan_payloads_become_plain_nan()
    {
        Span<byte> payload = stackalloc byte[4];
        BinaryPrimitives.WriteUInt32LittleEndian(payload, 0x7FC00001);

        Assert.Equal("\"NaN\"", ZarrV2.FillValueJson(FillValue.FromBytes(DataType.Float32, payload))!.ToJsonString());
        Assert.Equal("\"-Infinity\"", ZarrV2.FillValueJson(Fill(DataType.Float64, double.NegativeInfinity))!.ToJsonString());
        Assert.Equal("[1.5,\"NaN\"]", ZarrV2.FillValueJson(ComplexFill("[1.5, \"NaN\"]"))!.ToJsonString());
        Assert.Equal("18446744073709551615", ZarrV2.FillValueJson(FillValue.FromBytes(DataType.UInt64, [255, 255, 255, 255, 255, 255, 255, 255]))!.ToJsonString());
        Assert.Equal("true", ZarrV2.FillValueJson(Fill(DataType.Bool, 1))!.ToJsonString());
    }

    /// <summary>
    /// Writes .zarray, .zattrs and every chunk but the missing one, each stored with Floe's codecs and then served as
    /// the view says (as stored, or transcoded); returns the whole array as Floe decodes it, the missing chunk as fill.
    /// </summary>
    private static byte[] WriteFolder(string folder, Case c)
    {
        var metadata = c.Metadata;
        var described = ZarrV2.Describe(metadata);
        File.WriteAllBytes(Path.Combine(folder, ".zarray"), ZarrV2.ToBytes(described.ToJson()));
        File.WriteAllBytes(Path.Combine(folder, ".zattrs"), ZarrV2.ToBytes(ZarrV2.ArrayAttributes(metadata, "v")));
        var size = metadata.DataType.Size;
        var whole = new byte[metadata.Shape.Aggregate(1L, (a, b) => a * b) * size];
        var random = new Random(c.Name.Length);
        foreach (var coords in ChunkCoords(metadata.GridShape))
        {
            var key = coords.Length == 0 ? "0" : string.Join('.', coords);
            var codecs = c.OwnCodecs?.GetValueOrDefault(key);
            var chunkMetadata = codecs is null ? metadata : metadata with { Codecs = codecs };
            var pipeline = CodecPipeline.Create(chunkMetadata);
            // Lossy codecs (packing) decode to what they can hold: that decoding is what readers must see.
            var stored = pipeline.Encode(Values(metadata, random, metadata.ChunkElementCount));
            var decoded = c.Missing is { } missing && missing.SequenceEqual(coords) ? null : pipeline.Decode(stored);
            if (decoded is null)
            {
                var fill = new byte[metadata.ChunkByteLength];
                metadata.FillValue.Fill(fill);
                CopyInside(metadata, coords, fill, whole);
                continue;
            }

            var passes = described.ServesAsStored(stored, codecs);
            Assert.True(passes == (codecs is null ? c.PassesThrough : key == "0.1"), $"{c.Name} chunk {key}: served as stored is {passes}");
            File.WriteAllBytes(Path.Combine(folder, key), passes ? stored : described.Transcode(stored, codecs));
            CopyInside(metadata, coords, decoded, whole);
        }

        return whole;
    }

    private static IEnumerable<long[]> ChunkCoords(long[] grid)
    {
        var coords = new long[grid.Length];
        while (true)
        {
            yield return (long[])coords.Clone();
            var d = grid.Length - 1;
            while (d >= 0 && ++coords[d] == grid[d])
            {
                coords[d--] = 0;
            }

            if (d < 0)
            {
                yield break;
            }
        }
    }

    // Copies the elements of one chunk that lie inside the array into the whole array (C order).
    private static void CopyInside(ArrayMetadata metadata, long[] coords, byte[] chunk, byte[] whole)
    {
        var size = metadata.DataType.Size;
        for (long e = 0; e < metadata.ChunkElementCount; e++)
        {
            long rest = e, offset = 0;
            var inside = true;
            var local = new long[metadata.Rank];
            for (var d = metadata.Rank - 1; d >= 0; d--)
            {
                local[d] = rest % metadata.ChunkShape[d];
                rest /= metadata.ChunkShape[d];
            }

            for (var d = 0; d < metadata.Rank; d++)
            {
                var index = (coords[d] * metadata.ChunkShape[d]) + local[d];
                inside &= index < metadata.Shape[d];
                offset = (offset * metadata.Shape[d]) + index;
            }

            if (inside)
            {
                System.Array.Copy(chunk, e * size, whole, offset * size, size);
            }
        }
    }

    /// <summary>Random little-endian values of the array's type: floats within ±300 with some NaNs, any integer, 0 or 1.</summary>
    private static byte[] Values(ArrayMetadata metadata, Random random, long count)
    {
        var type = metadata.DataType;
        var bytes = new byte[count * type.Size];
        if (type.IsInteger)
        {
            random.NextBytes(bytes);
            return bytes;
        }

        if (type.IsBool)
        {
            for (var i = 0; i < bytes.Length; i++)
            {
                bytes[i] = (byte)random.Next(2);
            }

            return bytes;
        }

        var part = type.ComponentSize;
        for (var i = 0; i < bytes.Length / part; i++)
        {
            var value = random.Next(10) == 0 ? double.NaN : Math.Round((random.NextDouble() - 0.5) * 600, 2);
            var slot = bytes.AsSpan(i * part, part);
            switch (part)
            {
                case 2:
                    BinaryPrimitives.WriteHalfLittleEndian(slot, (Half)value);
                    break;
                case 4:
                    BinaryPrimitives.WriteSingleLittleEndian(slot, (float)value);
                    break;
                default:
                    BinaryPrimitives.WriteDoubleLittleEndian(slot, value);
                    break;
            }
        }

        return bytes;
    }
}

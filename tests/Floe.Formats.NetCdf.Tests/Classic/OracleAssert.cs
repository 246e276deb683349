using System.Text.Json;
using System.Text.Json.Nodes;
using Floe.Core;
using Floe.Storage;

namespace Floe.Formats.NetCdf.Tests.Classic;

/// <summary>Compares what the reader and mapping produce with what netCDF4-python reports (oracle.json).</summary>
internal static class OracleAssert
{
    public static Task<NetCdf3File> ReadAsync(string path, CachingRangeReaderOptions? options = null) =>
        NetCdf3Reader.ReadAsync(new LocalFileSource(), path, options);

    /// <summary>Format, dimensions, global attributes, and every variable's kind, shape, dtype, dimensions and attributes.</summary>
    public static void Structure(JsonElement oracle, NetCdf3File file, VirtualDataset dataset)
    {
        var expectedFormat = oracle.GetProperty("data_model").GetString() switch
        {
            "NETCDF3_CLASSIC" => "netcdf3-classic",
            "NETCDF3_64BIT_OFFSET" => "netcdf3-64bit-offset",
            "NETCDF3_64BIT_DATA" => "netcdf3-64bit-data",
            var other => throw new InvalidOperationException(other),
        };
        Assert.Equal(expectedFormat, dataset.Format);
        Assert.Equal(expectedFormat, file.Format);

        var dims = oracle.GetProperty("dims").EnumerateArray().ToList();
        Assert.Equal(dims.Select(d => d.GetProperty("name").GetString()), file.Dimensions.Select(d => d.Name));
        Assert.Equal(dims.Select(d => d.GetProperty("size").GetInt64()), file.Dimensions.Select(d => d.Length));
        Assert.Equal(dims.Select(d => d.GetProperty("unlimited").GetBoolean()), file.Dimensions.Select(d => d.IsRecord));

        var root = Assert.Single(dataset.Groups);
        Assert.Equal("/", root.Path);
        Attributes(oracle.GetProperty("attrs"), root.Attributes, "global");

        var variables = oracle.GetProperty("vars").EnumerateArray().ToList();
        Assert.Equal(variables.Select(v => v.GetProperty("name").GetString()), file.Variables.Select(v => v.Name));
        foreach (var expected in variables)
        {
            var name = expected.GetProperty("name").GetString()!;
            var dtype = expected.GetProperty("dtype").GetString()!;
            if (dtype == "S1")
            {
                var skipped = Assert.Single(dataset.Skipped, s => s.Path == "/" + name);
                Assert.Equal("character data has no Floe array type", skipped.Reason);
                Assert.DoesNotContain(dataset.Arrays, a => a.Path == "/" + name);
                continue;
            }

            var array = Assert.Single(dataset.Arrays, a => a.Path == "/" + name);
            var metadata = array.Metadata;
            Assert.Equal(expected.GetProperty("shape").EnumerateArray().Select(e => e.GetInt64()), metadata.Shape);
            Assert.Equal(expected.GetProperty("dims").EnumerateArray().Select(e => e.GetString()), metadata.DimensionNames!);
            Attributes(expected.GetProperty("attrs"), metadata.Attributes, name);
            metadata.Validate();

            var scaledType = expected.GetProperty("scaled_dtype").GetString();
            if (IsPacked(array))
            {
                var config = metadata.Codecs[0].Configuration!;
                Assert.Equal(dtype, config["packed_type"]!.GetValue<string>());
                Assert.Equal(scaledType, metadata.DataType.Name);
                Assert.True(double.IsNaN(metadata.FillValue.ToDouble()));
            }
            else
            {
                // Not unpacked by Floe, so netCDF4-python must not change the values' type either.
                Assert.Equal(dtype, metadata.DataType.Name);
                Assert.Equal(dtype, scaledType);
            }

            var last = metadata.Codecs[^1];
            Assert.Equal("bytes", last.Name);
            if (metadata.DataType.Size > 1 || IsPacked(array))
            {
                var storedSize = IsPacked(array) ? DataType.Parse(dtype).Size : metadata.DataType.Size;
                Assert.Equal(storedSize == 1 ? null : "big", last.Configuration?["endian"]?.GetValue<string>());
            }
        }
    }

    public static bool IsPacked(VirtualArray array) => array.Metadata.Codecs[0].Name == "cf_scale_offset";

    /// <summary>Attribute names in order, types and values (float32 compared as float32, non-finite as strings).</summary>
    public static void Attributes(JsonElement expected, JsonObject actual, string owner)
    {
        var list = expected.EnumerateArray().ToList();
        Assert.Equal(list.Select(a => a.GetProperty("name").GetString()), actual.Select(p => p.Key));
        foreach (var attribute in list)
        {
            var name = attribute.GetProperty("name").GetString()!;
            var node = actual[name];
            var dtype = attribute.GetProperty("dtype").GetString()!;
            if (dtype == "str")
            {
                Assert.Equal(attribute.GetProperty("text").GetString(), node!.GetValue<string>());
                continue;
            }

            var values = attribute.GetProperty("values").EnumerateArray().ToList();
            IReadOnlyList<JsonNode?> nodes = attribute.GetProperty("scalar").GetBoolean() ? [node] : [.. Assert.IsType<JsonArray>(node)];
            Assert.Equal(values.Count, nodes.Count);
            for (var i = 0; i < values.Count; i++)
            {
                var context = $"{owner}:{name}[{i}]";
                var value = values[i];
                var got = nodes[i]!;
                if (value.ValueKind == JsonValueKind.String)
                {
                    Assert.True(JsonSerializer.Serialize(value.GetString()) == got.ToJsonString(), $"{context}: expected {value}, got {got.ToJsonString()}");
                }
                else if (dtype == "float32")
                {
                    Assert.True((float)value.GetDouble() == (float)got.GetValue<double>(), $"{context}: expected {value}, got {got.ToJsonString()}");
                }
                else if (dtype == "float64")
                {
                    Assert.True(BitConverter.DoubleToInt64Bits(value.GetDouble()) == BitConverter.DoubleToInt64Bits(got.GetValue<double>()),
                        $"{context}: expected {value}, got {got.ToJsonString()}");
                }
                else
                {
                    Assert.True(decimal.Parse(value.GetRawText(), System.Globalization.CultureInfo.InvariantCulture)
                        == decimal.Parse(got.ToJsonString(), System.Globalization.CultureInfo.InvariantCulture),
                        $"{context}: expected {value}, got {got.ToJsonString()}");
                }
            }
        }
    }

    /// <summary>
    /// Every chunk of every array: the grid is covered once; the chunk's bytes (inline, or read from the file at its
    /// offset and length) are exactly the raw big-endian values netCDF4-python reads for the chunk's region; and
    /// decoding the chunk through Floe's codec pipeline gives the region's values (unpacked and masked like
    /// netCDF4-python for packed arrays).
    /// </summary>
    public static void Chunks(JsonElement oracle, VirtualDataset dataset, byte[] fileBytes)
    {
        foreach (var expected in oracle.GetProperty("vars").EnumerateArray())
        {
            if (!expected.TryGetProperty("raw", out var rawPath))
            {
                continue;
            }

            var array = dataset.Arrays.Single(a => a.Path == "/" + expected.GetProperty("name").GetString());
            var raw = File.ReadAllBytes(rawPath.GetString()!);
            var scaled = expected.TryGetProperty("scaled", out var scaledPath) ? File.ReadAllBytes(scaledPath.GetString()!) : null;
            var scaledRecords = expected.TryGetProperty("scaled_records", out var records)
                ? records.EnumerateArray().Select(r => r.GetInt64()).ToList()
                : null;
            var compared = ArrayChunks(array, DataType.Parse(expected.GetProperty("dtype").GetString()!), raw, scaled, scaledRecords, fileBytes);
            if (scaled is not null)
            {
                Assert.True(compared > 0, $"{array.Path}: no unpacked values were compared");
            }
        }
    }

    /// <summary>Checks one array's chunks; returns how many unpacked values were compared with netCDF4-python's.</summary>
    public static long ArrayChunks(VirtualArray array, DataType stored, byte[] raw, byte[]? scaled, List<long>? scaledRecords, byte[] fileBytes)
    {
        long compared = 0;
        var metadata = array.Metadata;
        var shape = metadata.Shape;
        var chunkShape = metadata.ChunkShape;
        var grid = metadata.GridShape;
        Assert.Equal(metadata.ChunkCount, array.Chunks.Count);
        Assert.Equal(array.Chunks.Count, array.Chunks.Select(c => string.Join(",", c.Index)).Distinct().Count());
        var pipeline = CodecPipeline.Create(metadata);
        var storedChunkBytes = checked((int)(metadata.ChunkElementCount * stored.Size));
        var packed = IsPacked(array);
        foreach (var chunk in array.Chunks)
        {
            var context = $"{array.Path} chunk [{string.Join(",", chunk.Index)}]";
            Assert.Equal(shape.Length, chunk.Index.Length);
            var start = new long[shape.Length];
            var count = new long[shape.Length];
            for (var d = 0; d < shape.Length; d++)
            {
                Assert.InRange(chunk.Index[d], 0, grid[d] - 1);
                start[d] = chunk.Index[d] * chunkShape[d];
                count[d] = Math.Min(chunkShape[d], shape[d] - start[d]);
            }

            var expectedBytes = Region(raw, shape, stored.Size, start, count);
            Assert.True(chunk.Offset >= 0 && chunk.Length >= 0 && chunk.Offset + chunk.Length <= fileBytes.Length, $"{context}: range outside the file");
            var fromFile = fileBytes.AsSpan((int)chunk.Offset, (int)chunk.Length).ToArray();
            if (chunk.Inline is { } inline)
            {
                Assert.True(inline.AsSpan().SequenceEqual(fromFile), $"{context}: inline bytes differ from the file's bytes at its range");
            }

            Assert.True(expectedBytes.AsSpan().SequenceEqual(fromFile), $"{context}: bytes differ from netCDF4-python's raw values");

            // Floe decodes whole chunks: pad a partial last chunk (its valid values are a prefix, chunks being contiguous).
            Assert.True(fromFile.Length <= storedChunkBytes, $"{context}: longer than a chunk");
            var padded = new byte[storedChunkBytes];
            fromFile.CopyTo(padded, 0);
            var decoded = pipeline.Decode(padded);
            var elements = fromFile.Length / stored.Size;
            if (!packed)
            {
                var littleEndian = Swap(expectedBytes, stored.Size);
                Assert.True(littleEndian.AsSpan().SequenceEqual(decoded.AsSpan(0, littleEndian.Length)), $"{context}: decoded values differ");
                continue;
            }

            if (scaled is null)
            {
                continue;
            }

            var outSize = metadata.DataType.Size;
            var scaledShape = (long[])shape.Clone();
            var scaledStart = (long[])start.Clone();
            if (scaledRecords is not null)
            {
                var position = scaledRecords.IndexOf(start[0]);
                if (position < 0 || count[0] != 1)
                {
                    continue;
                }

                scaledShape[0] = scaledRecords.Count;
                scaledStart[0] = position;
            }

            var want = Region(scaled, scaledShape, outSize, scaledStart, count);
            for (var i = 0; i < elements; i++)
            {
                if (outSize == 4)
                {
                    var a = BitConverter.ToSingle(want, i * 4);
                    var b = BitConverter.ToSingle(decoded, i * 4);
                    Assert.True(float.IsNaN(a) ? float.IsNaN(b) : BitConverter.SingleToInt32Bits(a) == BitConverter.SingleToInt32Bits(b),
                        $"{context} element {i}: netCDF4-python {a:R}, Floe {b:R}");
                }
                else
                {
                    var a = BitConverter.ToDouble(want, i * 8);
                    var b = BitConverter.ToDouble(decoded, i * 8);
                    Assert.True(double.IsNaN(a) ? double.IsNaN(b) : BitConverter.DoubleToInt64Bits(a) == BitConverter.DoubleToInt64Bits(b),
                        $"{context} element {i}: netCDF4-python {a:R}, Floe {b:R}");
                }
            }

            compared += elements;
        }

        return compared;
    }

    /// <summary>The C-order bytes of the hyperslab [start, start + count) of a C-order array.</summary>
    public static byte[] Region(byte[] full, long[] shape, int size, long[] start, long[] count)
    {
        var rank = shape.Length;
        if (rank == 0)
        {
            return full.AsSpan(0, size).ToArray();
        }

        var strides = new long[rank];
        strides[rank - 1] = size;
        for (var d = rank - 2; d >= 0; d--)
        {
            strides[d] = strides[d + 1] * shape[d + 1];
        }

        var run = (int)(count[rank - 1] * size);
        var total = count.Aggregate(1L, (a, b) => a * b) * size;
        var output = new byte[total];
        if (total == 0)
        {
            return output;
        }

        var index = new long[rank];
        var at = 0;
        while (true)
        {
            long offset = 0;
            for (var d = 0; d < rank; d++)
            {
                offset += (start[d] + index[d]) * strides[d];
            }

            full.AsSpan((int)offset, run).CopyTo(output.AsSpan(at));
            at += run;
            var dim = rank - 2;
            while (dim >= 0 && ++index[dim] == count[dim])
            {
                index[dim] = 0;
                dim--;
            }

            if (dim < 0)
            {
                return output;
            }
        }
    }

    public static byte[] Swap(byte[] bigEndian, int size)
    {
        var output = (byte[])bigEndian.Clone();
        for (var i = 0; i < output.Length; i += size)
        {
            output.AsSpan(i, size).Reverse();
        }

        return output;
    }
}

using System.Text.Json.Nodes;
using Floe.Core;
using Floe.Storage;

namespace Floe.Formats.NetCdf.Tests.Classic;

/// <summary>NetCDF-3 files written by netCDF4-python, read by Floe, compared with what netCDF4-python reads.</summary>
[Collection(NetCdf3Collection.Name)]
public sealed class NetCdf3OracleTests(NetCdf3Fixtures fixtures)
{
    public static TheoryData<string> Files =>
        ["era5.nc", "classic.nc", "cdf5.nc", "single_byte.nc", "single_short.nc", "zero_records.nc", "large.nc", "big_header.nc"];

    [Theory]
    [MemberData(nameof(Files))]
    public async Task Structure_matches_netCDF4_python(string name)
    {
        var file = await OracleAssert.ReadAsync(fixtures.PathOf(name));
        var dataset = NetCdf3Mapping.ToVirtualDataset(file);
        Assert.Equal(fixtures.PathOf(name), dataset.Location);
        Assert.Equal(new FileInfo(fixtures.PathOf(name)).Length, dataset.Source.Length);
        OracleAssert.Structure(fixtures.Oracle(name), file, dataset);
    }

    [Theory]
    [MemberData(nameof(Files))]
    public async Task Every_chunk_holds_the_values_netCDF4_python_reads(string name)
    {
        var dataset = await NetCdf3Reader.ReadVirtualAsync(new LocalFileSource(), fixtures.PathOf(name));
        OracleAssert.Chunks(fixtures.Oracle(name), dataset, File.ReadAllBytes(fixtures.PathOf(name)));
    }

    [Theory]
    [InlineData("era5.nc", 1 << 20)]
    [InlineData("cdf5.nc", 64)]
    [InlineData("cdf5.nc", 16)]
    [InlineData("single_short.nc", 64)]
    [InlineData("zero_records.nc", 64)]
    [InlineData("large.nc", 3 << 20)]
    public async Task Smaller_chunk_targets_cut_contiguous_data_into_chunks_that_still_match(string name, int chunkBytes)
    {
        var file = await OracleAssert.ReadAsync(fixtures.PathOf(name));
        var dataset = NetCdf3Mapping.ToVirtualDataset(file, chunkBytes);
        foreach (var array in dataset.Arrays.Where(a => a.Chunks.All(c => c.Inline is null)))
        {
            var largest = array.Metadata.ChunkElementCount * NetCdf3Types.SizeOf(file.Variable(array.Path[1..])!.Type);
            Assert.True(largest <= chunkBytes || array.Metadata.ChunkShape[^1] == 1, $"{array.Path}: chunks of {largest} bytes");
        }

        OracleAssert.Chunks(fixtures.Oracle(name), dataset, File.ReadAllBytes(fixtures.PathOf(name)));
    }

    [Fact]
    public async Task Era5_day_maps_to_packed_float64_precipitation_with_one_chunk_per_hour()
    {
        var file = await OracleAssert.ReadAsync(fixtures.PathOf("era5.nc"));
        Assert.Equal(NetCdf3Version.Offset64, file.Version);
        Assert.Equal(24, file.RecordCount);
        Assert.False(file.IsStreaming);
        const long slab = 721 * 1440 * 2;
        Assert.Equal(slab + 4, file.RecordSize);

        // One request for the file's head: the time values are records (2 MB apart), so they stay references.
        Assert.Equal(1, file.Requests);

        var dataset = NetCdf3Mapping.ToVirtualDataset(file);
        Assert.Empty(dataset.Skipped);
        var tp = dataset.Arrays.Single(a => a.Path == "/tp");
        Assert.Equal(DataType.Float64, tp.Metadata.DataType);
        Assert.Equal([1, 721, 1440], tp.Metadata.ChunkShape);
        Assert.Equal(["time", "latitude", "longitude"], tp.Metadata.DimensionNames!.Select(n => n!));
        Assert.True(double.IsNaN(tp.Metadata.FillValue.ToDouble()));
        var codec = tp.Metadata.Codecs[0];
        Assert.Equal("cf_scale_offset", codec.Name);
        var variable = file.Variable("tp")!;
        Assert.Equal("int16", codec.Configuration!["packed_type"]!.GetValue<string>());
        Assert.Equal(((double[])variable.Attribute("scale_factor")!.Values)[0], codec.Configuration["scale_factor"]!.GetValue<double>());
        Assert.Equal(((double[])variable.Attribute("add_offset")!.Values)[0], codec.Configuration["add_offset"]!.GetValue<double>());
        Assert.Equal("[-32767]", codec.Configuration["mask"]!.ToJsonString());
        Assert.Null(codec.Configuration["valid_min"]);
        Assert.Equal(new CodecSpec("bytes", new JsonObject { ["endian"] = "big" }), tp.Metadata.Codecs[1]);

        // The original attributes are kept as they are.
        Assert.Equal("-32767", tp.Metadata.Attributes["_FillValue"]!.ToJsonString());
        Assert.Equal("-32767", tp.Metadata.Attributes["missing_value"]!.ToJsonString());
        Assert.Equal("m", tp.Metadata.Attributes["units"]!.GetValue<string>());

        Assert.Equal(24, tp.Chunks.Count);
        for (var i = 0; i < 24; i++)
        {
            Assert.Equal([i, 0, 0], tp.Chunks[i].Index);
            Assert.Equal(variable.Begin + (i * file.RecordSize), tp.Chunks[i].Offset);
            Assert.Equal(slab, tp.Chunks[i].Length);
            Assert.Null(tp.Chunks[i].Inline);
        }

        var time = dataset.Arrays.Single(a => a.Path == "/time");
        Assert.Equal(DataType.Int32, time.Metadata.DataType);
        Assert.Equal([1], time.Metadata.ChunkShape);
        Assert.Equal("hours since 1900-01-01 00:00:00.0", time.Metadata.Attributes["units"]!.GetValue<string>());
        Assert.Equal("gregorian", time.Metadata.Attributes["calendar"]!.GetValue<string>());
        Assert.All(time.Chunks, c => Assert.Equal((4L, (byte[]?)null), (c.Length, c.Inline)));
        Assert.Equal(-2147483647L, time.Metadata.FillValue.ToDouble());

        var latitude = dataset.Arrays.Single(a => a.Path == "/latitude");
        Assert.Equal(DataType.Float32, latitude.Metadata.DataType);
        var chunk = Assert.Single(latitude.Chunks);
        Assert.Equal(721 * 4, chunk.Length);
        Assert.Null(chunk.Inline);
        Assert.Equal("CF-1.6", dataset.Groups[0].Attributes["Conventions"]!.GetValue<string>());
    }

    [Fact]
    public async Task A_single_record_variable_is_not_padded_between_records()
    {
        var bytes = await OracleAssert.ReadAsync(fixtures.PathOf("single_byte.nc"));
        Assert.Equal(3, bytes.RecordSize);
        var r = bytes.Variable("r")!;
        Assert.Equal(4, r.HeaderVsize); // vsize is stored padded all the same
        var array = NetCdf3Mapping.ToVirtualDataset(bytes).Arrays.Single(a => a.Path == "/r");
        Assert.Equal(7, array.Chunks.Count);
        Assert.All(array.Chunks, (c, i) => Assert.Equal(r.Begin + (3 * i), c.Offset));

        var shorts = await OracleAssert.ReadAsync(fixtures.PathOf("single_short.nc"));
        Assert.Equal(602, shorts.RecordSize);
        var s = NetCdf3Mapping.ToVirtualDataset(shorts).Arrays.Single();
        Assert.All(s.Chunks, (c, i) => Assert.Equal((shorts.Variables[0].Begin + (602 * i), 602L, (byte[]?)null), (c.Offset, c.Length, c.Inline)));
    }

    [Fact]
    public async Task Records_of_several_variables_are_interleaved_with_padding()
    {
        var file = await OracleAssert.ReadAsync(fixtures.PathOf("classic.nc"));
        Assert.Equal(1, file.Requests);

        // rs 3 shorts (6 → 8), rb 5 bytes (→ 8), rd 8, rf 15 floats (60), rtime 4, pk_s 35 shorts (70 → 72), pk_b 5 (→ 8).
        Assert.Equal(8 + 8 + 8 + 60 + 4 + 72 + 8, file.RecordSize);
        var rs = file.Variable("rs")!;
        Assert.Equal(6, rs.SlabBytes);
        Assert.Equal(file.RecordSize, rs.RecordStride);
        Assert.Equal(rs.Begin + 8, file.Variable("rb")!.Begin);
    }

    [Fact]
    public async Task A_record_variable_without_records_has_no_chunks()
    {
        var file = await OracleAssert.ReadAsync(fixtures.PathOf("zero_records.nc"));
        Assert.Equal(0, file.RecordCount);
        var dataset = NetCdf3Mapping.ToVirtualDataset(file);
        var rec = dataset.Arrays.Single(a => a.Path == "/rec");
        Assert.Equal([0, 200], rec.Metadata.Shape);
        Assert.Equal([1, 200], rec.Metadata.ChunkShape);
        Assert.Empty(rec.Chunks);
        Assert.Single(dataset.Arrays.Single(a => a.Path == "/fx").Chunks);
    }

    [Fact]
    public async Task A_fixed_variable_over_16_MiB_splits_into_contiguous_chunks_along_its_first_dimension()
    {
        var file = await OracleAssert.ReadAsync(fixtures.PathOf("large.nc"));
        var big = NetCdf3Mapping.ToVirtualDataset(file).Arrays.Single();

        // 4194 rows of 4000 bytes fit in 16 MiB; 2500 divides 5000 and is within a factor of two, so no chunk is partial.
        Assert.Equal([2500, 1000], big.Metadata.ChunkShape);
        Assert.Equal(2, big.Chunks.Count);
        Assert.Equal(file.Variables[0].Begin, big.Chunks[0].Offset);
        Assert.Equal(file.Variables[0].Begin + 10_000_000, big.Chunks[1].Offset);
        Assert.All(big.Chunks, c => Assert.Equal(10_000_000, c.Length));
    }

    [Theory]
    [InlineData(new long[] { 5000, 1000 }, 4, 16 << 20, new[] { 2500, 1000 }, 2)]
    [InlineData(new long[] { 3001, 4096 }, 2, 16 << 20, new[] { 1, 4096 }, 3001)] // 3001 is prime: only single rows divide it
    [InlineData(new long[] { 10, 20 }, 8, 16 << 20, new[] { 10, 20 }, 1)]
    [InlineData(new long[] { 2, 5000, 4000 }, 1, 16 << 20, new[] { 1, 2500, 4000 }, 4)] // one row is 20 MB: split the second dimension
    [InlineData(new long[] { 3, 3 }, 8, 8, new[] { 1, 1 }, 9)]
    [InlineData(new long[] { }, 8, 16 << 20, new int[] { }, 1)]
    public void Contiguous_chunk_shapes(long[] shape, int size, int target, int[] chunkShape, int chunks)
    {
        var (actualShape, pieces) = NetCdf3Mapping.ContiguousPieces(shape, size, target);
        Assert.Equal(chunkShape, actualShape);
        Assert.Equal(chunks, pieces.Count);

        // The pieces tile the block in order, without gaps or overlaps.
        long next = 0;
        foreach (var (_, offset, length) in pieces)
        {
            Assert.Equal(next, offset);
            Assert.True(length <= (long)target || chunkShape.Length == 0);
            next += length;
        }

        Assert.Equal(shape.Aggregate(1L, (a, b) => a * b) * size, next);
    }

    [Fact]
    public async Task Packed_variables_list_what_netCDF4_python_masks()
    {
        var dataset = await NetCdf3Reader.ReadVirtualAsync(new LocalFileSource(), fixtures.PathOf("classic.nc"));
        JsonObject Config(string name) => dataset.Arrays.Single(a => a.Path == "/" + name).Metadata.Codecs[0].Configuration!;

        var pkS = Config("pk_s");
        Assert.Equal((double)0.01f, pkS["scale_factor"]!.GetValue<double>());
        Assert.Equal((double)273.15f, pkS["add_offset"]!.GetValue<double>());
        Assert.Equal("[-998,-997,-999]", pkS["mask"]!.ToJsonString());
        Assert.Equal("-900", pkS["valid_min"]!.ToJsonString());
        Assert.Equal("900", pkS["valid_max"]!.ToJsonString());
        Assert.Equal(DataType.Float32, dataset.Arrays.Single(a => a.Path == "/pk_s").Metadata.DataType);

        // Only scale_factor: no add_offset is applied; without _FillValue the default fill is masked, bytes included.
        var pkB = Config("pk_b");
        Assert.Null(pkB["add_offset"]);
        Assert.Equal("[-127]", pkB["mask"]!.ToJsonString());

        // double missing_value and valid_min hold int16 values exactly and count; valid_max 50.5 does not and is ignored.
        var pkD = Config("pk_d");
        Assert.Equal("[-1,-32767]", pkD["mask"]!.ToJsonString());
        Assert.Equal("-50", pkD["valid_min"]!.ToJsonString());
        Assert.Null(pkD["valid_max"]);
        Assert.Equal(DataType.Float64, dataset.Arrays.Single(a => a.Path == "/pk_d").Metadata.DataType);
    }

    [Fact]
    public async Task Fill_values_come_from_FillValue_or_the_types_default()
    {
        var classic = await NetCdf3Reader.ReadVirtualAsync(new LocalFileSource(), fixtures.PathOf("classic.nc"));
        var cdf5 = await NetCdf3Reader.ReadVirtualAsync(new LocalFileSource(), fixtures.PathOf("cdf5.nc"));
        string Fill(VirtualDataset dataset, string name) => dataset.Arrays.Single(a => a.Path == "/" + name).Metadata.FillValue.ToJson().ToJsonString();

        Assert.Equal("17", Fill(classic, "i"));
        Assert.Equal("\"NaN\"", Fill(classic, "f"));
        Assert.Equal("-127", Fill(classic, "b"));
        Assert.Equal("-32767", Fill(classic, "s"));
        Assert.Equal("9.969209968386869E+36", Fill(classic, "d"));
        Assert.Equal("-2147483647", Fill(classic, "scalar_i"));
        Assert.Equal("9.96921E+36", Fill(classic, "rf"));
        Assert.Equal("\"NaN\"", Fill(classic, "pk_s"));
        Assert.Equal("12345678901234567890", Fill(cdf5, "fill_u8"));
        Assert.Equal("-9223372036854775806", Fill(cdf5, "fill_i8"));
        Assert.Equal("18446744073709551614", Fill(cdf5, "v_u8"));
        Assert.Equal("255", Fill(cdf5, "v_u1"));
        Assert.Equal("65535", Fill(cdf5, "v_u2"));
        Assert.Equal("4294967295", Fill(cdf5, "v_u4"));
    }

    [Fact]
    public async Task Scalar_variables_are_single_inline_chunks()
    {
        var dataset = await NetCdf3Reader.ReadVirtualAsync(new LocalFileSource(), fixtures.PathOf("classic.nc"));
        var scalar = dataset.Arrays.Single(a => a.Path == "/scalar_d");
        Assert.Empty(scalar.Metadata.Shape);
        Assert.Empty(scalar.Metadata.ChunkShape);
        var chunk = Assert.Single(scalar.Chunks);
        Assert.Empty(chunk.Index);
        Assert.Equal(-1.5, BitConverter.ToDouble(OracleAssert.Swap(chunk.Inline!, 8)));
    }

    [Theory]
    [InlineData("classic.nc", 4)]
    [InlineData("cdf5.nc", 8)]
    [InlineData("era5.nc", 4)]
    public async Task Streaming_record_count_is_computed_from_the_file_size(string name, int numrecsBytes)
    {
        var bytes = File.ReadAllBytes(fixtures.PathOf(name));
        var original = NetCdf3Mapping.ToVirtualDataset(await NetCdf3Reader.ReadAsync(new MemorySource(bytes), name));
        bytes.AsSpan(4, numrecsBytes).Fill(0xFF);
        var file = await NetCdf3Reader.ReadAsync(new MemorySource(bytes), name);
        Assert.True(file.IsStreaming);
        var streamed = NetCdf3Mapping.ToVirtualDataset(file);
        Assert.Equal(original.Arrays.Select(a => a.Metadata), streamed.Arrays.Select(a => a.Metadata));
        Assert.Equal(original.Arrays.SelectMany(a => a.Chunks).Select(c => (c.Offset, c.Length)), streamed.Arrays.SelectMany(a => a.Chunks).Select(c => (c.Offset, c.Length)));

        // A last record cut short does not count.
        var cut = bytes.AsSpan(0, bytes.Length - (int)(file.RecordSize / 2)).ToArray();
        var truncated = await NetCdf3Reader.ReadAsync(new MemorySource(cut), name);
        Assert.Equal(file.RecordCount - 1, truncated.RecordCount);
    }

    [Fact]
    public async Task A_header_longer_than_the_first_request_is_read_in_a_few_more()
    {
        var path = fixtures.PathOf("big_header.nc");
        var file = await OracleAssert.ReadAsync(path);
        Assert.True(file.HeaderLength > 1 << 20);
        Assert.InRange(file.Requests, 2, 3);
        Assert.Equal(1_500_000, file.Attribute("notes")!.Text!.Length);

        var tiny = await OracleAssert.ReadAsync(path, new CachingRangeReaderOptions { HeadBytes = 100, BlockBytes = 64 });
        var whole = await OracleAssert.ReadAsync(path, new CachingRangeReaderOptions { HeadBytes = 4 << 20 });
        Assert.Equal(1, whole.Requests);
        Assert.Equal(Describe(whole), Describe(file));
        Assert.Equal(Describe(whole), Describe(tiny));
    }

    [Theory]
    [InlineData("classic.nc")]
    [InlineData("cdf5.nc")]
    public async Task Tiny_first_requests_and_unknown_lengths_give_the_same_result(string name)
    {
        var bytes = File.ReadAllBytes(fixtures.PathOf(name));
        var expected = Describe(await NetCdf3Reader.ReadAsync(new MemorySource(bytes), name));
        var small = await NetCdf3Reader.ReadAsync(new MemorySource(bytes), name, new CachingRangeReaderOptions { HeadBytes = 16, BlockBytes = 16, MergeGapBytes = 0 });
        Assert.Equal(expected, Describe(small));
        var unknownLength = await NetCdf3Reader.ReadAsync(new MemorySource(bytes, reportLength: false), name);
        Assert.Equal(expected, Describe(unknownLength));
    }

    // Everything the mapping produces, as text.
    private static string Describe(NetCdf3File file)
    {
        var dataset = NetCdf3Mapping.ToVirtualDataset(file);
        return string.Join("\n", dataset.Groups.Select(g => g.Attributes.ToJsonString()).Concat(dataset.Arrays.Select(a =>
            $"{a.Path} {a.Metadata} {string.Join(";", a.Chunks.Select(c => $"{string.Join(",", c.Index)}@{c.Offset}+{c.Length}:{(c.Inline is null ? "" : Convert.ToHexString(c.Inline))}"))}")));
    }
}

using System.Buffers.Binary;
using System.Text;
using Floe.Storage;

namespace Floe.Formats.NetCdf.Tests.Classic;

/// <summary>Damaged and hostile files fail with a <see cref="NetCdfFormatException"/> naming the file, object and offset.</summary>
[Collection(NetCdf3Collection.Name)]
public sealed class NetCdf3BadInputTests(NetCdf3Fixtures fixtures)
{
    private byte[] Bytes(string name) => File.ReadAllBytes(fixtures.PathOf(name));

    private static async Task<NetCdfFormatException> Fails(byte[] bytes, string name = "bad.nc", CachingRangeReaderOptions? options = null)
    {
        var error = await Assert.ThrowsAsync<NetCdfFormatException>(() => NetCdf3Reader.ReadAsync(new MemorySource(bytes), name, options));
        Assert.Equal(name, error.Location);
        Assert.StartsWith(name + ": ", error.Message, StringComparison.Ordinal);
        Assert.EndsWith($"(at byte {error.Offset})", error.Message, StringComparison.Ordinal);
        Assert.InRange(error.Offset, 0, Math.Max(0, bytes.Length));
        return error;
    }

    [Fact]
    public async Task Wrong_magic_numbers()
    {
        var bytes = Bytes("classic.nc");
        bytes[0] = (byte)'X';
        var error = await Fails(bytes);
        Assert.Equal(0, error.Offset);
        Assert.Contains("not a NetCDF-3 file", error.Reason, StringComparison.Ordinal);

        byte[] hdf5 = [0x89, (byte)'H', (byte)'D', (byte)'F', 0x0D, 0x0A, 0x1A, 0x0A, .. new byte[100]];
        Assert.Contains("HDF5", (await Fails(hdf5)).Reason, StringComparison.Ordinal);

        bytes = Bytes("classic.nc");
        bytes[3] = 3;
        error = await Fails(bytes);
        Assert.Equal(3, error.Offset);
        Assert.Contains("version byte 0x03", error.Reason, StringComparison.Ordinal);
    }

    [Theory]
    [InlineData(0)]
    [InlineData(3)]
    [InlineData(6)]
    [InlineData(22)]
    [InlineData(100)]
    [InlineData(500)]
    public async Task Truncated_headers(int length)
    {
        var bytes = Bytes("classic.nc");
        var file = await NetCdf3Reader.ReadAsync(new MemorySource(bytes), "classic.nc");
        Assert.True(length < file.HeaderLength);
        var error = await Fails(bytes.AsSpan(0, length).ToArray(), "cut.nc");
        Assert.True(error.Reason.Contains("truncated", StringComparison.Ordinal) || error.Reason.Contains("too short", StringComparison.Ordinal)
            || error.Reason.Contains("remain", StringComparison.Ordinal), error.Message);
    }

    [Fact]
    public async Task A_header_cut_past_the_first_request_fails_while_reading_more()
    {
        var bytes = Bytes("big_header.nc");
        var error = await Fails(bytes.AsSpan(0, 1_200_000).ToArray(), "cut.nc");
        Assert.Contains("global attribute \"notes\"", error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Absurd_counts_are_refused_before_anything_is_allocated()
    {
        // CDF-1: magic, numrecs, NC_DIMENSION tag, then the dimension count at byte 12.
        var bytes = Bytes("classic.nc");
        BinaryPrimitives.WriteInt32BigEndian(bytes.AsSpan(12), int.MaxValue);
        var error = await Fails(bytes);
        Assert.Equal(12, error.Offset);
        Assert.Contains("2147483647 dimensions", error.Reason, StringComparison.Ordinal);

        // CDF-5 counts are 64-bit: the dimension count is at byte 16; huge and negative counts both fail.
        bytes = Bytes("cdf5.nc");
        BinaryPrimitives.WriteInt64BigEndian(bytes.AsSpan(16), long.MaxValue);
        Assert.Equal(16, (await Fails(bytes)).Offset);
        BinaryPrimitives.WriteInt64BigEndian(bytes.AsSpan(16), -2);
        error = await Fails(bytes);
        Assert.Equal(16, error.Offset);
        Assert.Contains("negative", error.Reason, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Negative_sizes_in_CDF5_are_refused()
    {
        // The first dimension "rec": name length at 24, name at 32, length at 36.
        var bytes = Bytes("cdf5.nc");
        Assert.Equal("rec", Encoding.ASCII.GetString(bytes, 32, 3));
        BinaryPrimitives.WriteInt64BigEndian(bytes.AsSpan(36), -5);
        var error = await Fails(bytes);
        Assert.Equal("dimension \"rec\"", error.ObjectName);
        Assert.Equal(36, error.Offset);
        Assert.Contains("negative", error.Reason, StringComparison.Ordinal);

        bytes = Bytes("cdf5.nc");
        BinaryPrimitives.WriteInt64BigEndian(bytes.AsSpan(4), -7);
        Assert.Equal(4, (await Fails(bytes)).Offset);
    }

    [Fact]
    public async Task Names_must_be_UTF8()
    {
        // The first dimension's name ("time") starts at byte 20.
        var bytes = Bytes("classic.nc");
        Assert.Equal("time", Encoding.ASCII.GetString(bytes, 20, 4));
        bytes[21] = 0xFF;
        var error = await Fails(bytes);
        Assert.Equal(20, error.Offset);
        Assert.Equal("dimension #0", error.ObjectName);
        Assert.Contains("UTF-8", error.Reason, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Unknown_types_are_refused()
    {
        var bytes = Bytes("zero_records.nc");
        var file = await NetCdf3Reader.ReadAsync(new MemorySource(bytes), "ok.nc");
        var units = file.Variable("rec")!.Attribute("units")!;

        // The attribute "units" of "rec": name length, "units" padded to 8, then its type (NC_CHAR) at offset + 12.
        Assert.Equal(2, BinaryPrimitives.ReadInt32BigEndian(bytes.AsSpan((int)units.Offset + 12)));
        BinaryPrimitives.WriteInt32BigEndian(bytes.AsSpan((int)units.Offset + 12), 7);
        var error = await Fails(bytes);
        Assert.Equal("attribute \"rec:units\"", error.ObjectName);
        Assert.Equal(units.Offset + 12, error.Offset);
        Assert.Contains("unknown type code 7", error.Reason, StringComparison.Ordinal);
    }

    [Theory]
    [InlineData("zero_records.nc", "fx", 4)]
    [InlineData("single_short.nc", "r", 8)]
    [InlineData("classic.nc", "rs", 4)]
    public async Task Data_offsets_past_the_file_or_inside_the_header_are_refused(string name, string variable, int offsetSize)
    {
        var original = Bytes(name);
        var file = await NetCdf3Reader.ReadAsync(new MemorySource(original), name);
        var begin = file.Variable(variable)!.Begin;
        var field = FindBegin(original, (int)file.HeaderLength, begin, offsetSize);

        foreach (var (value, expected) in new[]
                 {
                     (original.Length + 100L, "past the end of the file"),
                     (original.Length - 1L, "past the end of the file"),
                     (8L, "inside the header"),
                 })
        {
            var bytes = (byte[])original.Clone();
            WriteOffset(bytes, field, value, offsetSize);
            var error = await Fails(bytes, name);
            Assert.Equal($"variable \"{variable}\"", error.ObjectName);
            Assert.Equal(field, error.Offset);
            Assert.Contains(expected, error.Reason, StringComparison.Ordinal);
        }
    }

    [Fact]
    public async Task Overlapping_data_is_refused()
    {
        var original = Bytes("classic.nc");
        var file = await NetCdf3Reader.ReadAsync(new MemorySource(original), "classic.nc");
        var field = FindBegin(original, (int)file.HeaderLength, file.Variable("s")!.Begin, 4);
        WriteOffset(original, field, file.Variable("b")!.Begin + 2, 4);
        var error = await Fails(original);
        Assert.Equal("variable \"s\"", error.ObjectName);
        Assert.Contains("inside the data of variable \"b\"", error.Reason, StringComparison.Ordinal);
    }

    [Theory]
    [InlineData("classic.nc", 11)]
    [InlineData("cdf5.nc", 12)]
    [InlineData("single_byte.nc", 13)]
    [InlineData("single_short.nc", 14)]
    [InlineData("zero_records.nc", 15)]
    public async Task Mutated_files_fail_cleanly_or_map_to_valid_arrays(string name, int seed)
    {
        var original = Bytes(name);
        var headerLength = (int)(await NetCdf3Reader.ReadAsync(new MemorySource(original), name)).HeaderLength;
        var random = new Random(seed);
        int parsed = 0, refused = 0;
        for (var iteration = 0; iteration < 3000; iteration++)
        {
            var (bytes, mutation) = Mutate(original, headerLength, random);
            var options = random.Next(4) == 0
                ? new CachingRangeReaderOptions { HeadBytes = 1 + random.Next(300), BlockBytes = 1 + random.Next(100), MergeGapBytes = random.Next(50) }
                : null;
            try
            {
                var file = await NetCdf3Reader.ReadAsync(new MemorySource(bytes), name, options);
                CheckValid(NetCdf3Mapping.ToVirtualDataset(file), bytes.Length);
                parsed++;
            }
            catch (NetCdfFormatException error)
            {
                Assert.Equal(name, error.Location);
                Assert.InRange(error.Offset, 0, bytes.Length);
                refused++;
            }
            catch (Exception error) when (error is not Xunit.Sdk.XunitException)
            {
                Assert.Fail($"iteration {iteration} ({mutation}): {error.GetType().Name}: {error.Message}\n{error.StackTrace}");
            }
        }

        // Both outcomes occur: the mutations reach past the first checks.
        Assert.True(parsed > 50 && refused > 50, $"{parsed} parsed, {refused} refused");
    }

    // A mapped dataset must be usable: valid metadata and codecs, the grid covered, every range inside the file.
    private static void CheckValid(VirtualDataset dataset, long fileLength)
    {
        foreach (var array in dataset.Arrays)
        {
            array.Metadata.Validate();
            Assert.Equal(array.Metadata.ChunkCount, array.Chunks.Count);
            foreach (var chunk in array.Chunks)
            {
                Assert.True(chunk.Offset >= 0 && chunk.Length > 0 && chunk.Offset + chunk.Length <= fileLength, $"{array.Path}: {chunk.Offset}+{chunk.Length}");
                Assert.True(chunk.Inline is null || chunk.Inline.Length == chunk.Length);
            }
        }
    }

    private static (byte[] Bytes, string Mutation) Mutate(byte[] original, int headerLength, Random random)
    {
        var bytes = (byte[])original.Clone();
        var kind = random.Next(100);
        if (kind < 40)
        {
            var flips = 1 + random.Next(3);
            var description = new StringBuilder("flip");
            for (var i = 0; i < flips; i++)
            {
                var at = random.Next(headerLength);
                var bit = random.Next(8);
                bytes[at] ^= (byte)(1 << bit);
                description.Append($" {at}:{bit}");
            }

            return (bytes, description.ToString());
        }

        if (kind < 60)
        {
            var at = random.Next(headerLength);
            byte[] choices = [0, 0xFF, 0x7F, 0x80, (byte)random.Next(256)];
            bytes[at] = choices[random.Next(choices.Length)];
            return (bytes, $"set byte {at} to {bytes[at]}");
        }

        if (kind < 78)
        {
            var at = random.Next(Math.Max(1, (headerLength / 4) - 1)) * 4;
            long[] choices = [0, 1, -1, int.MaxValue, int.MinValue, original.Length, original.Length + 1, original.Length - 4, random.Next(), 0xFFFFFFFFL];
            var value = choices[random.Next(choices.Length)];
            var wide = random.Next(2) == 0 && at + 8 <= bytes.Length;
            if (wide)
            {
                BinaryPrimitives.WriteInt64BigEndian(bytes.AsSpan(at), value);
            }
            else
            {
                BinaryPrimitives.WriteInt32BigEndian(bytes.AsSpan(at), (int)value);
            }

            return (bytes, $"write {(wide ? 8 : 4)}-byte {value} at {at}");
        }

        if (kind < 90)
        {
            var length = random.Next(original.Length);
            return (bytes.AsSpan(0, length).ToArray(), $"truncate to {length}");
        }

        var position = random.Next(headerLength);
        var count = 1 + random.Next(8);
        if (random.Next(2) == 0)
        {
            var inserted = new byte[count];
            random.NextBytes(inserted);
            return ([.. original.AsSpan(0, position), .. inserted, .. original.AsSpan(position)], $"insert {count} at {position}");
        }

        count = Math.Min(count, original.Length - position);
        return ([.. original.AsSpan(0, position), .. original.AsSpan(position + count)], $"delete {count} at {position}");
    }

    // The header field holding a variable's begin value (big-endian, 4 or 8 bytes).
    private static int FindBegin(byte[] bytes, int headerLength, long begin, int size)
    {
        var pattern = new byte[size];
        WriteOffset(pattern, 0, begin, size);
        var found = -1;
        for (var at = 0; at + size <= headerLength; at += 4)
        {
            if (bytes.AsSpan(at, size).SequenceEqual(pattern))
            {
                Assert.Equal(-1, found);
                found = at;
            }
        }

        Assert.True(found >= 0, $"begin {begin} not found in the header");
        return found;
    }

    private static void WriteOffset(byte[] bytes, int at, long value, int size)
    {
        if (size == 4)
        {
            BinaryPrimitives.WriteInt32BigEndian(bytes.AsSpan(at), (int)value);
        }
        else
        {
            BinaryPrimitives.WriteInt64BigEndian(bytes.AsSpan(at), value);
        }
    }
}

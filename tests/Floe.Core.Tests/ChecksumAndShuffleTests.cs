using System.Text;

namespace Floe.Core.Tests;

public sealed class ChecksumAndShuffleTests
{
    // Checksums libhdf5 1.10.8 wrote for these chunks (h5py, fletcher32=True, read_direct_chunk):
    // the last 4 stored bytes, little-endian.
    [Theory]
    [InlineData("abcde", "c729f04f")]
    [InlineData("abcdef", "2d2a5650")]
    [InlineData("ff*1001", "00ff00ff")]
    [InlineData("pattern*2000", "6c10eac6")]
    [InlineData("80", "00800080")]
    public void Fletcher32_matches_checksums_written_by_libhdf5(string input, string storedHex)
    {
        var data = input switch
        {
            "ff*1001" => Enumerable.Repeat((byte)0xFF, 1001).ToArray(),
            "pattern*2000" => [.. Enumerable.Range(0, 2000).Select(i => (byte)(((i * 7) + 3) % 256))],
            "80" => [0x80],
            _ => Encoding.ASCII.GetBytes(input),
        };
        var pipeline = CodecPipeline.Create(TestData.Bytes(data.Length, new CodecSpec("fletcher32")));

        var encoded = pipeline.Encode(data);

        Assert.Equal(data, encoded[..^4]);
        Assert.Equal(storedHex, Convert.ToHexStringLower(encoded[^4..]));
        Assert.Equal(data, pipeline.Decode(encoded));
    }

    [Fact]
    public void Fletcher32_accepts_the_byte_reversed_checksum_that_old_hdf5_wrote()
    {
        var data = Encoding.ASCII.GetBytes("abcdef");
        var pipeline = CodecPipeline.Create(TestData.Bytes(data.Length, new CodecSpec("fletcher32")));
        byte[] stored = [.. data, 0x2a, 0x2d, 0x50, 0x56];

        Assert.Equal(data, pipeline.Decode(stored));
        Assert.Equal(0x50562A2Du, Fletcher32.Compute(data));
        // The reversed form is the textbook (little-endian word) Fletcher-32 of "abcdef", 0x56502D2A.
        Assert.Equal(0x56502D2Au, Fletcher32.Reversed(0x50562A2D));
    }

    [Fact]
    public void Fletcher32_mismatch_throws_codec_exception()
    {
        var data = TestData.RandomBytes(100, seed: 21);
        var pipeline = CodecPipeline.Create(TestData.Bytes(data.Length, new CodecSpec("fletcher32")));
        var encoded = pipeline.Encode(data);
        encoded[10] ^= 1;

        var ex = Assert.Throws<CodecException>(() => pipeline.Decode(encoded));

        Assert.StartsWith("fletcher32 checksum mismatch", ex.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Crc32c_codec_appends_the_little_endian_crc_and_rejects_corruption()
    {
        var data = Encoding.ASCII.GetBytes("123456789");
        var pipeline = CodecPipeline.Create(TestData.Bytes(data.Length, new CodecSpec("crc32c")));

        var encoded = pipeline.Encode(data);

        Assert.Equal("313233343536373839" + "839206e3", Convert.ToHexStringLower(encoded));
        Assert.Equal(data, pipeline.Decode(encoded));
        encoded[^1] ^= 0x80;
        var ex = Assert.Throws<CodecException>(() => pipeline.Decode(encoded));
        Assert.StartsWith("crc32c checksum mismatch", ex.Message, StringComparison.Ordinal);
        Assert.Throws<CodecException>(() => pipeline.Decode([1, 2, 3]));
    }

    [Fact]
    public void Shuffle_matches_the_layout_libhdf5_wrote_for_int32()
    {
        // h5py: np.arange(10, dtype='<i4') * 0x01020304 with shuffle=True, raw chunk bytes.
        var data = Convert.FromHexString("0000000004030201080604020c090603100c0804140f0a0518120c061c150e0720181008241b1209");
        var expected = Convert.FromHexString("0004080c1014181c2024000306090c0f1215181b00020406080a0c0e101200010203040506070809");
        var shuffled = new byte[data.Length];

        ByteShuffle.Shuffle(data, shuffled, 4);

        Assert.Equal(expected, shuffled);
    }

    [Fact]
    public void Shuffle_leaves_a_trailing_remainder_unshuffled_as_hdf5_does()
    {
        byte[] data = [1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11];
        var shuffled = new byte[data.Length];
        var restored = new byte[data.Length];

        ByteShuffle.Shuffle(data, shuffled, 4);
        ByteShuffle.Unshuffle(shuffled, restored, 4);

        Assert.Equal(new byte[] { 1, 5, 2, 6, 3, 7, 4, 8, 9, 10, 11 }, shuffled);
        Assert.Equal(data, restored);
    }

    [Fact]
    public void Shuffle_of_a_single_element_or_element_size_one_is_a_copy()
    {
        byte[] data = [9, 8, 7];
        var output = new byte[3];

        ByteShuffle.Shuffle(data, output, 1);
        Assert.Equal(data, output);
        ByteShuffle.Shuffle(data, output, 4);
        Assert.Equal(data, output);
    }
}

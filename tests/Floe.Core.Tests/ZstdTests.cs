namespace Floe.Core.Tests;

public sealed class ZstdTests
{
    [Theory]
    [InlineData(0)]
    [InlineData(1)]
    [InlineData(4097)]
    public void Small_inputs_round_trip(int length)
    {
        var data = TestData.RandomBytes(length, seed: length);

        var frame = Zstd.Compress(data);

        Assert.Equal(length, Zstd.FrameContentSize(frame));
        Assert.Equal(data, Zstd.Decompress(frame));
    }

    [Fact]
    public void Ten_megabytes_round_trip_and_compress()
    {
        var data = new byte[10 * 1024 * 1024];
        var random = TestData.RandomBytes(4096, seed: 11);
        for (var i = 0; i < data.Length; i += 8192)
        {
            random.AsSpan(0, Math.Min(4096, data.Length - i)).CopyTo(data.AsSpan(i));
        }

        var frame = Zstd.Compress(data, level: 1);
        var destination = new byte[data.Length];
        var written = Zstd.Decompress(frame, destination);

        Assert.True(frame.Length < data.Length / 10, $"frame is {frame.Length} bytes");
        Assert.Equal(data.Length, written);
        Assert.True(data.AsSpan().SequenceEqual(destination));
        Assert.True(data.AsSpan().SequenceEqual(Zstd.Decompress(frame)));
    }

    [Fact]
    public void A_frame_without_content_size_is_decoded_by_growing_a_buffer()
    {
        var data = TestData.Float32Wave(50_000, seed: 12);
        var frame = Zstd.Compress(data, level: 3, checksum: false, includeContentSize: false);

        Assert.Null(Zstd.FrameContentSize(frame));
        Assert.Equal(data, Zstd.Decompress(frame));
    }

    [Fact]
    public void Concatenated_frames_decode_to_both_payloads()
    {
        var first = TestData.RandomBytes(1000, seed: 13);
        var second = TestData.RandomBytes(3000, seed: 14);

        var decoded = Zstd.Decompress([.. Zstd.Compress(first), .. Zstd.Compress(second)]);

        Assert.Equal([.. first, .. second], decoded);
    }

    [Fact]
    public void A_corrupt_frame_throws_codec_exception_with_zstds_error_name()
    {
        var data = TestData.Float32Wave(10_000, seed: 15);
        var frame = Zstd.Compress(data, level: 3, checksum: true);
        frame[frame.Length / 2] ^= 0x55;

        var ex = Assert.Throws<CodecException>(() => Zstd.Decompress(frame));

        Assert.StartsWith("zstd: ", ex.Message, StringComparison.Ordinal);
        Assert.Equal("zstd: Restored data doesn't match checksum.", ex.Message);
    }

    [Fact]
    public void Garbage_and_truncated_frames_throw_codec_exception()
    {
        var frame = Zstd.Compress(TestData.RandomBytes(1000, seed: 16));

        Assert.Throws<CodecException>(() => Zstd.Decompress("not a zstd frame"u8));
        Assert.Throws<CodecException>(() => Zstd.Decompress(ReadOnlySpan<byte>.Empty));
        var ex = Assert.Throws<CodecException>(() => Zstd.Decompress(frame.AsSpan(0, frame.Length - 10)));
        Assert.Contains("zstd", ex.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Decompressing_into_a_too_small_destination_throws()
    {
        var frame = Zstd.Compress(new byte[100]);

        var ex = Assert.Throws<CodecException>(() => Zstd.Decompress(frame, new byte[99]));

        Assert.Contains("too small", ex.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Checksummed_frames_are_four_bytes_longer_and_still_round_trip()
    {
        var data = TestData.RandomBytes(777, seed: 17);

        var plain = Zstd.Compress(data, 3, checksum: false);
        var checksummed = Zstd.Compress(data, 3, checksum: true);

        Assert.Equal(plain.Length + 4, checksummed.Length);
        Assert.Equal(data, Zstd.Decompress(checksummed));
    }

    [Fact]
    public void Levels_outside_zstds_range_are_rejected()
    {
        Assert.Throws<ArgumentOutOfRangeException>(() => Zstd.Compress([1, 2, 3], level: 23));
    }
}

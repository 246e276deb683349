using System.IO.Compression;
using System.Text;

namespace Floe.Core.Tests;

public sealed class DeflateTests
{
    private static CodecPipeline Pipeline(string codec, int length) =>
        CodecPipeline.Create(TestData.Bytes(length, new CodecSpec(codec, new System.Text.Json.Nodes.JsonObject { ["level"] = 1 })));

    [Fact]
    public void Trailer_checksums_match_published_values()
    {
        Assert.Equal(0x11E60398u, DeflateChecksums.Adler32(Encoding.ASCII.GetBytes("Wikipedia")));
        Assert.Equal(0xCBF43926u, DeflateChecksums.Crc32(Encoding.ASCII.GetBytes("123456789")));
        Assert.Equal(1u, DeflateChecksums.Adler32([]));
        // Long runs of 0xFF exercise the deferred modulo.
        var ones = Enumerable.Repeat((byte)0xFF, 100_000).ToArray();
        Assert.Equal(ZlibAdler(ones), DeflateChecksums.Adler32(ones));
    }

    [Theory]
    [InlineData("zlib")]
    [InlineData("gzip")]
    public void Truncated_streams_throw_instead_of_returning_short_data(string codec)
    {
        // Random bytes are stored uncompressed, so cutting the trailer leaves all the payload readable.
        var data = TestData.RandomBytes(3000, seed: 41);
        var pipeline = Pipeline(codec, data.Length);
        var stored = pipeline.Encode(data);

        for (var cut = 1; cut <= 8; cut++)
        {
            var ex = Assert.Throws<CodecException>(() => pipeline.Decode(stored.AsSpan(0, stored.Length - cut)));

            Assert.StartsWith(codec, ex.Message, StringComparison.Ordinal);
        }
    }

    [Fact]
    public void Concatenated_gzip_members_decode_as_one_chunk()
    {
        var first = TestData.RandomBytes(500, seed: 42);
        var second = TestData.Float32Wave(100, seed: 43);
        byte[] stored = [.. GzipMember(first), .. GzipMember(second)];

        var decoded = Pipeline("gzip", first.Length + second.Length).Decode(stored);

        Assert.Equal([.. first, .. second], decoded);
    }

    [Fact]
    public void Zlib_output_starts_with_an_rfc1950_header()
    {
        var stored = Pipeline("zlib", 100).Encode(new byte[100]);

        Assert.Equal(0x78, stored[0]);
        Assert.Equal(0, ((stored[0] << 8) | stored[1]) % 31);
    }

    private static byte[] GzipMember(byte[] data)
    {
        using var output = new MemoryStream();
        using (var gzip = new GZipStream(output, CompressionLevel.Fastest))
        {
            gzip.Write(data);
        }

        return output.ToArray();
    }

    // Adler-32 as zlib writes it: the last 4 bytes (big-endian) of a ZLibStream.
    private static uint ZlibAdler(byte[] data)
    {
        using var output = new MemoryStream();
        using (var zlib = new ZLibStream(output, CompressionLevel.Fastest))
        {
            zlib.Write(data);
        }

        var bytes = output.ToArray();
        return System.Buffers.Binary.BinaryPrimitives.ReadUInt32BigEndian(bytes.AsSpan(bytes.Length - 4));
    }
}

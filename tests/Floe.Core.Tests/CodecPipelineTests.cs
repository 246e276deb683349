using System.Buffers.Binary;
using System.Text.Json.Nodes;

namespace Floe.Core.Tests;

public sealed class CodecPipelineTests
{
    private static CodecSpec Bytes(string endian) => new("bytes", new JsonObject { ["endian"] = endian });

    private static CodecSpec With(string name, string key, JsonNode value) => new(name, new JsonObject { [key] = value });

    [Fact]
    public void Shuffle_zlib_fletcher32_with_big_endian_bytes_round_trips_float32()
    {
        var data = TestData.Float32Wave(64 * 64, seed: 31);
        var metadata = ArrayMetadata.Create([128, 64], DataType.Float32, [64, 64],
            [Bytes("big"), With("shuffle", "elementsize", 4), With("zlib", "level", 6), new CodecSpec("fletcher32")]);
        var pipeline = CodecPipeline.Create(metadata);

        var stored = pipeline.Encode(data);
        var decoded = pipeline.Decode(stored);

        Assert.Equal(data, decoded);
        Assert.True(stored.Length < data.Length, $"{stored.Length} >= {data.Length}");
        Assert.Equal(Fletcher32.Compute(stored.AsSpan(0, stored.Length - 4)), BinaryPrimitives.ReadUInt32LittleEndian(stored.AsSpan(stored.Length - 4)));
    }

    [Fact]
    public void Big_endian_bytes_store_each_element_byte_reversed()
    {
        var data = TestData.Int16Ramp(100);
        var pipeline = CodecPipeline.Create(ArrayMetadata.Create([100], DataType.Int16, [100], [Bytes("big")]));

        var stored = pipeline.Encode(data);

        Assert.Equal(TestData.SwapEach(data, 2), stored);
        Assert.Equal(data, pipeline.Decode(stored));
    }

    [Fact]
    public void Complex_numbers_are_swapped_per_part_not_per_element()
    {
        byte[] data = [.. BitConverter.GetBytes(1.5f), .. BitConverter.GetBytes(-2f)];
        var pipeline = CodecPipeline.Create(ArrayMetadata.Create([1], DataType.Complex64, [1], [Bytes("big")]));

        var stored = pipeline.Encode(data);

        Assert.Equal("3fc00000c0000000", Convert.ToHexStringLower(stored));
        Assert.Equal(data, pipeline.Decode(stored));
    }

    [Fact]
    public void Bytes_and_zstd_round_trips_int16()
    {
        var data = TestData.Int16Ramp(1000);
        var pipeline = CodecPipeline.Create(ArrayMetadata.Create([5000], DataType.Int16, [1000],
            [Bytes("little"), new CodecSpec("zstd", new JsonObject { ["level"] = 3, ["checksum"] = false })]));

        var stored = pipeline.Encode(data);

        Assert.Equal(data.Length, Zstd.FrameContentSize(stored));
        Assert.Equal(data, Zstd.Decompress(stored));
        Assert.Equal(data, pipeline.Decode(stored));
    }

    [Fact]
    public void Gzip_output_is_rfc1952_and_crc32c_wraps_it()
    {
        var data = TestData.Float32Wave(500, seed: 32);
        var pipeline = CodecPipeline.Create(ArrayMetadata.Create([500], DataType.Float32, [500],
            [Bytes("little"), With("gzip", "level", 9), new CodecSpec("crc32c")]));

        var stored = pipeline.Encode(data);

        Assert.Equal(new byte[] { 0x1F, 0x8B }, stored[..2]);
        Assert.Equal(Crc32C.Compute(stored.AsSpan(0, stored.Length - 4)), BinaryPrimitives.ReadUInt32LittleEndian(stored.AsSpan(stored.Length - 4)));
        Assert.Equal(data, pipeline.Decode(stored));
    }

    [Fact]
    public void Transpose_stores_the_chunk_in_the_permuted_order()
    {
        // A 2 x 3 uint16 chunk [[0,1,2],[3,4,5]] transposed to 3 x 2 is [[0,3],[1,4],[2,5]].
        byte[] data = [.. Enumerable.Range(0, 6).SelectMany(i => BitConverter.GetBytes((ushort)i))];
        var pipeline = CodecPipeline.Create(ArrayMetadata.Create([2, 3], DataType.UInt16, [2, 3],
            [With("transpose", "order", new JsonArray(1, 0)), Bytes("little")]));

        var stored = pipeline.Encode(data);

        Assert.Equal(new ushort[] { 0, 3, 1, 4, 2, 5 }, Enumerable.Range(0, 6).Select(i => BitConverter.ToUInt16(stored, i * 2)));
        Assert.Equal(data, pipeline.Decode(stored));
    }

    [Fact]
    public void Three_dimensional_transpose_round_trips_for_every_element_size()
    {
        int[] order = [2, 0, 1];
        foreach (var type in new[] { DataType.UInt8, DataType.Int16, DataType.Float32, DataType.Float64, DataType.Complex128 })
        {
            var data = TestData.RandomBytes(3 * 4 * 5 * type.Size, seed: type.Size);
            var pipeline = CodecPipeline.Create(ArrayMetadata.Create([3, 4, 5], type, [3, 4, 5],
                [With("transpose", "order", new JsonArray([.. order.Select(o => (JsonNode)o)])), type.Size == 1 ? new CodecSpec("bytes") : Bytes("big")]));

            var stored = pipeline.Encode(data);

            // Stored element (k, i, j) of the 5 x 3 x 4 result is decoded element (i, j, k), byte-reversed per part.
            var part = type.ComponentSize;
            var expected = new byte[data.Length];
            for (var k = 0; k < 5; k++)
            {
                for (var i = 0; i < 3; i++)
                {
                    for (var j = 0; j < 4; j++)
                    {
                        var source = ((i * 20) + (j * 5) + k) * type.Size;
                        var target = ((k * 12) + (i * 4) + j) * type.Size;
                        data.AsSpan(source, type.Size).CopyTo(expected.AsSpan(target));
                    }
                }
            }

            Assert.Equal(TestData.SwapEach(expected, part), stored);
            Assert.Equal(data, pipeline.Decode(stored));
        }
    }

    [Fact]
    public void A_chunk_that_decodes_to_the_wrong_length_throws_naming_the_codec_and_lengths()
    {
        var metadata = ArrayMetadata.Create([100], DataType.Float32, [100], [Bytes("little"), With("zlib", "level", 1)]);
        var pipeline = CodecPipeline.Create(metadata);
        var shortChunk = CodecPipeline.Create(metadata with { ChunkShape = [99], Shape = [99] }).Encode(new byte[396]);
        var longChunk = CodecPipeline.Create(metadata with { ChunkShape = [101], Shape = [101] }).Encode(new byte[404]);

        var tooShort = Assert.Throws<CodecException>(() => pipeline.Decode(shortChunk));
        var tooLong = Assert.Throws<CodecException>(() => pipeline.Decode(longChunk));

        Assert.Equal("zlib: decoded chunk is 396 bytes but 400 were expected (100 × float32).", tooShort.Message);
        Assert.Contains("zlib", tooLong.Message, StringComparison.Ordinal);
        Assert.Contains("400", tooLong.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Wrong_lengths_are_caught_for_uncompressed_and_zstd_chunks_too()
    {
        var plain = CodecPipeline.Create(ArrayMetadata.Create([10], DataType.Int32, [10], [Bytes("little")]));
        var zstd = CodecPipeline.Create(ArrayMetadata.Create([10], DataType.Int32, [10], [Bytes("little"), new CodecSpec("zstd")]));

        var plainError = Assert.Throws<CodecException>(() => plain.Decode(new byte[39]));
        var shortError = Assert.Throws<CodecException>(() => zstd.Decode(Zstd.Compress(new byte[36])));
        var longError = Assert.Throws<CodecException>(() => zstd.Decode(Zstd.Compress(new byte[44])));
        var unsizedError = Assert.Throws<CodecException>(() => zstd.Decode(Zstd.Compress(new byte[44], 3, false, includeContentSize: false)));

        Assert.Equal("bytes: decoded chunk is 39 bytes but 40 were expected (10 × int32).", plainError.Message);
        Assert.Equal("zstd: decoded chunk is 36 bytes but 40 were expected (10 × int32).", shortError.Message);
        Assert.Contains("44", longError.Message, StringComparison.Ordinal);
        Assert.StartsWith("zstd", unsizedError.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Corrupt_compressed_chunks_throw_codec_exception_naming_the_codec()
    {
        foreach (var name in new[] { "gzip", "zlib", "zstd" })
        {
            var pipeline = CodecPipeline.Create(ArrayMetadata.Create([256], DataType.UInt8, [256], [new CodecSpec("bytes"), new CodecSpec(name)]));
            var stored = pipeline.Encode(TestData.RandomBytes(256, seed: 33));
            stored[stored.Length / 2] ^= 0xFF;
            stored[(stored.Length / 2) + 1] ^= 0xFF;

            var ex = Assert.Throws<CodecException>(() => pipeline.Decode(stored[..^3]));

            Assert.StartsWith(name, ex.Message, StringComparison.Ordinal);
        }
    }

    [Fact]
    public void Encode_rejects_a_chunk_of_the_wrong_size()
    {
        var pipeline = CodecPipeline.Create(ArrayMetadata.Create([10], DataType.Float64, [10]));

        var ex = Assert.Throws<ArgumentException>(() => pipeline.Encode(new byte[79]));

        Assert.Equal("decodedChunk", ex.ParamName);
    }

    [Fact]
    public void Unknown_codecs_throw_not_supported_naming_them()
    {
        var metadata = ArrayMetadata.Create([10], DataType.Float64, [10], [Bytes("little"), new CodecSpec("blosc")]);

        var ex = Assert.Throws<NotSupportedException>(() => CodecPipeline.Create(metadata));

        Assert.Contains("\"blosc\"", ex.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Numcodecs_prefixed_names_and_default_shuffle_size_are_accepted()
    {
        var data = TestData.Float32Wave(256, seed: 34);
        var prefixed = CodecPipeline.Create(ArrayMetadata.Create([256], DataType.Float32, [256],
            [Bytes("little"), new CodecSpec("numcodecs.shuffle"), new CodecSpec("numcodecs.zlib"), new CodecSpec("numcodecs.fletcher32")]));
        var plain = CodecPipeline.Create(ArrayMetadata.Create([256], DataType.Float32, [256],
            [Bytes("little"), With("shuffle", "elementsize", 4), With("zlib", "level", 6), new CodecSpec("fletcher32")]));

        Assert.Equal(plain.Encode(data), prefixed.Encode(data));
    }

    [Fact]
    public void Decoding_does_not_modify_the_stored_chunk()
    {
        var data = TestData.Int16Ramp(50);
        var pipeline = CodecPipeline.Create(ArrayMetadata.Create([50], DataType.Int16, [50], [Bytes("big")]));
        var stored = pipeline.Encode(data);
        var copy = (byte[])stored.Clone();

        _ = pipeline.Decode(stored);

        Assert.Equal(copy, stored);
    }
}

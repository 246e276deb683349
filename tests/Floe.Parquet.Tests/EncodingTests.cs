using System.Buffers.Binary;
using System.Numerics;
using System.Text;
using Floe.Parquet.Internal;

namespace Floe.Parquet.Tests;

/// <summary>The encodings and codecs on their own (the oracle tests cover them inside files).</summary>
public sealed class EncodingTests
{
    [Theory]
    [InlineData(1)]
    [InlineData(2)]
    [InlineData(3)]
    [InlineData(5)]
    [InlineData(8)]
    [InlineData(13)]
    [InlineData(17)]
    [InlineData(24)]
    [InlineData(31)]
    [InlineData(32)]
    public void Rle_hybrid_round_trips(int bitWidth)
    {
        var random = new Random(bitWidth);
        var max = bitWidth == 32 ? uint.MaxValue : (1u << bitWidth) - 1;
        foreach (var length in new[] { 0, 1, 7, 8, 9, 100, 1000, 10_007 })
        {
            // Mixed: runs of random lengths (short ones become bit-packed, long ones RLE) of random values.
            var values = new int[length];
            for (var i = 0; i < length;)
            {
                var run = random.Next(4) == 0 ? random.Next(1, 40) : 1;
                var value = (int)(uint)random.NextInt64(0, (long)max + 1);
                for (var k = 0; k < run && i < length; k++)
                {
                    values[i++] = value;
                }
            }

            using var buffer = new ByteBuffer();
            RleHybrid.Encode(values, bitWidth, buffer);
            Assert.True(buffer.Length <= RleHybrid.MaxEncodedSize(length, bitWidth), $"{buffer.Length} bytes for {length} values");
            var decoded = new int[length];
            var consumed = RleHybrid.Decode(buffer.WrittenSpan, bitWidth, decoded);
            Assert.Equal(values, decoded);
            Assert.Equal(buffer.Length, consumed);
        }
    }

    [Fact]
    public void Rle_hybrid_uses_runs_for_repeats()
    {
        // 24 equal values per run, 1000 runs of 16-bit values: about 3 bytes a run.
        var values = Enumerable.Range(0, 24_000).Select(i => (i / 24 * 7) & 0xFFFF).ToArray();
        using var buffer = new ByteBuffer();
        RleHybrid.Encode(values, 16, buffer);
        Assert.InRange(buffer.Length, 2900, 3200);
        var decoded = new int[values.Length];
        RleHybrid.Decode(buffer.WrittenSpan, 16, decoded);
        Assert.Equal(values, decoded);

        // A leading odd stretch pads to a group of eight before the run.
        values = [1, 2, 3, .. Enumerable.Repeat(5, 50), 6];
        buffer.Clear();
        RleHybrid.Encode(values, 3, buffer);
        decoded = new int[values.Length];
        RleHybrid.Decode(buffer.WrittenSpan, 3, decoded);
        Assert.Equal(values, decoded);
    }

    [Fact]
    public void Boolean_levels_round_trip()
    {
        var random = new Random(4);
        foreach (var length in new[] { 1, 8, 9, 64, 1000, 5003 })
        {
            foreach (var pattern in new Func<int, bool>[] { _ => true, _ => false, i => i % 2 == 0, _ => random.Next(10) != 0, i => i / 100 % 2 == 0 })
            {
                var values = Enumerable.Range(0, length).Select(pattern).ToArray();
                using var buffer = new ByteBuffer();
                RleHybrid.EncodeBooleans(values, buffer);
                var decoded = new int[length];
                RleHybrid.Decode(buffer.WrittenSpan, 1, decoded);
                Assert.Equal(values, decoded.Select(v => v == 1).ToArray());

                var packed = new byte[(length + 7) / 8];
                BitPacking.PackBooleans(values, packed);
                var unpacked = new bool[length];
                BitPacking.UnpackBooleans(packed, unpacked);
                Assert.Equal(values, unpacked);
            }
        }
    }

    [Fact]
    public void Rle_decoder_refuses_malformed_input()
    {
        var output = new int[10];
        Assert.Throws<InvalidDataException>(() => RleHybrid.Decode([], 3, output));
        Assert.Throws<InvalidDataException>(() => RleHybrid.Decode([0x00], 3, output)); // run of length 0
        Assert.Throws<InvalidDataException>(() => RleHybrid.Decode([0x14], 8, output)); // run value missing
        Assert.Throws<InvalidDataException>(() => RleHybrid.Decode([0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF], 3, output));
        Assert.Throws<InvalidDataException>(() => RleHybrid.Decode([0x03], 33, output));
    }

    [Fact]
    public void Snappy_round_trips()
    {
        var random = new Random(2);
        List<byte[]> inputs =
        [
            [],
            [42],
            Encoding.UTF8.GetBytes("hello hello hello hello hello hello hello hello"),
            Data.RandomBytes(random, 100_000),
            new byte[300_000],
            Enumerable.Range(0, 200_000).Select(i => (byte)(i % 251 ^ (i >> 10))).ToArray(),
            Encoding.UTF8.GetBytes(string.Concat(Enumerable.Range(0, 20_000).Select(i => $"row {i % 300}, value {i * 7 % 1000};"))),
        ];
        foreach (var input in inputs)
        {
            var compressed = new byte[Snappy.MaxCompressedLength(input.Length)];
            var length = Snappy.Compress(input, compressed);
            Assert.Equal(input.Length, Snappy.UncompressedLength(compressed.AsSpan(0, length)));
            var output = new byte[input.Length];
            Assert.Equal(input.Length, Snappy.Decompress(compressed.AsSpan(0, length), output));
            Assert.Equal(input, output);
            if (input.Length == 300_000)
            {
                Assert.True(length < 20_000, $"zeros compress to {length} bytes");
            }
        }
    }

    [Fact]
    public void Snappy_decoder_refuses_malformed_input()
    {
        var output = new byte[16];
        Assert.Throws<InvalidDataException>(() => Snappy.Decompress([0x20], output)); // declares 32 bytes
        Assert.Throws<InvalidDataException>(() => Snappy.Decompress([0x04, 0x0C, (byte)'a'], output)); // literal runs past the input
        Assert.Throws<InvalidDataException>(() => Snappy.Decompress([0x04, 0x01, 0x05], output)); // copy before any output
        Assert.Throws<InvalidDataException>(() => Snappy.Decompress([0x04, 0x00, (byte)'a'], output)); // holds 1 byte, declares 4
    }

    [Fact]
    public void Thrift_compact_protocol_round_trips_and_skips_unknown_fields()
    {
        using var buffer = new ByteBuffer();
        var writer = new CompactWriter(buffer);
        writer.BeginStruct();
        writer.FieldI32(1, -7);
        writer.FieldI64(3, long.MinValue);
        writer.FieldString(4, "naïve");
        writer.FieldBool(5, true);
        writer.BeginStructField(40); // a long field id jump, and an unknown nested struct
        writer.FieldBinary(1, [1, 2, 3]);
        writer.BeginListField(2, CompactType.I32, 20);
        for (var i = 0; i < 20; i++)
        {
            writer.I32(i * 1000);
        }

        writer.EndStruct();
        writer.FieldBool(41, false);
        writer.EndStruct();

        var reader = new CompactReader(buffer.WrittenSpan);
        reader.BeginStruct();
        var seen = new List<string>();
        while (reader.NextField(out var id, out var type))
        {
            switch (id)
            {
                case 1: seen.Add($"i32 {reader.ReadI32(type)}"); break;
                case 3: seen.Add($"i64 {reader.ReadI64(type)}"); break;
                case 4: seen.Add($"string {reader.ReadString(type)}"); break;
                case 5 or 41: seen.Add($"bool {reader.BoolValue(type)}"); break;
                default: reader.Skip(type); seen.Add($"skipped {id}"); break;
            }
        }

        Assert.Equal(["i32 -7", $"i64 {long.MinValue}", "string naïve", "bool True", "skipped 40", "bool False"], seen);
        Assert.Equal(buffer.Length, reader.Position);
    }

    [Fact]
    public void Delta_binary_packed_decodes_what_a_reference_encoder_writes()
    {
        var random = new Random(8);
        foreach (var length in new[] { 1, 2, 31, 32, 33, 128, 129, 1000 })
        {
            var values = Enumerable.Range(0, length).Select(i => i switch
            {
                0 => long.MaxValue,
                1 => long.MinValue,
                _ when i % 50 == 0 => random.NextInt64(),
                _ => i * 3L - 7,
            }).ToArray();
            var encoded = DeltaEncode(values, trailingBytes: [0xAB]);
            var decoded = new long[length];
            var consumed = ValueDecoders.DeltaBinaryPacked(encoded, decoded, out var produced);
            Assert.Equal(length, produced);
            Assert.Equal(values, decoded);
            Assert.Equal(encoded.Length - 1, consumed);
        }
    }

    [Fact]
    public void Delta_byte_array_and_rle_boolean_pages_decode()
    {
        // DELTA_BYTE_ARRAY: prefix lengths, suffix lengths, suffix bytes.
        string[] words = ["apple", "applesauce", "application", "apply", "banana", "band", "", "bandana"];
        var prefixes = new long[words.Length];
        for (var i = 1; i < words.Length; i++)
        {
            var k = 0;
            while (k < words[i].Length && k < words[i - 1].Length && words[i][k] == words[i - 1][k])
            {
                k++;
            }

            prefixes[i] = k;
        }

        var suffixes = words.Select((w, i) => w[(int)prefixes[i]..]).ToArray();
        byte[] data = [.. DeltaEncode(prefixes), .. DeltaEncode(suffixes.Select(s => (long)s.Length).ToArray()), .. Encoding.UTF8.GetBytes(string.Concat(suffixes))];
        var read = ChunkDecoder.Decode(Page(EncodingKind.DeltaByteArray, words.Length, data), new ColumnLayout(ParquetField.String("w"), PhysicalType.ByteArray, 0, 0), CodecKind.Uncompressed, words.Length);
        Assert.Equal(words, read.AsString());

        // DELTA_LENGTH_BYTE_ARRAY.
        data = [.. DeltaEncode(words.Select(w => (long)w.Length).ToArray()), .. Encoding.UTF8.GetBytes(string.Concat(words))];
        read = ChunkDecoder.Decode(Page(EncodingKind.DeltaLengthByteArray, words.Length, data), new ColumnLayout(ParquetField.String("w"), PhysicalType.ByteArray, 0, 0), CodecKind.Uncompressed, words.Length);
        Assert.Equal(words, read.AsString());

        // RLE booleans: a 4-byte length, then the hybrid runs of width 1.
        var bools = Enumerable.Range(0, 100).Select(i => i < 40 || i % 3 == 0).ToArray();
        using var runs = new ByteBuffer();
        RleHybrid.EncodeBooleans(bools, runs);
        data = [.. BitConverter.GetBytes(runs.Length), .. runs.WrittenSpan];
        read = ChunkDecoder.Decode(Page(EncodingKind.Rle, bools.Length, data), new ColumnLayout(ParquetField.Boolean("b"), PhysicalType.Boolean, 0, 0), CodecKind.Uncompressed, bools.Length);
        Assert.Equal(bools, read.AsBoolean());

        // DELTA_BINARY_PACKED for INT32 wraps like the 32-bit arithmetic that wrote it.
        int[] ints = [int.MaxValue, int.MinValue, 0, -1, 5, int.MaxValue];
        data = DeltaEncode(ints.Select(v => (long)v).ToArray());
        read = ChunkDecoder.Decode(Page(EncodingKind.DeltaBinaryPacked, ints.Length, data), new ColumnLayout(ParquetField.Int32("i"), PhysicalType.Int32, 0, 0), CodecKind.Uncompressed, ints.Length);
        Assert.Equal(ints, read.AsInt32());
    }

    /// <summary>A required column's chunk of one v1 data page holding <paramref name="data"/>.</summary>
    private static byte[] Page(EncodingKind encoding, int values, byte[] data)
    {
        using var buffer = new ByteBuffer();
        new PageHeader
        {
            Type = PageKind.DataPage,
            UncompressedSize = data.Length,
            CompressedSize = data.Length,
            NumValues = values,
            Encoding = encoding,
            DefinitionLevelEncoding = EncodingKind.Rle,
            RepetitionLevelEncoding = EncodingKind.Rle,
        }.Write(new CompactWriter(buffer));
        buffer.Write(data);
        return buffer.WrittenSpan.ToArray();
    }

    /// <summary>A plain reference DELTA_BINARY_PACKED encoder: blocks of 128 values in 4 miniblocks of 32.</summary>
    private static byte[] DeltaEncode(long[] values, byte[]? trailingBytes = null)
    {
        var output = new List<byte>();
        void Varint(ulong v)
        {
            while (v >= 0x80)
            {
                output.Add((byte)(v | 0x80));
                v >>= 7;
            }

            output.Add((byte)v);
        }

        void ZigZag(long v) => Varint((ulong)((v << 1) ^ (v >> 63)));

        Varint(128);
        Varint(4);
        Varint((ulong)values.Length);
        ZigZag(values.Length > 0 ? values[0] : 0);
        for (var start = 1; start < values.Length; start += 128)
        {
            var count = Math.Min(128, values.Length - start);
            var deltas = Enumerable.Range(start, count).Select(i => unchecked(values[i] - values[i - 1])).ToArray();
            var min = deltas.Min();
            ZigZag(min);
            var adjusted = deltas.Select(d => unchecked((ulong)(d - min))).ToArray();
            var widths = new int[4];
            for (var m = 0; m < 4; m++)
            {
                var slice = adjusted.Skip(m * 32).Take(32).ToArray();
                widths[m] = slice.Length == 0 ? 0 : 64 - BitOperations.LeadingZeroCount(slice.Max());
                output.Add((byte)widths[m]);
            }

            for (var m = 0; m < 4 && m * 32 < count; m++)
            {
                var bits = new System.Collections.BitArray(32 * widths[m]);
                for (var i = 0; i < 32; i++)
                {
                    var value = m * 32 + i < count ? adjusted[m * 32 + i] : 0;
                    for (var b = 0; b < widths[m]; b++)
                    {
                        bits[(i * widths[m]) + b] = ((value >> b) & 1) != 0;
                    }
                }

                var bytes = new byte[4 * widths[m]];
                bits.CopyTo(bytes, 0);
                output.AddRange(bytes);
            }
        }

        output.AddRange(trailingBytes ?? []);
        return [.. output];
    }

    [Fact]
    public void Int96_converts_to_nanoseconds_since_the_epoch()
    {
        var value = new byte[12];
        BinaryPrimitives.WriteInt64LittleEndian(value, 3_600_000_000_123);
        BinaryPrimitives.WriteInt32LittleEndian(value.AsSpan(8), 2_440_589); // 1970-01-02
        Assert.Equal(86_400_000_000_000 + 3_600_000_000_123, ValueDecoders.Int96ToNanos(value));
    }
}

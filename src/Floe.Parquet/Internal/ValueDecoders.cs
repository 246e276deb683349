using System.Buffers;
using System.Buffers.Binary;

namespace Floe.Parquet.Internal;

/// <summary>Decoders for the encodings the writer never produces but other writers do (DELTA_*, BYTE_STREAM_SPLIT).</summary>
internal static class ValueDecoders
{
    /// <summary>
    /// DELTA_BINARY_PACKED: decodes up to output.Length values (the page's value count) as 64-bit integers (32-bit
    /// columns take the low half: the arithmetic wraps the same way). Returns the bytes consumed.
    /// </summary>
    public static int DeltaBinaryPacked(ReadOnlySpan<byte> data, Span<long> output, out int produced)
    {
        var pos = 0;
        var blockSize = RleHybrid.ReadVarint(data, ref pos);
        var miniblocks = RleHybrid.ReadVarint(data, ref pos);
        var total = RleHybrid.ReadVarint(data, ref pos);
        var first = ZigZag(RleHybrid.ReadVarint(data, ref pos));
        if (blockSize == 0 || blockSize > 1 << 20 || miniblocks == 0 || blockSize % miniblocks != 0 || blockSize / miniblocks % 8 != 0)
        {
            throw new InvalidDataException($"DELTA_BINARY_PACKED header has block size {blockSize} with {miniblocks} miniblocks");
        }

        var wanted = (int)Math.Min(total, (ulong)output.Length);
        produced = 0;
        if (wanted == 0)
        {
            return pos;
        }

        var perMini = (int)(blockSize / miniblocks);
        var unpacked = ArrayPool<ulong>.Shared.Rent(perMini);
        try
        {
            var last = first;
            output[produced++] = first;
            while (produced < wanted)
            {
                var minDelta = ZigZag(RleHybrid.ReadVarint(data, ref pos));
                if (pos + (int)miniblocks > data.Length)
                {
                    throw new InvalidDataException("DELTA_BINARY_PACKED miniblock widths past the end of the data");
                }

                var widths = data.Slice(pos, (int)miniblocks);
                pos += (int)miniblocks;
                for (var m = 0; m < widths.Length && produced < wanted; m++)
                {
                    int width = widths[m];
                    if (width > 64)
                    {
                        throw new InvalidDataException($"DELTA_BINARY_PACKED miniblock bit width {width}");
                    }

                    var take = Math.Min(perMini, wanted - produced);
                    var bytes = perMini * width / 8;

                    // The last miniblock should be padded to full size; accept one cut at its last value.
                    var available = Math.Min(bytes, data.Length - pos);
                    var values = unpacked.AsSpan(0, take);
                    BitPacking.Unpack64(data.Slice(pos, available), width, values);
                    foreach (var delta in values)
                    {
                        last = unchecked(last + minDelta + (long)delta);
                        output[produced++] = last;
                    }

                    pos += available;
                }
            }
        }
        finally
        {
            ArrayPool<ulong>.Shared.Return(unpacked);
        }

        return pos;
    }

    private static long ZigZag(ulong raw) => (long)(raw >> 1) ^ -(long)(raw & 1);

    /// <summary>BYTE_STREAM_SPLIT: byte k of value i is at data[k * count + i].</summary>
    public static void ByteStreamSplit(ReadOnlySpan<byte> data, int width, int count, Span<byte> output)
    {
        if ((long)width * count > data.Length)
        {
            throw new InvalidDataException($"BYTE_STREAM_SPLIT data holds {data.Length} bytes, fewer than {count} values of {width} bytes");
        }

        for (var k = 0; k < width; k++)
        {
            var stream = data.Slice(k * count, count);
            for (var i = 0; i < count; i++)
            {
                output[(i * width) + k] = stream[i];
            }
        }
    }

    /// <summary>INT96 (8 bytes nanoseconds of the day, 4 bytes Julian day) to nanoseconds since the epoch.</summary>
    public static long Int96ToNanos(ReadOnlySpan<byte> value)
    {
        const long JulianEpochDay = 2_440_588;
        const long NanosPerDay = 86_400_000_000_000;
        var nanos = BinaryPrimitives.ReadInt64LittleEndian(value);
        var day = BinaryPrimitives.ReadInt32LittleEndian(value[8..]);
        return unchecked(((day - JulianEpochDay) * NanosPerDay) + nanos);
    }
}

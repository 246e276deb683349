using System.Buffers.Binary;
using System.Numerics;
using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;

namespace Floe.Parquet.Internal;

/// <summary>
/// The RLE / bit-packing hybrid encoding (definition levels, dictionary indices, RLE booleans): runs of one repeated
/// value are RLE runs, everything else goes into bit-packed groups of eight values.
/// </summary>
internal static class RleHybrid
{
    // A repeat shorter than this stays inside bit-packed groups: an RLE run costs a header plus the value, and
    // breaking a bit-packed stretch costs another header and padding.
    private const int MinRun = 8;

    public static int BitWidth(uint maxValue) => maxValue == 0 ? 0 : 32 - BitOperations.LeadingZeroCount(maxValue);

    /// <summary>An upper bound of the encoded size of <paramref name="count"/> values.</summary>
    public static int MaxEncodedSize(int count, int bitWidth) =>
        checked((((count + 7) / 8) * (bitWidth + 1)) + 16 + (count / MinRun * 6));

    /// <summary>Appends the encoding of <paramref name="values"/> (each below 2^<paramref name="bitWidth"/>).</summary>
    public static void Encode(ReadOnlySpan<int> values, int bitWidth, ByteBuffer output)
    {
        var n = values.Length;
        var valueBytes = (bitWidth + 7) / 8;
        var literalStart = 0;
        var i = 0;
        while (i < n)
        {
            // Find the run starting at i.
            var v = values[i];
            var j = i + 1;
            while (j < n && values[j] == v)
            {
                j++;
            }

            var run = j - i;
            if (run < MinRun)
            {
                i = j;
                continue;
            }

            // A long run: the pending literals must fill whole groups of eight, so the run lends them the values
            // needed to round up (they are equal to v, so any of the run's values will do).
            var pending = i - literalStart;
            var pad = (8 - (pending & 7)) & 7;
            if (run - pad < MinRun)
            {
                i = j;
                continue;
            }

            if (pending + pad > 0)
            {
                WriteBitPacked(values.Slice(literalStart, pending + pad), bitWidth, output);
            }

            var runStart = i + pad;
            output.WriteVarint((ulong)(uint)(j - runStart) << 1);
            var span = output.GetSpan(4);
            BinaryPrimitives.WriteInt32LittleEndian(span, v);
            output.Advance(valueBytes);
            i = j;
            literalStart = j;
        }

        if (literalStart < n)
        {
            WriteBitPacked(values[literalStart..], bitWidth, output);
        }
    }

    /// <summary>Appends the bit-width-1 encoding of <paramref name="values"/> (definition levels of optional columns).</summary>
    public static void EncodeBooleans(ReadOnlySpan<bool> values, ByteBuffer output)
    {
        var n = values.Length;
        var literalStart = 0;
        var i = 0;
        while (i < n)
        {
            var v = values[i];
            var next = values[(i + 1)..].IndexOf(!v);
            var j = next < 0 ? n : i + 1 + next;
            var run = j - i;
            if (run < MinRun)
            {
                i = j;
                continue;
            }

            var pending = i - literalStart;
            var pad = (8 - (pending & 7)) & 7;
            if (run - pad < MinRun)
            {
                i = j;
                continue;
            }

            if (pending + pad > 0)
            {
                WriteBitPackedBooleans(values.Slice(literalStart, pending + pad), output);
            }

            output.WriteVarint((ulong)(uint)(j - i - pad) << 1);
            output.WriteByte(v ? (byte)1 : (byte)0);
            i = j;
            literalStart = j;
        }

        if (literalStart < n)
        {
            WriteBitPackedBooleans(values[literalStart..], output);
        }
    }

    private static void WriteBitPackedBooleans(ReadOnlySpan<bool> values, ByteBuffer output)
    {
        var groups = (values.Length + 7) / 8;
        output.WriteVarint(((ulong)(uint)groups << 1) | 1);
        BitPacking.PackBooleans(values, output.GetSpan(groups));
        output.Advance(groups);
    }

    /// <summary>Bit-packed groups for <paramref name="values"/>; a count that is not a multiple of 8 is padded with zeros.</summary>
    private static void WriteBitPacked(ReadOnlySpan<int> values, int bitWidth, ByteBuffer output)
    {
        var groups = (values.Length + 7) / 8;
        output.WriteVarint(((ulong)(uint)groups << 1) | 1);
        var bytes = groups * bitWidth;
        var span = output.GetSpan(bytes + 8);
        span[..bytes].Clear();
        BitPacking.Pack(values, bitWidth, span);
        output.Advance(bytes);
    }

    /// <summary>
    /// Decodes exactly <paramref name="output"/>.Length values; returns the number of bytes consumed (the end of the
    /// last run read). Throws <see cref="InvalidDataException"/> on malformed input.
    /// </summary>
    public static int Decode(ReadOnlySpan<byte> data, int bitWidth, Span<int> output)
    {
        if (bitWidth is < 0 or > 32)
        {
            throw new InvalidDataException($"RLE bit width {bitWidth} is out of range");
        }

        var valueBytes = (bitWidth + 7) / 8;
        var pos = 0;
        var produced = 0;
        while (produced < output.Length)
        {
            var header = ReadVarint(data, ref pos);
            if ((header & 1) == 0)
            {
                var count = header >> 1;
                if (count == 0 || count > (ulong)(output.Length - produced))
                {
                    // Writers may pad runs past the end; never write beyond the output.
                    count = count == 0 ? throw new InvalidDataException("RLE run of length 0") : (ulong)(output.Length - produced);
                }

                if (pos + valueBytes > data.Length)
                {
                    throw new InvalidDataException("RLE run value past the end of the data");
                }

                var value = 0;
                for (var b = 0; b < valueBytes; b++)
                {
                    value |= data[pos + b] << (8 * b);
                }

                pos += valueBytes;
                output.Slice(produced, (int)count).Fill(value);
                produced += (int)count;
            }
            else
            {
                var groups = header >> 1;
                var bytes = groups * (ulong)bitWidth;
                if (groups == 0 || bytes > (ulong)(data.Length - pos))
                {
                    // The final group may be cut short by writers that count bytes exactly; decode what is there.
                    if (groups == 0)
                    {
                        throw new InvalidDataException("bit-packed run of 0 groups");
                    }

                    bytes = (ulong)(data.Length - pos);
                }

                var available = bitWidth == 0 ? groups * 8 : bytes * 8 / (ulong)bitWidth;
                var take = (int)Math.Min(Math.Min(groups * 8, available), (ulong)(output.Length - produced));
                if (take == 0)
                {
                    throw new InvalidDataException("bit-packed run past the end of the data");
                }

                BitPacking.Unpack(data.Slice(pos, (int)bytes), bitWidth, output.Slice(produced, take));
                produced += take;
                pos += (int)bytes;
            }
        }

        return pos;
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    internal static ulong ReadVarint(ReadOnlySpan<byte> data, ref int pos)
    {
        ulong result = 0;
        for (var shift = 0; shift < 64; shift += 7)
        {
            if (pos >= data.Length)
            {
                throw new InvalidDataException("varint past the end of the data");
            }

            var b = data[pos++];
            result |= (ulong)(b & 0x7F) << shift;
            if (b < 0x80)
            {
                return result;
            }
        }

        throw new InvalidDataException("varint longer than 10 bytes");
    }
}

/// <summary>LSB-first bit packing as Parquet uses it.</summary>
internal static class BitPacking
{
    /// <summary>Packs values at <paramref name="bitWidth"/> (≤ 32) into <paramref name="output"/>, which must have 8 spare bytes past the packed length.</summary>
    public static void Pack(ReadOnlySpan<int> values, int bitWidth, Span<byte> output)
    {
        if (bitWidth == 0)
        {
            return;
        }

        ulong acc = 0;
        var bits = 0;
        var o = 0;
        ref var dst = ref MemoryMarshal.GetReference(output);
        var limit = output.Length - 8;
        foreach (var v in values)
        {
            acc |= (ulong)(uint)v << bits;
            bits += bitWidth;
            if (bits >= 32)
            {
                if (o > limit)
                {
                    throw new ArgumentException("bit-packing output too small");
                }

                Unsafe.WriteUnaligned(ref Unsafe.Add(ref dst, o), (uint)acc);
                o += 4;
                acc >>= 32;
                bits -= 32;
            }
        }

        while (bits > 0)
        {
            output[o++] = (byte)acc;
            acc >>= 8;
            bits -= 8;
        }
    }

    /// <summary>Packs booleans one bit each, LSB first, into (count + 7) / 8 bytes (PLAIN booleans).</summary>
    public static void PackBooleans(ReadOnlySpan<bool> values, Span<byte> output)
    {
        var bytes = MemoryMarshal.AsBytes(values);
        var full = values.Length / 8;
        for (var g = 0; g < full; g++)
        {
            // Eight 0/1 bytes gather into one byte: bit k of the product's top byte is byte k of the input.
            var word = BinaryPrimitives.ReadUInt64LittleEndian(bytes.Slice(g * 8, 8));
            output[g] = (byte)((word * 0x0102040810204080UL) >> 56);
        }

        if (full * 8 < values.Length)
        {
            byte last = 0;
            for (var k = full * 8; k < values.Length; k++)
            {
                if (values[k])
                {
                    last |= (byte)(1 << (k & 7));
                }
            }

            output[full] = last;
        }
    }

    /// <summary>Unpacks output.Length booleans stored one bit each, LSB first.</summary>
    public static void UnpackBooleans(ReadOnlySpan<byte> data, Span<bool> output)
    {
        if ((output.Length + 7) / 8 > data.Length)
        {
            throw new InvalidDataException("boolean data shorter than its values");
        }

        for (var i = 0; i < output.Length; i++)
        {
            output[i] = ((data[i >> 3] >> (i & 7)) & 1) != 0;
        }
    }

    /// <summary>Unpacks output.Length values of <paramref name="bitWidth"/> (≤ 32) bits.</summary>
    public static void Unpack(ReadOnlySpan<byte> data, int bitWidth, Span<int> output)
    {
        if (bitWidth == 0)
        {
            output.Clear();
            return;
        }

        var mask = bitWidth == 32 ? uint.MaxValue : (1u << bitWidth) - 1;
        var n = output.Length;
        if ((((long)n * bitWidth) + 7) / 8 > data.Length)
        {
            throw new InvalidDataException("bit-packed data shorter than its values");
        }

        ref var src = ref MemoryMarshal.GetReference(data);
        var i = 0;
        long bitPos = 0;

        // Fast path while an 8-byte read stays inside the data.
        var safeEnd = data.Length - 8;
        for (; i < n; i++, bitPos += bitWidth)
        {
            var byteIndex = (int)(bitPos >> 3);
            if (byteIndex > safeEnd)
            {
                break;
            }

            var word = Unsafe.ReadUnaligned<ulong>(ref Unsafe.Add(ref src, byteIndex));
            output[i] = (int)((uint)(word >> (int)(bitPos & 7)) & mask);
        }

        for (; i < n; i++, bitPos += bitWidth)
        {
            var byteIndex = (int)(bitPos >> 3);
            ulong word = 0;
            for (var b = 0; b < 8 && byteIndex + b < data.Length; b++)
            {
                word |= (ulong)data[byteIndex + b] << (8 * b);
            }

            output[i] = (int)((uint)(word >> (int)(bitPos & 7)) & mask);
        }
    }

    /// <summary>Unpacks output.Length values of up to 64 bits (DELTA_BINARY_PACKED miniblocks).</summary>
    public static void Unpack64(ReadOnlySpan<byte> data, int bitWidth, Span<ulong> output)
    {
        if (bitWidth == 0)
        {
            output.Clear();
            return;
        }

        if ((((long)output.Length * bitWidth) + 7) / 8 > data.Length)
        {
            throw new InvalidDataException("bit-packed data shorter than its values");
        }

        var mask = bitWidth == 64 ? ulong.MaxValue : (1UL << bitWidth) - 1;
        long bitPos = 0;
        for (var i = 0; i < output.Length; i++, bitPos += bitWidth)
        {
            var byteIndex = (int)(bitPos >> 3);
            var shift = (int)(bitPos & 7);
            var low = ReadPartial(data, byteIndex) >> shift;
            if (shift + bitWidth > 64)
            {
                low |= (ulong)data[byteIndex + 8] << (64 - shift);
            }

            output[i] = low & mask;
        }
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static ulong ReadPartial(ReadOnlySpan<byte> data, int index)
    {
        if (index + 8 <= data.Length)
        {
            return BinaryPrimitives.ReadUInt64LittleEndian(data[index..]);
        }

        ulong word = 0;
        for (var b = 0; index + b < data.Length && b < 8; b++)
        {
            word |= (ulong)data[index + b] << (8 * b);
        }

        return word;
    }
}

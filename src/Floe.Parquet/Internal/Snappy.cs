using System.Buffers.Binary;
using System.Numerics;
using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;

namespace Floe.Parquet.Internal;

/// <summary>
/// The Snappy raw format (as Parquet stores it: no framing): a varint uncompressed length, then literals and
/// back-references. Compression works on independent 64 KiB blocks with a greedy hash matcher.
/// </summary>
internal static class Snappy
{
    private const int BlockSize = 1 << 16;
    private const int HashBits = 14;
    private const int InputMargin = 15;

    public static int MaxCompressedLength(int length) => checked(32 + length + (length / 6));

    /// <summary>Compresses <paramref name="input"/> into <paramref name="output"/> (at least <see cref="MaxCompressedLength"/> bytes); returns the length.</summary>
    public static int Compress(ReadOnlySpan<byte> input, Span<byte> output)
    {
        var op = WriteVarint(output, (uint)input.Length);
        Span<ushort> table = stackalloc ushort[1 << HashBits];
        for (var start = 0; start < input.Length; start += BlockSize)
        {
            var block = input.Slice(start, Math.Min(BlockSize, input.Length - start));
            table.Clear();
            op = CompressBlock(block, output, op, table);
        }

        return op;
    }

    private static int CompressBlock(ReadOnlySpan<byte> block, Span<byte> output, int op, Span<ushort> table)
    {
        var length = block.Length;
        var nextEmit = 0;
        if (length >= InputMargin + 1)
        {
            ref var src = ref MemoryMarshal.GetReference(block);
            var ipLimit = length - InputMargin;
            var ip = 1;
            while (true)
            {
                // Look for a 4-byte match, skipping faster through incompressible data.
                var skip = 32;
                var nextIp = ip;
                int candidate;
                do
                {
                    ip = nextIp;
                    nextIp = ip + (skip++ >> 5);
                    if (nextIp > ipLimit)
                    {
                        goto Remainder;
                    }

                    var h = Hash(Load32(ref src, ip));
                    candidate = table[h];
                    table[h] = (ushort)ip;
                }
                while (Load32(ref src, ip) != Load32(ref src, candidate));

                op = EmitLiteral(block[nextEmit..ip], output, op);

                // Emit copies while the next position keeps matching.
                do
                {
                    var matched = 4 + MatchLength(block, candidate + 4, ip + 4);
                    op = EmitCopy(output, op, ip - candidate, matched);
                    ip += matched;
                    nextEmit = ip;
                    if (ip >= ipLimit)
                    {
                        goto Remainder;
                    }

                    table[Hash(Load32(ref src, ip - 1))] = (ushort)(ip - 1);
                    var h = Hash(Load32(ref src, ip));
                    candidate = table[h];
                    table[h] = (ushort)ip;
                }
                while (Load32(ref src, ip) == Load32(ref src, candidate));

                ip++;
            }
        }

    Remainder:
        if (nextEmit < length)
        {
            op = EmitLiteral(block[nextEmit..], output, op);
        }

        return op;
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static uint Load32(ref byte src, int index) => Unsafe.ReadUnaligned<uint>(ref Unsafe.Add(ref src, index));

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static int Hash(uint bytes) => (int)((bytes * 0x1E35A7BDu) >> (32 - HashBits));

    private static int MatchLength(ReadOnlySpan<byte> block, int a, int b)
    {
        var start = b;
        while (b + 8 <= block.Length)
        {
            var x = BinaryPrimitives.ReadUInt64LittleEndian(block[a..]) ^ BinaryPrimitives.ReadUInt64LittleEndian(block[b..]);
            if (x != 0)
            {
                return b - start + (BitOperations.TrailingZeroCount(x) >> 3);
            }

            a += 8;
            b += 8;
        }

        while (b < block.Length && block[a] == block[b])
        {
            a++;
            b++;
        }

        return b - start;
    }

    private static int EmitLiteral(ReadOnlySpan<byte> literal, Span<byte> output, int op)
    {
        var n = literal.Length - 1;
        if (n < 60)
        {
            output[op++] = (byte)(n << 2);
        }
        else
        {
            var extra = n < 1 << 8 ? 1 : n < 1 << 16 ? 2 : n < 1 << 24 ? 3 : 4;
            output[op++] = (byte)((59 + extra) << 2);
            for (var i = 0; i < extra; i++)
            {
                output[op++] = (byte)(n >> (8 * i));
            }
        }

        literal.CopyTo(output[op..]);
        return op + literal.Length;
    }

    private static int EmitCopy(Span<byte> output, int op, int offset, int length)
    {
        while (length >= 68)
        {
            op = EmitCopy2(output, op, offset, 64);
            length -= 64;
        }

        if (length > 64)
        {
            op = EmitCopy2(output, op, offset, 60);
            length -= 60;
        }

        if (length >= 12 || offset >= 2048)
        {
            return EmitCopy2(output, op, offset, length);
        }

        output[op++] = (byte)(1 | ((length - 4) << 2) | ((offset >> 8) << 5));
        output[op++] = (byte)offset;
        return op;
    }

    private static int EmitCopy2(Span<byte> output, int op, int offset, int length)
    {
        output[op++] = (byte)(2 | ((length - 1) << 2));
        BinaryPrimitives.WriteUInt16LittleEndian(output[op..], (ushort)offset);
        return op + 2;
    }

    private static int WriteVarint(Span<byte> output, uint value)
    {
        var i = 0;
        while (value >= 0x80)
        {
            output[i++] = (byte)(value | 0x80);
            value >>= 7;
        }

        output[i++] = (byte)value;
        return i;
    }

    /// <summary>The uncompressed length the data declares.</summary>
    public static int UncompressedLength(ReadOnlySpan<byte> input)
    {
        var pos = 0;
        var length = RleHybrid.ReadVarint(input, ref pos);
        return length > int.MaxValue ? throw new InvalidDataException($"snappy length {length} is too large") : (int)length;
    }

    /// <summary>Decompresses into <paramref name="output"/>; returns the number of bytes written. Throws <see cref="InvalidDataException"/> on corrupt input.</summary>
    public static int Decompress(ReadOnlySpan<byte> input, Span<byte> output)
    {
        var ip = 0;
        var declared = RleHybrid.ReadVarint(input, ref ip);
        if (declared > (ulong)output.Length)
        {
            throw new InvalidDataException($"snappy data declares {declared} bytes, more than the {output.Length} expected");
        }

        var end = (int)declared;
        var op = 0;
        while (ip < input.Length)
        {
            int tag = input[ip++];
            int length;
            int offset;
            switch (tag & 3)
            {
                case 0:
                    {
                        length = tag >> 2;
                        if (length >= 60)
                        {
                            var extra = length - 59;
                            if (ip + extra > input.Length)
                            {
                                throw new InvalidDataException("snappy literal length past the end of the input");
                            }

                            length = 0;
                            for (var i = 0; i < extra; i++)
                            {
                                length |= input[ip + i] << (8 * i);
                            }

                            ip += extra;
                        }

                        length++;
                        if (length <= 0 || length > input.Length - ip || length > end - op)
                        {
                            throw new InvalidDataException("snappy literal runs past the end of the input or output");
                        }

                        input.Slice(ip, length).CopyTo(output[op..]);
                        ip += length;
                        op += length;
                        continue;
                    }

                case 1:
                    if (ip >= input.Length)
                    {
                        throw new InvalidDataException("truncated snappy copy");
                    }

                    length = 4 + ((tag >> 2) & 7);
                    offset = ((tag >> 5) << 8) | input[ip++];
                    break;
                case 2:
                    if (ip + 2 > input.Length)
                    {
                        throw new InvalidDataException("truncated snappy copy");
                    }

                    length = 1 + (tag >> 2);
                    offset = BinaryPrimitives.ReadUInt16LittleEndian(input[ip..]);
                    ip += 2;
                    break;
                default:
                    if (ip + 4 > input.Length)
                    {
                        throw new InvalidDataException("truncated snappy copy");
                    }

                    length = 1 + (tag >> 2);
                    offset = BinaryPrimitives.ReadInt32LittleEndian(input[ip..]);
                    ip += 4;
                    break;
            }

            if (offset <= 0 || offset > op || length > end - op)
            {
                throw new InvalidDataException($"snappy copy (offset {offset}, length {length}) outside the output at {op}");
            }

            if (offset >= length)
            {
                output.Slice(op - offset, length).CopyTo(output[op..]);
            }
            else if (offset == 1)
            {
                output.Slice(op, length).Fill(output[op - 1]);
            }
            else
            {
                for (var i = 0; i < length; i++)
                {
                    output[op + i] = output[op - offset + i];
                }
            }

            op += length;
        }

        if (op != end)
        {
            throw new InvalidDataException($"snappy data holds {op} bytes, not the {end} it declares");
        }

        return op;
    }
}

using System.Buffers.Binary;
using System.Runtime.InteropServices;
using ArmCrc = System.Runtime.Intrinsics.Arm.Crc32;
using X86Sse42 = System.Runtime.Intrinsics.X86.Sse42;

namespace Floe.Core;

/// <summary>CRC-32C (Castagnoli), as used by Zarr's crc32c codec; hardware-accelerated where the CPU has it.</summary>
public static class Crc32C
{
    private const uint Polynomial = 0x82F63B78; // reflected 0x1EDC6F41

    // Slicing-by-8 tables: Tables[k][b] is the CRC of byte b followed by k zero bytes.
    private static readonly uint[][] Tables = BuildTables();

    /// <summary>True when <see cref="Compute"/> uses CPU CRC instructions rather than the table.</summary>
    public static bool IsHardwareAccelerated => X86Sse42.IsSupported || ArmCrc.IsSupported;

    public static uint Compute(ReadOnlySpan<byte> data) => Append(0, data);

    /// <summary>Continues a finished CRC over more data: Append(Compute(a), b) == Compute(a + b).</summary>
    public static uint Append(uint crc, ReadOnlySpan<byte> data) =>
        IsHardwareAccelerated ? AppendHardware(crc, data) : AppendTable(crc, data);

    internal static uint AppendTable(uint crc, ReadOnlySpan<byte> data)
    {
        var state = ~crc;
        var t = Tables;
        while (data.Length >= 8)
        {
            var lo = BinaryPrimitives.ReadUInt32LittleEndian(data) ^ state;
            var hi = BinaryPrimitives.ReadUInt32LittleEndian(data[4..]);
            state = t[7][lo & 0xFF] ^ t[6][(lo >> 8) & 0xFF] ^ t[5][(lo >> 16) & 0xFF] ^ t[4][lo >> 24]
                  ^ t[3][hi & 0xFF] ^ t[2][(hi >> 8) & 0xFF] ^ t[1][(hi >> 16) & 0xFF] ^ t[0][hi >> 24];
            data = data[8..];
        }

        foreach (var b in data)
        {
            state = t[0][(state ^ b) & 0xFF] ^ (state >> 8);
        }

        return ~state;
    }

    internal static uint AppendHardware(uint crc, ReadOnlySpan<byte> data)
    {
        var state = ~crc;
        if (X86Sse42.X64.IsSupported)
        {
            var words = MemoryMarshal.Cast<byte, ulong>(data);
            ulong wide = state;
            foreach (var w in words)
            {
                wide = X86Sse42.X64.Crc32(wide, w);
            }

            state = (uint)wide;
            data = data[(words.Length * 8)..];
        }
        else if (ArmCrc.Arm64.IsSupported)
        {
            var words = MemoryMarshal.Cast<byte, ulong>(data);
            foreach (var w in words)
            {
                state = ArmCrc.Arm64.ComputeCrc32C(state, w);
            }

            data = data[(words.Length * 8)..];
        }

        if (X86Sse42.IsSupported)
        {
            foreach (var b in data)
            {
                state = X86Sse42.Crc32(state, b);
            }
        }
        else if (ArmCrc.IsSupported)
        {
            foreach (var b in data)
            {
                state = ArmCrc.ComputeCrc32C(state, b);
            }
        }
        else
        {
            throw new PlatformNotSupportedException("This CPU has no CRC-32C instructions.");
        }

        return ~state;
    }

    private static uint[][] BuildTables()
    {
        var tables = new uint[8][];
        for (var k = 0; k < 8; k++)
        {
            tables[k] = new uint[256];
        }

        for (uint b = 0; b < 256; b++)
        {
            var c = b;
            for (var i = 0; i < 8; i++)
            {
                c = (c & 1) != 0 ? (c >> 1) ^ Polynomial : c >> 1;
            }

            tables[0][b] = c;
        }

        for (var b = 0; b < 256; b++)
        {
            for (var k = 1; k < 8; k++)
            {
                var prev = tables[k - 1][b];
                tables[k][b] = tables[0][prev & 0xFF] ^ (prev >> 8);
            }
        }

        return tables;
    }
}

using System.Buffers.Binary;

namespace Floe.Core;

/// <summary>
/// The checksums in zlib and gzip trailers. .NET's inflater returns short data instead of failing when
/// a stream is cut off before its trailer, so the codecs re-check the trailer themselves.
/// </summary>
internal static class DeflateChecksums
{
    private static readonly uint[] CrcTable = BuildCrcTable();

    public static uint Adler32(ReadOnlySpan<byte> data)
    {
        const uint Mod = 65521;
        const int Block = 5552; // largest n keeping the sums below 2^32 before reducing
        uint a = 1, b = 0;
        while (!data.IsEmpty)
        {
            var block = data[..Math.Min(Block, data.Length)];
            foreach (var x in block)
            {
                a += x;
                b += a;
            }

            a %= Mod;
            b %= Mod;
            data = data[block.Length..];
        }

        return (b << 16) | a;
    }

    /// <summary>CRC-32 (IEEE 802.3, reflected 0xEDB88320) as in gzip trailers.</summary>
    public static uint Crc32(ReadOnlySpan<byte> data)
    {
        var crc = 0xFFFFFFFFu;
        foreach (var x in data)
        {
            crc = CrcTable[(crc ^ x) & 0xFF] ^ (crc >> 8);
        }

        return ~crc;
    }

    /// <summary>True when the zlib stream's Adler-32 trailer (big-endian, last 4 bytes) matches the output.</summary>
    public static bool ZlibTrailerMatches(ReadOnlySpan<byte> stream, ReadOnlySpan<byte> output) =>
        stream.Length >= 6 && BinaryPrimitives.ReadUInt32BigEndian(stream[^4..]) == Adler32(output);

    /// <summary>
    /// True when the last gzip member's trailer (CRC-32 and size, little-endian) matches the end of the output;
    /// the last member covers only the output's final ISIZE bytes when members are concatenated.
    /// </summary>
    public static bool GzipTrailerMatches(ReadOnlySpan<byte> stream, ReadOnlySpan<byte> output)
    {
        if (stream.Length < 18)
        {
            return false;
        }

        var crc = BinaryPrimitives.ReadUInt32LittleEndian(stream[^8..]);
        var size = BinaryPrimitives.ReadUInt32LittleEndian(stream[^4..]);
        return size <= (uint)output.Length && Crc32(output[^(int)size..]) == crc;
    }

    private static uint[] BuildCrcTable()
    {
        var table = new uint[256];
        for (uint n = 0; n < 256; n++)
        {
            var c = n;
            for (var k = 0; k < 8; k++)
            {
                c = (c & 1) != 0 ? 0xEDB88320 ^ (c >> 1) : c >> 1;
            }

            table[n] = c;
        }

        return table;
    }
}

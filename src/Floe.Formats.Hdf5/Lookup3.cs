using System.Buffers.Binary;
using System.Numerics;

namespace Floe.Formats.Hdf5;

/// <summary>
/// Bob Jenkins' lookup3 <c>hashlittle</c>, which HDF5 uses for every metadata checksum (H5_checksum_lookup3) and
/// for the name hashes in dense link and attribute indexes.
/// </summary>
public static class Lookup3
{
    public static uint Hash(ReadOnlySpan<byte> data, uint initialValue = 0)
    {
        var length = data.Length;
        uint a, b, c;
        a = b = c = 0xdeadbeef + (uint)length + initialValue;
        var p = 0;
        while (length > 12)
        {
            a += BinaryPrimitives.ReadUInt32LittleEndian(data.Slice(p, 4));
            b += BinaryPrimitives.ReadUInt32LittleEndian(data.Slice(p + 4, 4));
            c += BinaryPrimitives.ReadUInt32LittleEndian(data.Slice(p + 8, 4));
            Mix(ref a, ref b, ref c);
            length -= 12;
            p += 12;
        }

        // The tail: the cases fall through from the longest remainder down to one byte.
        var tail = data[p..];
        switch (length)
        {
            case 0:
                return c;
            case 12:
                c += (uint)tail[11] << 24;
                goto case 11;
            case 11:
                c += (uint)tail[10] << 16;
                goto case 10;
            case 10:
                c += (uint)tail[9] << 8;
                goto case 9;
            case 9:
                c += tail[8];
                goto case 8;
            case 8:
                b += (uint)tail[7] << 24;
                goto case 7;
            case 7:
                b += (uint)tail[6] << 16;
                goto case 6;
            case 6:
                b += (uint)tail[5] << 8;
                goto case 5;
            case 5:
                b += tail[4];
                goto case 4;
            case 4:
                a += (uint)tail[3] << 24;
                goto case 3;
            case 3:
                a += (uint)tail[2] << 16;
                goto case 2;
            case 2:
                a += (uint)tail[1] << 8;
                goto case 1;
            case 1:
                a += tail[0];
                break;
        }

        Final(ref a, ref b, ref c);
        return c;
    }

    private static void Mix(ref uint a, ref uint b, ref uint c)
    {
        a -= c; a ^= BitOperations.RotateLeft(c, 4); c += b;
        b -= a; b ^= BitOperations.RotateLeft(a, 6); a += c;
        c -= b; c ^= BitOperations.RotateLeft(b, 8); b += a;
        a -= c; a ^= BitOperations.RotateLeft(c, 16); c += b;
        b -= a; b ^= BitOperations.RotateLeft(a, 19); a += c;
        c -= b; c ^= BitOperations.RotateLeft(b, 4); b += a;
    }

    private static void Final(ref uint a, ref uint b, ref uint c)
    {
        c ^= b; c -= BitOperations.RotateLeft(b, 14);
        a ^= c; a -= BitOperations.RotateLeft(c, 11);
        b ^= a; b -= BitOperations.RotateLeft(a, 25);
        c ^= b; c -= BitOperations.RotateLeft(b, 16);
        a ^= c; a -= BitOperations.RotateLeft(c, 4);
        b ^= a; b -= BitOperations.RotateLeft(a, 14);
        c ^= b; c -= BitOperations.RotateLeft(b, 24);
    }
}

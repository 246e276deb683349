using System.Text;

namespace Floe.Store.Format;

/// <summary>
/// Reads the spec's primitive encodings with bounds checks: any overrun or malformed value is a
/// <see cref="CorruptObjectException"/> naming the object key, never an IndexOutOfRangeException.
/// </summary>
public ref struct PayloadReader
{
    private static readonly UTF8Encoding StrictUtf8 = new(false, true);
    private readonly ReadOnlySpan<byte> _data;
    private readonly string _key;
    private int _position;

    public PayloadReader(ReadOnlySpan<byte> data, string key)
    {
        _data = data;
        _key = key;
        _position = 0;
    }

    public readonly int Position => _position;

    public readonly int Remaining => _data.Length - _position;

    public readonly string Key => _key;

    public byte ReadByte()
    {
        Need(1, "a byte");
        return _data[_position++];
    }

    public ulong ReadVarint()
    {
        ulong result = 0;
        for (var shift = 0; shift < 70; shift += 7)
        {
            Need(1, "a varint");
            var b = _data[_position++];
            if (shift == 63 && b > 1)
            {
                throw Corrupt("varint overflows 64 bits");
            }

            result |= (ulong)(b & 0x7F) << shift;
            if (b < 0x80)
            {
                return result;
            }
        }

        throw Corrupt("varint longer than 10 bytes");
    }

    /// <summary>Reads a varint that must fit a non-negative Int64 no larger than <paramref name="max"/>.</summary>
    public long ReadLength(string what, long max = long.MaxValue)
    {
        var v = ReadVarint();
        if (v > (ulong)max)
        {
            throw Corrupt($"{what} {v} exceeds {max}");
        }

        return (long)v;
    }

    /// <summary>Reads a count of items that each take at least <paramref name="minBytesEach"/> bytes, so a corrupt count cannot make us allocate wildly.</summary>
    public int ReadCount(string what, int minBytesEach = 1)
    {
        var count = ReadLength(what, int.MaxValue);
        if (minBytesEach > 0 && count > Remaining / minBytesEach)
        {
            throw Corrupt($"{what} {count} is more than the {Remaining} remaining bytes can hold");
        }

        return (int)count;
    }

    public long ReadSignedVarint()
    {
        var v = ReadVarint();
        return (long)(v >> 1) ^ -(long)(v & 1);
    }

    public ReadOnlySpan<byte> ReadRaw(int length)
    {
        Need(length, $"{length} bytes");
        var slice = _data.Slice(_position, length);
        _position += length;
        return slice;
    }

    public ReadOnlySpan<byte> ReadBytes() => ReadRaw(ReadCount("byte length", 1));

    public string ReadString()
    {
        var raw = ReadBytes();
        try
        {
            return raw.IsEmpty ? "" : StrictUtf8.GetString(raw);
        }
        catch (DecoderFallbackException)
        {
            throw Corrupt("string is not valid UTF-8");
        }
    }

    public ObjectId ReadId() => ObjectId.FromBytes(ReadRaw(ObjectId.ByteLength));

    public long[] ReadCoords(int rank)
    {
        var coords = new long[rank];
        for (var i = 0; i < rank; i++)
        {
            coords[i] = ReadLength("coordinate");
        }

        return coords;
    }

    public ulong[] ReadUIntColumn(int count)
    {
        var width = ReadByte();
        if (width > 8)
        {
            throw Corrupt($"column width {width} is more than 8 bytes");
        }

        if (count < 0 || (long)width * count > Remaining)
        {
            throw Corrupt($"column of {count} values of {width} bytes runs past the end");
        }

        var values = new ulong[count];
        if (width == 0)
        {
            return values;
        }

        for (var plane = 0; plane < width; plane++)
        {
            var src = ReadRaw(count);
            var shift = plane * 8;
            for (var i = 0; i < count; i++)
            {
                values[i] |= (ulong)src[i] << shift;
            }
        }

        return values;
    }

    public readonly void ExpectEnd()
    {
        if (_position != _data.Length)
        {
            throw Corrupt($"{_data.Length - _position} unexpected bytes after the end");
        }
    }

    public readonly CorruptObjectException Corrupt(string detail) => new(_key, $"{detail} (at payload byte {_position})");

    private readonly void Need(int count, string what)
    {
        if (count < 0 || _data.Length - _position < count)
        {
            throw Corrupt($"truncated: needed {what}, {_data.Length - _position} bytes left");
        }
    }
}

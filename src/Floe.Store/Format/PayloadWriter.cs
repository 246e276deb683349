using System.Buffers;
using System.Text;

namespace Floe.Store.Format;

/// <summary>Writes the primitive encodings of the spec (varints, strings, ids, uint columns) into a growing buffer.</summary>
public sealed class PayloadWriter
{
    private readonly ArrayBufferWriter<byte> _buffer;

    public PayloadWriter(int initialCapacity = 256)
    {
        _buffer = new ArrayBufferWriter<byte>(Math.Max(16, initialCapacity));
    }

    public int Length => _buffer.WrittenCount;

    public ReadOnlySpan<byte> WrittenSpan => _buffer.WrittenSpan;

    public void WriteByte(byte value)
    {
        _buffer.GetSpan(1)[0] = value;
        _buffer.Advance(1);
    }

    public void WriteVarint(ulong value)
    {
        var span = _buffer.GetSpan(10);
        var i = 0;
        while (value >= 0x80)
        {
            span[i++] = (byte)(value | 0x80);
            value >>= 7;
        }

        span[i++] = (byte)value;
        _buffer.Advance(i);
    }

    public void WriteVarint(long value)
    {
        if (value < 0)
        {
            throw new ArgumentOutOfRangeException(nameof(value), value, "varints are unsigned");
        }

        WriteVarint((ulong)value);
    }

    public void WriteSignedVarint(long value) => WriteVarint(ZigZag(value));

    public void WriteBytes(ReadOnlySpan<byte> value)
    {
        WriteVarint((ulong)value.Length);
        WriteRaw(value);
    }

    public void WriteRaw(ReadOnlySpan<byte> value)
    {
        value.CopyTo(_buffer.GetSpan(value.Length));
        _buffer.Advance(value.Length);
    }

    public void WriteString(string value)
    {
        var count = Encoding.UTF8.GetByteCount(value);
        WriteVarint((ulong)count);
        Encoding.UTF8.GetBytes(value, _buffer.GetSpan(count));
        _buffer.Advance(count);
    }

    public void WriteId(ObjectId id)
    {
        id.WriteTo(_buffer.GetSpan(ObjectId.ByteLength));
        _buffer.Advance(ObjectId.ByteLength);
    }

    public void WriteCoords(ReadOnlySpan<long> coords)
    {
        foreach (var c in coords)
        {
            WriteVarint(c);
        }
    }

    /// <summary>Writes values as a width byte and that many byte planes, least significant plane first.</summary>
    public void WriteUIntColumn(ReadOnlySpan<ulong> values)
    {
        ulong all = 0;
        foreach (var v in values)
        {
            all |= v;
        }

        var width = all == 0 ? 0 : (71 - System.Numerics.BitOperations.LeadingZeroCount(all)) / 8;
        WriteByte((byte)width);
        var n = values.Length;
        var span = _buffer.GetSpan(width * n);
        for (var plane = 0; plane < width; plane++)
        {
            var shift = plane * 8;
            var dest = span.Slice(plane * n, n);
            for (var i = 0; i < n; i++)
            {
                dest[i] = (byte)(values[i] >> shift);
            }
        }

        _buffer.Advance(width * n);
    }

    public byte[] ToArray() => _buffer.WrittenSpan.ToArray();

    public static ulong ZigZag(long value) => (ulong)((value << 1) ^ (value >> 63));
}

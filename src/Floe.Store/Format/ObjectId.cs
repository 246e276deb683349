using System.Security.Cryptography;

namespace Floe.Store.Format;

/// <summary>A 12-byte random id, written as 20 characters of Crockford base32 (spec: Ids).</summary>
public readonly struct ObjectId : IEquatable<ObjectId>, IComparable<ObjectId>
{
    public const int ByteLength = 12;
    public const int TextLength = 20;
    private const string Alphabet = "0123456789ABCDEFGHJKMNPQRSTVWXYZ";

    private readonly ulong _high;
    private readonly uint _low;

    private ObjectId(ulong high, uint low)
    {
        _high = high;
        _low = low;
    }

    public static ObjectId NewId()
    {
        Span<byte> bytes = stackalloc byte[ByteLength];
        RandomNumberGenerator.Fill(bytes);
        return FromBytes(bytes);
    }

    public static ObjectId FromBytes(ReadOnlySpan<byte> bytes)
    {
        if (bytes.Length != ByteLength)
        {
            throw new ArgumentException($"an object id is {ByteLength} bytes, got {bytes.Length}", nameof(bytes));
        }

        return new ObjectId(System.Buffers.Binary.BinaryPrimitives.ReadUInt64BigEndian(bytes),
            System.Buffers.Binary.BinaryPrimitives.ReadUInt32BigEndian(bytes[8..]));
    }

    public void WriteTo(Span<byte> destination)
    {
        System.Buffers.Binary.BinaryPrimitives.WriteUInt64BigEndian(destination, _high);
        System.Buffers.Binary.BinaryPrimitives.WriteUInt32BigEndian(destination[8..], _low);
    }

    public static ObjectId Parse(string text)
    {
        if (!TryParse(text, out var id))
        {
            throw new FormatException($"'{text}' is not an object id (20 characters of Crockford base32)");
        }

        return id;
    }

    public static bool TryParse(string? text, out ObjectId id)
    {
        id = default;
        if (text is null || text.Length != TextLength)
        {
            return false;
        }

        // 20 characters carry 100 bits; the 96-bit value sits in the low bits, so the first character is at most 0xF.
        UInt128 value = 0;
        foreach (var c in text)
        {
            var digit = Alphabet.IndexOf(char.ToUpperInvariant(c), StringComparison.Ordinal);
            if (digit < 0)
            {
                return false;
            }

            value = (value << 5) | (uint)digit;
        }

        if (value >> 96 != 0)
        {
            return false;
        }

        id = new ObjectId((ulong)(value >> 32), (uint)value);
        return true;
    }

    public override string ToString()
    {
        var value = ((UInt128)_high << 32) | _low;
        Span<char> chars = stackalloc char[TextLength];
        for (var i = TextLength - 1; i >= 0; i--)
        {
            chars[i] = Alphabet[(int)(value & 31)];
            value >>= 5;
        }

        return new string(chars);
    }

    public bool Equals(ObjectId other) => _high == other._high && _low == other._low;

    public override bool Equals(object? obj) => obj is ObjectId other && Equals(other);

    public override int GetHashCode() => HashCode.Combine(_high, _low);

    public int CompareTo(ObjectId other) => _high != other._high ? _high.CompareTo(other._high) : _low.CompareTo(other._low);

    public static bool operator ==(ObjectId left, ObjectId right) => left.Equals(right);

    public static bool operator !=(ObjectId left, ObjectId right) => !left.Equals(right);

    public static bool operator <(ObjectId left, ObjectId right) => left.CompareTo(right) < 0;

    public static bool operator >(ObjectId left, ObjectId right) => left.CompareTo(right) > 0;

    public static bool operator <=(ObjectId left, ObjectId right) => left.CompareTo(right) <= 0;

    public static bool operator >=(ObjectId left, ObjectId right) => left.CompareTo(right) >= 0;
}

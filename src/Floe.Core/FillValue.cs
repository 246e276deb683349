using System.Buffers.Binary;
using System.Globalization;
using System.Text.Json;
using System.Text.Json.Nodes;

namespace Floe.Core;

/// <summary>
/// One element's value held as its little-endian bytes, with the Zarr v3 JSON encoding of fill_value.
/// Equality is byte equality, so NaNs with the same bits are equal.
/// </summary>
public sealed class FillValue : IEquatable<FillValue>
{
    private const string Field = "fill_value";
    private readonly byte[] _bytes;

    private FillValue(DataType dataType, byte[] bytes)
    {
        DataType = dataType;
        _bytes = bytes;
    }

    public DataType DataType { get; }

    /// <summary>The element's little-endian bytes (length <see cref="DataType.Size"/>).</summary>
    public ReadOnlyMemory<byte> Bytes => _bytes;

    /// <summary>True when every byte is zero (a fill can then be a plain clear).</summary>
    public bool IsZero => _bytes.AsSpan().IndexOfAnyExcept((byte)0) < 0;

    public static FillValue Zero(DataType type)
    {
        ArgumentNullException.ThrowIfNull(type);
        return new FillValue(type, new byte[type.Size]);
    }

    public static FillValue FromBytes(DataType type, ReadOnlySpan<byte> littleEndian)
    {
        ArgumentNullException.ThrowIfNull(type);
        if (littleEndian.Length != type.Size)
        {
            throw new ArgumentException($"A {type} fill value needs {type.Size} bytes, got {littleEndian.Length}.", nameof(littleEndian));
        }

        return new FillValue(type, littleEndian.ToArray());
    }

    /// <summary>
    /// Converts a double to <paramref name="type"/>. Integers and bool must be represented exactly;
    /// floats round to nearest but must not overflow to infinity, and any NaN becomes the canonical "NaN";
    /// complex types get a zero imaginary part. Use <see cref="FromBytes"/> for exact NaN payloads.
    /// </summary>
    public static FillValue FromDouble(DataType type, double value)
    {
        ArgumentNullException.ThrowIfNull(type);
        var bytes = new byte[type.Size];
        if (type.IsBool)
        {
            if (value is not (0.0 or 1.0))
            {
                throw new ArgumentException($"{value.ToString("R", CultureInfo.InvariantCulture)} is not a bool (0 or 1).", nameof(value));
            }

            bytes[0] = (byte)value;
        }
        else if (type.IsInteger)
        {
            if (double.IsNaN(value) || Math.Floor(value) != value)
            {
                throw new ArgumentException($"{value.ToString("R", CultureInfo.InvariantCulture)} is not an integer, so it cannot be a {type} fill value.", nameof(value));
            }

            if (type.IsSignedInteger)
            {
                // 2^63 is exactly representable as a double but not as a long, hence the strict upper bound.
                if (value < -9223372036854775808.0 || value >= 9223372036854775808.0 || !TryWriteInteger(type, (long)value, bytes))
                {
                    throw OutOfRange(type, value);
                }
            }
            else
            {
                if (value < 0 || value >= 18446744073709551616.0 || !TryWriteUnsigned(type, (ulong)value, bytes))
                {
                    throw OutOfRange(type, value);
                }
            }
        }
        else
        {
            if (!TryWriteFloat(type.ComponentSize, value, bytes))
            {
                throw OutOfRange(type, value);
            }
        }

        return new FillValue(type, bytes);

        static ArgumentException OutOfRange(DataType type, double value) =>
            new($"{value.ToString("R", CultureInfo.InvariantCulture)} is out of range for {type}.", nameof(value));
    }

    /// <summary>Reads a Zarr v3 fill_value; malformed values throw <see cref="FormatException"/> naming fill_value.</summary>
    public static FillValue FromJson(DataType type, JsonElement json)
    {
        ArgumentNullException.ThrowIfNull(type);
        var bytes = new byte[type.Size];
        if (type.IsBool)
        {
            bytes[0] = json.ValueKind switch
            {
                JsonValueKind.True => 1,
                JsonValueKind.False => 0,
                _ => throw Bad(type, json, "expected true or false"),
            };
        }
        else if (type.IsInteger)
        {
            if (json.ValueKind != JsonValueKind.Number)
            {
                throw Bad(type, json, "expected an integer number");
            }

            bool ok;
            if (json.TryGetInt64(out var signed))
            {
                ok = TryWriteInteger(type, signed, bytes);
            }
            else if (json.TryGetUInt64(out var unsigned))
            {
                ok = TryWriteUnsigned(type, unsigned, bytes);
            }
            else
            {
                // Some writers emit integral values as 1.0 or 1e3; accept them when they are whole numbers.
                ok = json.TryGetDecimal(out var d) && decimal.Truncate(d) == d && TryWriteDecimal(type, d, bytes);
            }

            if (!ok)
            {
                throw Bad(type, json, "not an integer in range");
            }
        }
        else if (type.IsComplex)
        {
            if (json.ValueKind != JsonValueKind.Array || json.GetArrayLength() != 2)
            {
                throw Bad(type, json, "expected a two-element array [real, imaginary]");
            }

            var part = type.ComponentSize;
            ReadFloat(type, json[0], part, bytes.AsSpan(0, part));
            ReadFloat(type, json[1], part, bytes.AsSpan(part, part));
        }
        else
        {
            ReadFloat(type, json, type.Size, bytes);
        }

        return new FillValue(type, bytes);
    }

    /// <summary>The Zarr v3 JSON form: numbers, true/false, "NaN"/"Infinity"/"-Infinity", "0x…" for non-canonical NaNs.</summary>
    public JsonNode ToJson()
    {
        var span = _bytes.AsSpan();
        if (DataType.IsBool)
        {
            return JsonValue.Create(span[0] != 0);
        }

        if (DataType.IsInteger)
        {
            return DataType.IsSignedInteger
                ? JsonValue.Create(ReadSigned(span))
                : JsonValue.Create(ReadUnsigned(span));
        }

        if (DataType.IsComplex)
        {
            var part = DataType.ComponentSize;
            return new JsonArray(FloatToJson(span[..part]), FloatToJson(span[part..]));
        }

        return FloatToJson(span);
    }

    /// <summary>The value as a double; complex types throw because they have no single real value.</summary>
    public double ToDouble()
    {
        var span = _bytes.AsSpan();
        if (DataType.IsBool)
        {
            return span[0] != 0 ? 1 : 0;
        }

        if (DataType.IsInteger)
        {
            return DataType.IsSignedInteger ? ReadSigned(span) : ReadUnsigned(span);
        }

        if (DataType.IsComplex)
        {
            throw new InvalidOperationException($"A {DataType} fill value has no single real value.");
        }

        return ReadFloat(span);
    }

    /// <summary>Repeats the element over <paramref name="destination"/>, whose length must be a multiple of the element size.</summary>
    public void Fill(Span<byte> destination)
    {
        var size = _bytes.Length;
        if (destination.Length % size != 0)
        {
            throw new ArgumentException($"Destination length {destination.Length} is not a multiple of the {DataType} element size {size}.", nameof(destination));
        }

        if (IsZero)
        {
            destination.Clear();
            return;
        }

        switch (size)
        {
            case 1:
                destination.Fill(_bytes[0]);
                return;
            case 2:
                System.Runtime.InteropServices.MemoryMarshal.Cast<byte, ushort>(destination).Fill(BitConverter.ToUInt16(_bytes));
                return;
            case 4:
                System.Runtime.InteropServices.MemoryMarshal.Cast<byte, uint>(destination).Fill(BitConverter.ToUInt32(_bytes));
                return;
            case 8:
                System.Runtime.InteropServices.MemoryMarshal.Cast<byte, ulong>(destination).Fill(BitConverter.ToUInt64(_bytes));
                return;
            default:
                if (destination.IsEmpty)
                {
                    return;
                }

                // Doubling copies keep this O(log n) calls for the 16-byte complex128 case.
                _bytes.CopyTo(destination);
                var filled = size;
                while (filled < destination.Length)
                {
                    var chunk = Math.Min(filled, destination.Length - filled);
                    destination[..chunk].CopyTo(destination[filled..]);
                    filled += chunk;
                }

                return;
        }
    }

    public bool Equals(FillValue? other) =>
        other is not null && other.DataType == DataType && other._bytes.AsSpan().SequenceEqual(_bytes);

    public override bool Equals(object? obj) => Equals(obj as FillValue);

    public override int GetHashCode()
    {
        var hash = new HashCode();
        hash.Add(DataType);
        hash.AddBytes(_bytes);
        return hash.ToHashCode();
    }

    public override string ToString() => $"{ToJson().ToJsonString()} ({DataType})";

    private static FormatException Bad(DataType type, JsonElement json, string why)
    {
        var text = json.ValueKind == JsonValueKind.Undefined ? "(missing)" : json.GetRawText();
        if (text.Length > 80)
        {
            text = text[..80] + "…";
        }

        return new FormatException($"Invalid {Field} {text} for data type {type}: {why}.");
    }

    private long ReadSigned(ReadOnlySpan<byte> span) => DataType.Size switch
    {
        1 => (sbyte)span[0],
        2 => BinaryPrimitives.ReadInt16LittleEndian(span),
        4 => BinaryPrimitives.ReadInt32LittleEndian(span),
        _ => BinaryPrimitives.ReadInt64LittleEndian(span),
    };

    private ulong ReadUnsigned(ReadOnlySpan<byte> span) => DataType.Size switch
    {
        1 => span[0],
        2 => BinaryPrimitives.ReadUInt16LittleEndian(span),
        4 => BinaryPrimitives.ReadUInt32LittleEndian(span),
        _ => BinaryPrimitives.ReadUInt64LittleEndian(span),
    };

    private static double ReadFloat(ReadOnlySpan<byte> span) => span.Length switch
    {
        2 => (double)BinaryPrimitives.ReadHalfLittleEndian(span),
        4 => BinaryPrimitives.ReadSingleLittleEndian(span),
        _ => BinaryPrimitives.ReadDoubleLittleEndian(span),
    };

    private static bool TryWriteInteger(DataType type, long value, Span<byte> bytes)
    {
        if (!type.IsSignedInteger)
        {
            return value >= 0 && TryWriteUnsigned(type, (ulong)value, bytes);
        }

        switch (type.Size)
        {
            case 1 when value is >= sbyte.MinValue and <= sbyte.MaxValue:
                bytes[0] = (byte)(sbyte)value;
                return true;
            case 2 when value is >= short.MinValue and <= short.MaxValue:
                BinaryPrimitives.WriteInt16LittleEndian(bytes, (short)value);
                return true;
            case 4 when value is >= int.MinValue and <= int.MaxValue:
                BinaryPrimitives.WriteInt32LittleEndian(bytes, (int)value);
                return true;
            case 8:
                BinaryPrimitives.WriteInt64LittleEndian(bytes, value);
                return true;
            default:
                return false;
        }
    }

    private static bool TryWriteUnsigned(DataType type, ulong value, Span<byte> bytes)
    {
        if (type.IsSignedInteger)
        {
            return value <= long.MaxValue && TryWriteInteger(type, (long)value, bytes);
        }

        switch (type.Size)
        {
            case 1 when value <= byte.MaxValue:
                bytes[0] = (byte)value;
                return true;
            case 2 when value <= ushort.MaxValue:
                BinaryPrimitives.WriteUInt16LittleEndian(bytes, (ushort)value);
                return true;
            case 4 when value <= uint.MaxValue:
                BinaryPrimitives.WriteUInt32LittleEndian(bytes, (uint)value);
                return true;
            case 8:
                BinaryPrimitives.WriteUInt64LittleEndian(bytes, value);
                return true;
            default:
                return false;
        }
    }

    private static bool TryWriteDecimal(DataType type, decimal value, Span<byte> bytes) =>
        value >= long.MinValue && value <= long.MaxValue
            ? TryWriteInteger(type, (long)value, bytes)
            : value > 0 && value <= ulong.MaxValue && TryWriteUnsigned(type, (ulong)value, bytes);

    private static bool TryWriteFloat(int size, double value, Span<byte> bytes)
    {
        if (double.IsNaN(value))
        {
            // .NET's NaN constants have the sign bit set; Zarr's "NaN" is the positive quiet NaN.
            var bits = size switch { 2 => 0x7E00UL, 4 => 0x7FC00000UL, _ => 0x7FF8000000000000UL };
            for (var i = 0; i < size; i++)
            {
                bytes[i] = (byte)(bits >> (8 * i));
            }

            return true;
        }

        switch (size)
        {
            case 2:
                var half = (Half)value;
                BinaryPrimitives.WriteHalfLittleEndian(bytes, half);
                return Half.IsFinite(half) || !double.IsFinite(value);
            case 4:
                var single = (float)value;
                BinaryPrimitives.WriteSingleLittleEndian(bytes, single);
                return float.IsFinite(single) || !double.IsFinite(value);
            default:
                BinaryPrimitives.WriteDoubleLittleEndian(bytes, value);
                return true;
        }
    }

    private static void ReadFloat(DataType type, JsonElement json, int size, Span<byte> destination)
    {
        switch (json.ValueKind)
        {
            case JsonValueKind.Number:
                var text = json.GetRawText();
                bool finite;
                switch (size)
                {
                    case 2:
                        var half = Half.Parse(text, NumberStyles.Float, CultureInfo.InvariantCulture);
                        BinaryPrimitives.WriteHalfLittleEndian(destination, half);
                        finite = Half.IsFinite(half);
                        break;
                    case 4:
                        var single = float.Parse(text, NumberStyles.Float, CultureInfo.InvariantCulture);
                        BinaryPrimitives.WriteSingleLittleEndian(destination, single);
                        finite = float.IsFinite(single);
                        break;
                    default:
                        var dbl = double.Parse(text, NumberStyles.Float, CultureInfo.InvariantCulture);
                        BinaryPrimitives.WriteDoubleLittleEndian(destination, dbl);
                        finite = double.IsFinite(dbl);
                        break;
                }

                if (!finite)
                {
                    throw Bad(type, json, "number out of range");
                }

                return;
            case JsonValueKind.String:
                var s = json.GetString()!;
                switch (s)
                {
                    case "NaN":
                        TryWriteFloat(size, double.NaN, destination);
                        return;
                    case "Infinity":
                        TryWriteFloat(size, double.PositiveInfinity, destination);
                        return;
                    case "-Infinity":
                        TryWriteFloat(size, double.NegativeInfinity, destination);
                        return;
                }

                if (s.Length == 2 + (2 * size) && s.StartsWith("0x", StringComparison.OrdinalIgnoreCase)
                    && ulong.TryParse(s.AsSpan(2), NumberStyles.AllowHexSpecifier, CultureInfo.InvariantCulture, out var bits))
                {
                    // The hex string is the float's bit pattern as an unsigned integer (most significant digit first).
                    for (var i = 0; i < size; i++)
                    {
                        destination[i] = (byte)(bits >> (8 * i));
                    }

                    return;
                }

                throw Bad(type, json, $"expected a number, \"NaN\", \"Infinity\", \"-Infinity\" or \"0x\" with {2 * size} hex digits");
            default:
                throw Bad(type, json, "expected a number or string");
        }
    }

    private static JsonNode FloatToJson(ReadOnlySpan<byte> span)
    {
        string text;
        switch (span.Length)
        {
            case 2:
                var half = BinaryPrimitives.ReadHalfLittleEndian(span);
                if (Half.IsNaN(half))
                {
                    return NaNToJson(BinaryPrimitives.ReadUInt16LittleEndian(span), 0x7E00, 4);
                }

                if (Half.IsInfinity(half))
                {
                    return JsonValue.Create(Half.IsNegative(half) ? "-Infinity" : "Infinity")!;
                }

                text = half.ToString("R", CultureInfo.InvariantCulture);
                break;
            case 4:
                var single = BinaryPrimitives.ReadSingleLittleEndian(span);
                if (float.IsNaN(single))
                {
                    return NaNToJson(BinaryPrimitives.ReadUInt32LittleEndian(span), 0x7FC00000, 8);
                }

                if (float.IsInfinity(single))
                {
                    return JsonValue.Create(float.IsNegative(single) ? "-Infinity" : "Infinity")!;
                }

                text = single.ToString("R", CultureInfo.InvariantCulture);
                break;
            default:
                var dbl = BinaryPrimitives.ReadDoubleLittleEndian(span);
                if (double.IsNaN(dbl))
                {
                    return NaNToJson(BinaryPrimitives.ReadUInt64LittleEndian(span), 0x7FF8000000000000, 16);
                }

                if (double.IsInfinity(dbl))
                {
                    return JsonValue.Create(double.IsNegative(dbl) ? "-Infinity" : "Infinity")!;
                }

                text = dbl.ToString("R", CultureInfo.InvariantCulture);
                break;
        }

        // Parsing the shortest round-trip text keeps float32/float16 values short ("0.1", not 0.10000000149011612).
        return JsonNode.Parse(text)!;
    }

    private static JsonNode NaNToJson(ulong bits, ulong canonical, int hexDigits) =>
        // Only the canonical quiet NaN is "NaN"; other payloads are kept bit-exact as hex.
        JsonValue.Create(bits == canonical ? "NaN" : "0x" + bits.ToString("x" + hexDigits.ToString(CultureInfo.InvariantCulture), CultureInfo.InvariantCulture))!;
}

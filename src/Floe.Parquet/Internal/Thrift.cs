using System.Buffers.Binary;
using System.Text;

namespace Floe.Parquet.Internal;

/// <summary>Thrift compact protocol type codes (as they appear in field headers and list headers).</summary>
internal enum CompactType : byte
{
    Stop = 0,
    BooleanTrue = 1,
    BooleanFalse = 2,
    Byte = 3,
    I16 = 4,
    I32 = 5,
    I64 = 6,
    Double = 7,
    Binary = 8,
    List = 9,
    Set = 10,
    Map = 11,
    Struct = 12,
}

/// <summary>Malformed Thrift: the caller turns it into a <see cref="ParquetFormatException"/> with the file's context.</summary>
internal sealed class ThriftException(string message) : Exception(message);

/// <summary>Writes Thrift compact protocol structs. Field ids are tracked per nesting level for the delta encoding.</summary>
internal sealed class CompactWriter(ByteBuffer output)
{
    private readonly Stack<short> _outer = new();
    private short _lastField;

    public ByteBuffer Output => output;

    public void FieldI32(short id, int value)
    {
        FieldHeader(id, CompactType.I32);
        output.WriteVarint(ZigZag(value));
    }

    public void FieldI64(short id, long value)
    {
        FieldHeader(id, CompactType.I64);
        output.WriteVarint(ZigZag(value));
    }

    public void FieldByte(short id, sbyte value)
    {
        FieldHeader(id, CompactType.Byte);
        output.WriteByte((byte)value);
    }

    public void FieldBool(short id, bool value) => FieldHeader(id, value ? CompactType.BooleanTrue : CompactType.BooleanFalse);

    public void FieldBinary(short id, ReadOnlySpan<byte> value)
    {
        FieldHeader(id, CompactType.Binary);
        Binary(value);
    }

    public void FieldString(short id, string value)
    {
        FieldHeader(id, CompactType.Binary);
        String(value);
    }

    /// <summary>Starts a struct-valued field; close it with <see cref="EndStruct"/>.</summary>
    public void BeginStructField(short id)
    {
        FieldHeader(id, CompactType.Struct);
        BeginStruct();
    }

    /// <summary>Starts a struct (a list element or the top-level message).</summary>
    public void BeginStruct()
    {
        _outer.Push(_lastField);
        _lastField = 0;
    }

    public void EndStruct()
    {
        output.WriteByte((byte)CompactType.Stop);
        _lastField = _outer.Pop();
    }

    /// <summary>An empty struct as a field (union members such as TimeUnit.MICROS).</summary>
    public void EmptyStructField(short id)
    {
        BeginStructField(id);
        EndStruct();
    }

    public void BeginListField(short id, CompactType element, int count)
    {
        FieldHeader(id, CompactType.List);
        ListHeader(element, count);
    }

    public void ListHeader(CompactType element, int count)
    {
        if (count < 15)
        {
            output.WriteByte((byte)((count << 4) | (int)element));
        }
        else
        {
            output.WriteByte((byte)(0xF0 | (int)element));
            output.WriteVarint((uint)count);
        }
    }

    public void I32(int value) => output.WriteVarint(ZigZag(value));

    public void Binary(ReadOnlySpan<byte> value)
    {
        output.WriteVarint((uint)value.Length);
        output.Write(value);
    }

    public void String(string value)
    {
        var count = Encoding.UTF8.GetByteCount(value);
        output.WriteVarint((uint)count);
        Encoding.UTF8.GetBytes(value, output.GetSpan(count));
        output.Advance(count);
    }

    private void FieldHeader(short id, CompactType type)
    {
        var delta = id - _lastField;
        if (delta is > 0 and <= 15)
        {
            output.WriteByte((byte)((delta << 4) | (int)type));
        }
        else
        {
            output.WriteByte((byte)type);
            output.WriteVarint(ZigZag(id));
        }

        _lastField = id;
    }

    private static ulong ZigZag(long value) => (ulong)((value << 1) ^ (value >> 63));
}

/// <summary>Reads Thrift compact protocol from a span. Malformed input throws <see cref="ThriftException"/>.</summary>
internal ref struct CompactReader
{
    private const int MaxDepth = 64;
    private readonly ReadOnlySpan<byte> _data;
    private int _position;
    private short _lastField;
    private readonly Stack<short> _outer;
    private bool _pendingBool;

    public CompactReader(ReadOnlySpan<byte> data)
    {
        _data = data;
        _outer = new Stack<short>();
    }

    public readonly int Position => _position;

    public void BeginStruct()
    {
        if (_outer.Count >= MaxDepth)
        {
            throw new ThriftException($"structs nested deeper than {MaxDepth} levels");
        }

        _outer.Push(_lastField);
        _lastField = 0;
    }

    public void EndStruct() => _lastField = _outer.Pop();

    /// <summary>Reads the next field header; false at the struct's stop byte (the struct is then closed).</summary>
    public bool NextField(out short id, out CompactType type)
    {
        var header = ReadByte();
        if (header == 0)
        {
            id = 0;
            type = CompactType.Stop;
            EndStruct();
            return false;
        }

        type = (CompactType)(header & 0x0F);
        var delta = header >> 4;
        id = delta != 0 ? (short)(_lastField + delta) : checked((short)ReadZigZag());
        _lastField = id;
        if (type is CompactType.BooleanTrue or CompactType.BooleanFalse)
        {
            _pendingBool = type == CompactType.BooleanTrue;
        }
        else if (type > CompactType.Struct)
        {
            throw new ThriftException($"unknown field type {(int)type} at byte {_position - 1}");
        }

        return true;
    }

    /// <summary>The value of a boolean field whose header was just read.</summary>
    public readonly bool BoolValue(CompactType type) => type switch
    {
        CompactType.BooleanTrue or CompactType.BooleanFalse => _pendingBool,
        _ => throw new ThriftException($"expected a boolean field, found type {type}"),
    };

    public int ReadI32(CompactType type)
    {
        Expect(type, CompactType.I32, CompactType.I16);
        var value = ReadZigZag();
        return value is < int.MinValue or > int.MaxValue ? throw new ThriftException($"i32 value {value} out of range") : (int)value;
    }

    public long ReadI64(CompactType type)
    {
        Expect(type, CompactType.I64, CompactType.I32);
        return ReadZigZag();
    }

    public sbyte ReadI8(CompactType type)
    {
        Expect(type, CompactType.Byte, CompactType.Byte);
        return (sbyte)ReadByte();
    }

    public ReadOnlySpan<byte> ReadBinary(CompactType type)
    {
        Expect(type, CompactType.Binary, CompactType.Binary);
        return ReadBinaryValue();
    }

    public string ReadString(CompactType type)
    {
        var bytes = ReadBinary(type);
        return Encoding.UTF8.GetString(bytes);
    }

    /// <summary>Reads a list header for a list-typed field.</summary>
    public int ReadListHeader(CompactType type, out CompactType element)
    {
        Expect(type, CompactType.List, CompactType.Set);
        var header = ReadByte();
        element = (CompactType)(header & 0x0F);
        var count = (long)(header >> 4);
        if (count == 15)
        {
            count = (long)ReadVarint();
        }

        // Every element takes at least one byte (empty structs too), so a count beyond the data is corrupt.
        if (count > _data.Length - _position && element is not (CompactType.BooleanTrue or CompactType.BooleanFalse))
        {
            throw new ThriftException($"list of {count} elements exceeds the remaining {_data.Length - _position} bytes");
        }

        return (int)count;
    }

    /// <summary>Reads a list element of a non-struct type.</summary>
    public long ReadElementInteger(CompactType element) => element switch
    {
        CompactType.I16 or CompactType.I32 or CompactType.I64 => ReadZigZag(),
        CompactType.Byte => (sbyte)ReadByte(),
        _ => throw new ThriftException($"expected an integer list element, found type {element}"),
    };

    public ReadOnlySpan<byte> ReadElementBinary(CompactType element) =>
        element == CompactType.Binary ? ReadBinaryValue() : throw new ThriftException($"expected a binary list element, found type {element}");

    /// <summary>Skips a value of <paramref name="type"/> (for a field whose header was read, or a list element).</summary>
    public void Skip(CompactType type) => Skip(type, 0);

    private void Skip(CompactType type, int depth)
    {
        if (depth > MaxDepth)
        {
            throw new ThriftException($"values nested deeper than {MaxDepth} levels");
        }

        switch (type)
        {
            case CompactType.BooleanTrue or CompactType.BooleanFalse:
                break;
            case CompactType.Byte:
                ReadByte();
                break;
            case CompactType.I16 or CompactType.I32 or CompactType.I64:
                ReadVarint();
                break;
            case CompactType.Double:
                Take(8);
                break;
            case CompactType.Binary:
                ReadBinaryValue();
                break;
            case CompactType.List or CompactType.Set:
                {
                    var count = ReadListHeader(type, out var element);
                    for (var i = 0; i < count; i++)
                    {
                        SkipElement(element, depth + 1);
                    }

                    break;
                }

            case CompactType.Map:
                {
                    var count = (long)ReadVarint();
                    if (count > 0)
                    {
                        var kinds = ReadByte();
                        for (long i = 0; i < count; i++)
                        {
                            SkipElement((CompactType)(kinds >> 4), depth + 1);
                            SkipElement((CompactType)(kinds & 0x0F), depth + 1);
                        }
                    }

                    break;
                }

            case CompactType.Struct:
                BeginStruct();
                while (NextField(out _, out var fieldType))
                {
                    Skip(fieldType, depth + 1);
                }

                break;
            default:
                throw new ThriftException($"cannot skip unknown type {(int)type} at byte {_position}");
        }
    }

    // Inside lists and maps a boolean is one byte.
    private void SkipElement(CompactType element, int depth)
    {
        if (element is CompactType.BooleanTrue or CompactType.BooleanFalse)
        {
            ReadByte();
        }
        else
        {
            Skip(element, depth);
        }
    }

    private ReadOnlySpan<byte> ReadBinaryValue()
    {
        var length = ReadVarint();
        if (length > (ulong)(_data.Length - _position))
        {
            throw new ThriftException($"binary of {length} bytes exceeds the remaining {_data.Length - _position} bytes");
        }

        return Take((int)length);
    }

    private ReadOnlySpan<byte> Take(int count)
    {
        if (count > _data.Length - _position)
        {
            throw new ThriftException($"unexpected end of data at byte {_position}");
        }

        var span = _data.Slice(_position, count);
        _position += count;
        return span;
    }

    public double ReadDouble(CompactType type)
    {
        Expect(type, CompactType.Double, CompactType.Double);
        return BinaryPrimitives.ReadDoubleLittleEndian(Take(8));
    }

    private byte ReadByte()
    {
        if (_position >= _data.Length)
        {
            throw new ThriftException($"unexpected end of data at byte {_position}");
        }

        return _data[_position++];
    }

    private ulong ReadVarint()
    {
        ulong result = 0;
        for (var shift = 0; shift < 64; shift += 7)
        {
            var b = ReadByte();
            result |= (ulong)(b & 0x7F) << shift;
            if (b < 0x80)
            {
                return result;
            }
        }

        throw new ThriftException($"varint longer than 10 bytes at byte {_position}");
    }

    private long ReadZigZag()
    {
        var raw = ReadVarint();
        return (long)(raw >> 1) ^ -(long)(raw & 1);
    }

    private static void Expect(CompactType actual, CompactType expected, CompactType alternative)
    {
        if (actual != expected && actual != alternative)
        {
            throw new ThriftException($"expected a {expected} field, found type {actual}");
        }
    }
}

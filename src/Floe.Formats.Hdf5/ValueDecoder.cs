using System.Buffers.Binary;
using System.Text;

namespace Floe.Formats.Hdf5;

/// <summary>
/// Decodes attribute values into .NET values. Variable-length data and region references are read from global heap
/// collections already loaded in <see cref="GlobalHeap"/>; a missing one raises <see cref="NeedCollectionException"/>
/// so the caller can load it and decode again.
/// </summary>
internal sealed class ValueDecoder(Hdf5Context context, GlobalHeap heap, string? path)
{
    private const int MaxNesting = 32;

    public object? Decode(Hdf5Datatype type, Hdf5Dataspace space, ReadOnlySpan<byte> data, long offset)
    {
        if (space.Kind == Hdf5DataspaceKind.Null)
        {
            return null;
        }

        var count = space.ElementCount;
        if (type.Size > 0 && count > data.Length / type.Size)
        {
            throw context.Error(path, offset, $"attribute value holds {data.Length} bytes, {count} elements of {type.Size} bytes need more");
        }

        return space.Kind == Hdf5DataspaceKind.Scalar
            ? DecodeElement(type, data[..type.Size], offset, 0)
            : DecodeArray(type, data, (int)count, offset, 0);
    }

    /// <summary>A fixed-point value as the .NET integer type of its size and sign (long/ulong for odd sizes, raw bytes beyond 8).</summary>
    internal static object DecodeInteger(Hdf5Datatype type, ReadOnlySpan<byte> bytes)
    {
        var big = type.IsBigEndian;
        return (type.Size, type.IsSigned) switch
        {
            (1, true) => (sbyte)bytes[0],
            (1, false) => bytes[0],
            (2, true) => big ? BinaryPrimitives.ReadInt16BigEndian(bytes) : BinaryPrimitives.ReadInt16LittleEndian(bytes),
            (2, false) => big ? BinaryPrimitives.ReadUInt16BigEndian(bytes) : BinaryPrimitives.ReadUInt16LittleEndian(bytes),
            (4, true) => big ? BinaryPrimitives.ReadInt32BigEndian(bytes) : BinaryPrimitives.ReadInt32LittleEndian(bytes),
            (4, false) => big ? BinaryPrimitives.ReadUInt32BigEndian(bytes) : BinaryPrimitives.ReadUInt32LittleEndian(bytes),
            (8, true) => big ? BinaryPrimitives.ReadInt64BigEndian(bytes) : BinaryPrimitives.ReadInt64LittleEndian(bytes),
            (8, false) => big ? BinaryPrimitives.ReadUInt64BigEndian(bytes) : BinaryPrimitives.ReadUInt64LittleEndian(bytes),
            ( < 8, _) => OddInteger(bytes[..type.Size], big, type.IsSigned),
            _ => bytes[..type.Size].ToArray(),
        };
    }

    private static object OddInteger(ReadOnlySpan<byte> bytes, bool big, bool signed)
    {
        ulong value = 0;
        for (var i = 0; i < bytes.Length; i++)
        {
            var b = big ? bytes[i] : bytes[bytes.Length - 1 - i];
            value = (value << 8) | b;
        }

        if (!signed)
        {
            return value;
        }

        var shift = 64 - 8 * bytes.Length;
        return (long)(value << shift) >> shift;
    }

    private object? DecodeElement(Hdf5Datatype type, ReadOnlySpan<byte> e, long offset, int depth)
    {
        if (depth > MaxNesting)
        {
            throw context.Error(path, offset, "attribute value nests too deeply");
        }

        switch (type.Class)
        {
            case Hdf5DatatypeClass.FixedPoint:
                return DecodeInteger(type, e);
            case Hdf5DatatypeClass.Enum:
                return DecodeInteger(type.BaseType!, e);
            case Hdf5DatatypeClass.FloatingPoint:
                return DecodeFloat(type, e);
            case Hdf5DatatypeClass.String:
                return FixedString(type, e);
            case Hdf5DatatypeClass.Compound:
                {
                    var result = new Dictionary<string, object?>(type.Members.Count, StringComparer.Ordinal);
                    foreach (var member in type.Members)
                    {
                        result[member.Name] = DecodeElement(member.Datatype, e.Slice(member.Offset, member.Datatype.Size), offset + member.Offset, depth + 1);
                    }

                    return result;
                }

            case Hdf5DatatypeClass.Array:
                {
                    long count = 1;
                    foreach (var d in type.ArrayDimensions)
                    {
                        count *= d;
                    }

                    return DecodeArray(type.BaseType!, e, (int)count, offset, depth + 1);
                }

            case Hdf5DatatypeClass.Reference:
                return DecodeReference(type, e, offset);
            case Hdf5DatatypeClass.VariableLength:
                {
                    var r = new FieldReader(e, offset, context, path, "variable-length element");
                    var length = r.U32("length");
                    var address = r.Offset("global heap collection address");
                    var index = r.U32("global heap object index");
                    if (length == 0)
                    {
                        return type.IsVariableLengthString ? "" : DecodeArray(type.BaseType!, [], 0, offset, depth + 1);
                    }

                    if (address == Hdf5Context.UndefinedAddress || address == 0)
                    {
                        return type.IsVariableLengthString ? null : DecodeArray(type.BaseType!, [], 0, offset, depth + 1);
                    }

                    var data = heap.Get(address, (int)Math.Min(index, int.MaxValue), path).Span;
                    if (type.IsVariableLengthString)
                    {
                        var bytes = data[..(int)Math.Min(length, (uint)data.Length)];
                        var end = bytes.IndexOf((byte)0);
                        return Encoding.UTF8.GetString(end < 0 ? bytes : bytes[..end]);
                    }

                    var baseType = type.BaseType!;
                    if (baseType.Size > 0 && length > (uint)(data.Length / baseType.Size))
                    {
                        throw context.Error(path, offset, $"variable-length sequence of {length} elements is longer than its {data.Length}-byte heap object");
                    }

                    return DecodeArray(baseType, data, (int)length, offset, depth + 1);
                }

            default:
                return e.ToArray();
        }
    }

    private static object DecodeFloat(Hdf5Datatype type, ReadOnlySpan<byte> e)
    {
        if (type.IsVaxOrder)
        {
            return e.ToArray();
        }

        var big = type.IsBigEndian;
        return type.Size switch
        {
            2 => big ? BinaryPrimitives.ReadHalfBigEndian(e) : BinaryPrimitives.ReadHalfLittleEndian(e),
            4 => big ? BinaryPrimitives.ReadSingleBigEndian(e) : BinaryPrimitives.ReadSingleLittleEndian(e),
            8 => big ? BinaryPrimitives.ReadDoubleBigEndian(e) : BinaryPrimitives.ReadDoubleLittleEndian(e),
            _ => e.ToArray(),
        };
    }

    private static string FixedString(Hdf5Datatype type, ReadOnlySpan<byte> e)
    {
        switch (type.StringPadding)
        {
            case Hdf5StringPadding.NullTerminate:
                {
                    var end = e.IndexOf((byte)0);
                    if (end >= 0)
                    {
                        e = e[..end];
                    }

                    break;
                }

            case Hdf5StringPadding.SpacePad:
                e = e.TrimEnd((byte)' ').TrimEnd((byte)0);
                break;
            default:
                e = e.TrimEnd((byte)0);
                break;
        }

        return Encoding.UTF8.GetString(e);
    }

    private object DecodeReference(Hdf5Datatype type, ReadOnlySpan<byte> e, long offset)
    {
        var r = new FieldReader(e, offset, context, path, "reference");
        if (type.ReferenceKind == Hdf5ReferenceKind.Object && type.Version < 4)
        {
            return new Hdf5ObjectReference(r.Offset("object address"));
        }

        if (type.ReferenceKind == Hdf5ReferenceKind.DatasetRegion && type.Version < 4)
        {
            var address = r.Offset("global heap collection address");
            var index = (int)Math.Min(r.U32("global heap object index"), int.MaxValue);
            long objectAddress = -1;
            if (address > 0)
            {
                var data = heap.Get(address, index, path).Span;
                if (data.Length >= context.OffsetSize)
                {
                    var h = new FieldReader(data, offset, context, path, "region reference");
                    objectAddress = h.Offset("object address");
                }
            }

            return new Hdf5RegionReference(e.ToArray(), address, index) { ObjectAddress = objectAddress };
        }

        return e.ToArray();
    }

    private Array DecodeArray(Hdf5Datatype type, ReadOnlySpan<byte> data, int count, long offset, int depth)
    {
        var size = type.Size;
        if ((long)count * size > data.Length)
        {
            throw context.Error(path, offset, $"{count} elements of {size} bytes do not fit in {data.Length} bytes");
        }

        var big = type.IsBigEndian;
        switch (type.Class)
        {
            case Hdf5DatatypeClass.FixedPoint or Hdf5DatatypeClass.Enum:
                {
                    var integer = type.Class == Hdf5DatatypeClass.Enum ? type.BaseType! : type;
                    big = integer.IsBigEndian;
                    switch (integer.Size, integer.IsSigned)
                    {
                        case (1, true):
                            {
                                var a = new sbyte[count];
                                for (var i = 0; i < count; i++)
                                {
                                    a[i] = (sbyte)data[i];
                                }

                                return a;
                            }

                        case (1, false):
                            return data[..count].ToArray();
                        case (2, true):
                            {
                                var a = new short[count];
                                for (var i = 0; i < count; i++)
                                {
                                    var s = data.Slice(i * 2, 2);
                                    a[i] = big ? BinaryPrimitives.ReadInt16BigEndian(s) : BinaryPrimitives.ReadInt16LittleEndian(s);
                                }

                                return a;
                            }

                        case (2, false):
                            {
                                var a = new ushort[count];
                                for (var i = 0; i < count; i++)
                                {
                                    var s = data.Slice(i * 2, 2);
                                    a[i] = big ? BinaryPrimitives.ReadUInt16BigEndian(s) : BinaryPrimitives.ReadUInt16LittleEndian(s);
                                }

                                return a;
                            }

                        case (4, true):
                            {
                                var a = new int[count];
                                for (var i = 0; i < count; i++)
                                {
                                    var s = data.Slice(i * 4, 4);
                                    a[i] = big ? BinaryPrimitives.ReadInt32BigEndian(s) : BinaryPrimitives.ReadInt32LittleEndian(s);
                                }

                                return a;
                            }

                        case (4, false):
                            {
                                var a = new uint[count];
                                for (var i = 0; i < count; i++)
                                {
                                    var s = data.Slice(i * 4, 4);
                                    a[i] = big ? BinaryPrimitives.ReadUInt32BigEndian(s) : BinaryPrimitives.ReadUInt32LittleEndian(s);
                                }

                                return a;
                            }

                        case (8, true):
                            {
                                var a = new long[count];
                                for (var i = 0; i < count; i++)
                                {
                                    var s = data.Slice(i * 8, 8);
                                    a[i] = big ? BinaryPrimitives.ReadInt64BigEndian(s) : BinaryPrimitives.ReadInt64LittleEndian(s);
                                }

                                return a;
                            }

                        case (8, false):
                            {
                                var a = new ulong[count];
                                for (var i = 0; i < count; i++)
                                {
                                    var s = data.Slice(i * 8, 8);
                                    a[i] = big ? BinaryPrimitives.ReadUInt64BigEndian(s) : BinaryPrimitives.ReadUInt64LittleEndian(s);
                                }

                                return a;
                            }
                    }

                    break;
                }

            case Hdf5DatatypeClass.FloatingPoint when !type.IsVaxOrder:
                switch (size)
                {
                    case 2:
                        {
                            var a = new Half[count];
                            for (var i = 0; i < count; i++)
                            {
                                var s = data.Slice(i * 2, 2);
                                a[i] = big ? BinaryPrimitives.ReadHalfBigEndian(s) : BinaryPrimitives.ReadHalfLittleEndian(s);
                            }

                            return a;
                        }

                    case 4:
                        {
                            var a = new float[count];
                            for (var i = 0; i < count; i++)
                            {
                                var s = data.Slice(i * 4, 4);
                                a[i] = big ? BinaryPrimitives.ReadSingleBigEndian(s) : BinaryPrimitives.ReadSingleLittleEndian(s);
                            }

                            return a;
                        }

                    case 8:
                        {
                            var a = new double[count];
                            for (var i = 0; i < count; i++)
                            {
                                var s = data.Slice(i * 8, 8);
                                a[i] = big ? BinaryPrimitives.ReadDoubleBigEndian(s) : BinaryPrimitives.ReadDoubleLittleEndian(s);
                            }

                            return a;
                        }
                }

                break;
            case Hdf5DatatypeClass.String:
                {
                    var a = new string[count];
                    for (var i = 0; i < count; i++)
                    {
                        a[i] = FixedString(type, data.Slice(i * size, size));
                    }

                    return a;
                }

            case Hdf5DatatypeClass.VariableLength when type.IsVariableLengthString:
                {
                    var a = new string?[count];
                    for (var i = 0; i < count; i++)
                    {
                        a[i] = (string?)DecodeElement(type, data.Slice(i * size, size), offset + (long)i * size, depth + 1);
                    }

                    return a;
                }

            case Hdf5DatatypeClass.Compound:
                {
                    var a = new IReadOnlyDictionary<string, object?>[count];
                    for (var i = 0; i < count; i++)
                    {
                        a[i] = (IReadOnlyDictionary<string, object?>)DecodeElement(type, data.Slice(i * size, size), offset + (long)i * size, depth + 1)!;
                    }

                    return a;
                }

            case Hdf5DatatypeClass.Reference when type.Version < 4 && type.ReferenceKind == Hdf5ReferenceKind.Object:
                {
                    var a = new Hdf5ObjectReference[count];
                    for (var i = 0; i < count; i++)
                    {
                        a[i] = (Hdf5ObjectReference)DecodeReference(type, data.Slice(i * size, size), offset + (long)i * size);
                    }

                    return a;
                }

            case Hdf5DatatypeClass.Reference when type.Version < 4 && type.ReferenceKind == Hdf5ReferenceKind.DatasetRegion:
                {
                    var a = new Hdf5RegionReference[count];
                    for (var i = 0; i < count; i++)
                    {
                        a[i] = (Hdf5RegionReference)DecodeReference(type, data.Slice(i * size, size), offset + (long)i * size);
                    }

                    return a;
                }

            case Hdf5DatatypeClass.VariableLength or Hdf5DatatypeClass.Array:
                {
                    var a = new object?[count];
                    for (var i = 0; i < count; i++)
                    {
                        a[i] = DecodeElement(type, data.Slice(i * size, size), offset + (long)i * size, depth + 1);
                    }

                    return a;
                }
        }

        var raw = new byte[count][];
        for (var i = 0; i < count; i++)
        {
            raw[i] = data.Slice(i * size, size).ToArray();
        }

        return raw;
    }
}
